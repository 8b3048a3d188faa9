"""The personal ID number: its structure and its consistency with the person's data."""

from datetime import date

import pytest
from hypothesis import given
from hypothesis import strategies as st

from civicstack.registry import pid
from civicstack.registry.models import Sex
from civicstack.registry.units import legacy_province_codes

KNOWN = legacy_province_codes()
SUCCESSORS = {"01": "01", "02": "08", "79": "79"}


def test_there_are_63_legacy_province_codes_including_hanoi_and_hcmc() -> None:
    assert len(KNOWN) == 63
    assert {"01", "79", "96"} <= KNOWN


@pytest.mark.parametrize(("year", "sex", "digit"), [
    (1900, Sex.MALE, 0), (1999, Sex.FEMALE, 1), (2000, Sex.MALE, 2), (2025, Sex.FEMALE, 3),
    (2100, Sex.MALE, 4), (2399, Sex.FEMALE, 9),
])
def test_century_sex_digit_follows_the_circular(year: int, sex: Sex, digit: int) -> None:
    assert pid.century_sex_digit(year, sex) == digit


def test_compose_matches_the_published_layout() -> None:
    assert pid.compose("01", 1990, Sex.FEMALE, 12345) == "001190012345"
    assert pid.compose("79", 2003, Sex.MALE, 7) == "079203000007"


@given(
    province=st.sampled_from(sorted(KNOWN)),
    year=st.integers(min_value=1900, max_value=2399),
    sex=st.sampled_from(list(Sex)),
    serial=st.integers(min_value=0, max_value=999_999),
)
def test_parse_inverts_compose(province: str, year: int, sex: Sex, serial: int) -> None:
    parts = pid.parse(pid.compose(province, year, sex, serial), KNOWN)
    assert (parts.province_code, parts.birth_year, parts.sex, parts.serial) == (
        province, year, sex, serial)


@pytest.mark.parametrize(("number", "reason"), [
    ("00119001234", "exactly 12 digits"),
    ("0011900123456", "exactly 12 digits"),
    ("00119001234a", "exactly 12 digits"),
    ("003190012345", "not a province code"),  # 03 was never a province code
    ("101190012345", "not a province code"),
])
def test_malformed_numbers_are_refused_with_the_reason(number: str, reason: str) -> None:
    with pytest.raises(ValueError, match=reason):
        pid.parse(number, KNOWN)


def test_number_consistent_with_its_person_has_no_complaints() -> None:
    parts = pid.parse("001190012345", KNOWN)
    assert pid.inconsistencies(parts, date(1990, 3, 1), Sex.FEMALE, "01", SUCCESSORS) == []


def test_each_disagreement_with_the_person_is_named() -> None:
    parts = pid.parse("001190012345", KNOWN)
    problems = dict(pid.inconsistencies(parts, date(1991, 3, 1), Sex.MALE, "79", SUCCESSORS))
    assert set(problems) == {"date_of_birth", "sex", "place_of_birth_province_code"}
    assert "1990" in problems["date_of_birth"]


def test_old_province_merged_in_2025_is_consistent_with_its_successor() -> None:
    # Hà Giang (02) was merged into Tuyên Quang (08): a Hà Giang number born "in 08" is right.
    parts = pid.parse(pid.compose("02", 1985, Sex.MALE, 1), KNOWN)
    assert pid.inconsistencies(parts, date(1985, 1, 1), Sex.MALE, "08", SUCCESSORS) == []
