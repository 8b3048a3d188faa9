"""Authenticator codes and the sealing of their secrets, without a database."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pyotp
import pytest
from cryptography.exceptions import InvalidTag

from civicstack.identity import totp

SECRET = "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP"
MOMENT = datetime(2026, 11, 25, 9, 0, 10, tzinfo=UTC)


def test_a_sealed_secret_opens_only_with_its_key_and_for_its_own_account() -> None:
    sealed = totp.seal("key", SECRET, "001090000001")
    assert SECRET not in sealed
    assert totp.unseal("key", sealed, "001090000001") == SECRET
    with pytest.raises(InvalidTag):
        totp.unseal("key", sealed, "001090000002")  # copied onto another account's row
    with pytest.raises(InvalidTag):
        totp.unseal("another key", sealed, "001090000001")


def test_sealing_twice_gives_different_ciphertexts() -> None:
    assert totp.seal("key", SECRET, "x") != totp.seal("key", SECRET, "x")


def test_a_code_matches_its_own_step_and_one_either_side() -> None:
    step = totp.step_of(MOMENT)
    generator = pyotp.TOTP(SECRET)
    for offset in (-1, 0, 1):
        code = generator.at((step + offset) * totp.STEP_SECONDS)
        assert totp.matching_step(SECRET, code, MOMENT) == step + offset
    too_old = generator.at(MOMENT - timedelta(seconds=2 * totp.STEP_SECONDS))
    assert totp.matching_step(SECRET, too_old, MOMENT) is None  # fixed inputs: no collision


@pytest.mark.parametrize("typed", ["", "12345", "1234567", "abcdef", "12345a", "١٢٣٤٥٦"])
def test_malformed_codes_match_nothing(typed: str) -> None:
    assert totp.matching_step(SECRET, typed, MOMENT) is None


def test_spaces_inside_a_typed_code_are_ignored() -> None:
    code = pyotp.TOTP(SECRET).at(MOMENT)
    assert totp.matching_step(SECRET, f" {code[:3]} {code[3:]} ", MOMENT) == totp.step_of(MOMENT)


def test_the_provisioning_uri_names_the_issuer_and_the_account() -> None:
    uri = totp.provisioning_uri(SECRET, "001090000001")
    assert uri.startswith("otpauth://totp/CivicStack:001090000001?")
    assert f"secret={SECRET}" in uri
    assert "issuer=CivicStack" in uri

