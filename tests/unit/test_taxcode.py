"""The organisation tax code: shape, branch numbers and the check digit."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from civicstack.organisations import taxcode
from civicstack.organisations.taxcode import InvalidTaxCode

# Real codes, as printed on invoices (the examples python-stdnum documents for stdnum.vn.mst).
REAL = ("0100233488", "0314409058", "0100112437", "0312687878")

nine_digits = st.text(alphabet="0123456789", min_size=9, max_size=9).filter(
    lambda digits: digits[2:] != "0000000")


def weighted_sum(first_nine: str) -> int:
    return sum(int(d) * w for d, w in zip(first_nine, taxcode.WEIGHTS, strict=True))


@pytest.mark.parametrize("code", REAL)
def test_real_tax_codes_are_valid(code: str) -> None:
    assert taxcode.normalise(code) == code


def test_the_check_digit_of_a_real_code_worked_by_hand() -> None:
    # 0100233488: 0*31 + 1*29 + 0*23 + 0*19 + 2*17 + 3*13 + 3*7 + 4*5 + 8*3 = 167;
    # 167 mod 11 = 2; 10 - 2 = 8, the tenth digit.
    assert weighted_sum("010023348") == 167
    assert taxcode.check_digit("010023348") == 8


@pytest.mark.parametrize(("typed", "canonical"), [
    ("0314409058-002", "0314409058-002"),
    ("0314409058002", "0314409058-002"),
    ("  0312 68 78 78 - 001 ", "0312687878-001"),
    ("01.00.112.437", "0100112437"),
])
def test_grouping_people_type_is_dropped_and_branches_get_their_dash(
        typed: str, canonical: str) -> None:
    assert taxcode.normalise(typed) == canonical


@pytest.mark.parametrize(("text", "reason"), [
    ("", "10 digits"),
    ("12345", "10 digits"),
    ("01002334881", "10 digits"),  # 11 digits
    ("0100233488-01", "10 digits"),
    ("0100233488-0001", "10 digits"),
    ("010023348a", "10 digits"),
    ("０１００２３３４８８", "10 digits"),  # full-width digits are not ASCII digits
    ("0100233480", "check digit"),
    ("0314409058-000", "001 to 999"),
    ("0100000001", "serial"),  # digits 3-9 all zero
])
def test_malformed_codes_are_refused_with_a_reason(text: str, reason: str) -> None:
    with pytest.raises(InvalidTaxCode, match=reason):
        taxcode.normalise(text)
    assert not taxcode.is_valid(text)


def test_branches_name_their_parent_and_head_offices_have_none() -> None:
    assert taxcode.parent_of("0314409058-002") == "0314409058"
    assert taxcode.parent_of("0314409058") is None


@given(nine_digits)
def test_exactly_one_check_digit_fits_or_none_when_the_sum_divides_by_11(first: str) -> None:
    fitting = [d for d in range(10) if taxcode.is_valid(f"{first}{d}")]
    if weighted_sum(first) % 11 == 0:
        assert fitting == []
        assert taxcode.check_digit(first) is None
    else:
        assert fitting == [taxcode.check_digit(first)]


@given(nine_digits, st.integers(min_value=1, max_value=999))
def test_every_branch_number_of_a_valid_code_is_valid(first: str, branch: int) -> None:
    check = taxcode.check_digit(first)
    if check is not None:
        code = f"{first}{check}-{branch:03d}"
        assert taxcode.normalise(code) == code
        assert taxcode.parent_of(code) == f"{first}{check}"


@given(nine_digits, st.integers(min_value=0, max_value=8), st.integers(min_value=1, max_value=9))
def test_any_single_digit_typo_is_caught(first: str, position: int, shift: int) -> None:
    check = taxcode.check_digit(first)
    if check is None:
        return
    code = f"{first}{check}"
    typo = code[:position] + str((int(code[position]) + shift) % 10) + code[position + 1:]
    if typo[2:9] != "0000000":
        # every weight is prime to 11 and below it, so one changed digit changes the sum mod 11
        assert not taxcode.is_valid(typo)
