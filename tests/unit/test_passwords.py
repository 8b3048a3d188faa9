"""Weak-password refusal: breached passwords (and the same with digits stuck on), passwords
built from the owner's own facts, and what a good passphrase looks like; hashes computed at
most one per core at once."""

from __future__ import annotations

import threading

import pytest

from civicstack.config import get_settings
from civicstack.identity import passwords
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


def test_a_password_check_waits_while_every_core_is_hashing() -> None:
    stored = passwords.hash_password("correct horse battery")
    slots = passwords.hashing_slots()
    held = 0
    while slots.acquire(blocking=False):  # every slot taken, as by a surge of sign-ins
        held += 1
    checked = threading.Event()
    waiting = threading.Thread(target=lambda: passwords.verify_password(
        stored, "correct horse battery") and checked.set())
    try:
        assert held == (get_settings().password_hashing_slots or passwords.cores())
        waiting.start()
        assert not checked.wait(0.5)  # one hash takes ~50 ms: this one waits for a slot
    finally:
        for _ in range(held):
            slots.release()
    assert checked.wait(30)
    waiting.join()


@pytest.mark.parametrize("workers", [2, 3, 64])
def test_serving_processes_share_the_cores_for_hashing(
        workers: int, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(passwords.SLOTS_VARIABLE, raising=False)
    get_settings.cache_clear()
    try:
        passwords.share_cores_among(workers)
        assert get_settings().password_hashing_slots == max(1, passwords.cores() // workers)
    finally:
        monkeypatch.delenv(passwords.SLOTS_VARIABLE, raising=False)
        get_settings.cache_clear()


def test_a_chosen_number_of_hashing_slots_is_kept_and_one_process_takes_every_core(
        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(passwords.SLOTS_VARIABLE, "3")
    get_settings.cache_clear()
    try:
        passwords.share_cores_among(8)
        assert get_settings().password_hashing_slots == 3
        monkeypatch.delenv(passwords.SLOTS_VARIABLE)
        get_settings.cache_clear()
        passwords.share_cores_among(1)
        assert get_settings().password_hashing_slots == 0  # 0: every core (hashing_slots)
    finally:
        get_settings.cache_clear()
