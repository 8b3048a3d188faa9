"""Weak-password refusal: breached passwords (and the same with digits stuck on), passwords
built from the owner's own facts, and what a good passphrase looks like."""

from __future__ import annotations

import pytest

from civicstack.identity.passwords import weakness

AN = ["001090000123", "1990-05-17", "17051990", "Nguyễn Văn An", "Nguyễn", "Văn", "An"]


@pytest.mark.parametrize("password", [
    "baseball1234", "iloveyou2024", "sunshine1990!", "Superman123456", "matkhau123",
    "qwertyuiop", "anhyeuem123"])
def test_breached_passwords_and_their_decorated_forms_are_refused(password: str) -> None:
    assert weakness(password, AN) == "this password is too common or appears in leaked " \
                                     "password lists"


@pytest.mark.parametrize("password", ["nguyenvanan99", "An17051990xyz", "x001090000123"])
def test_passwords_built_from_the_owners_facts_are_refused(password: str) -> None:
    reason = weakness(password, AN)
    assert reason is not None
    assert "name, birth date or ID number" in reason


@pytest.mark.parametrize("password", ["correct horse battery", "Tôi yêu Hà Nội mùa thu",
                                      "mây trắng bay 7 phương"])
def test_a_passphrase_of_unrelated_words_is_accepted(password: str) -> None:
    assert weakness(password, AN) is None


def test_length_limits() -> None:
    assert weakness("short1!", AN) == "use between 10 and 128 characters"
    assert weakness("x" * 129, AN) == "use between 10 and 128 characters"
