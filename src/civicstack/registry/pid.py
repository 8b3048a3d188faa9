"""The 12-digit personal identification number: structure, consistency, and its digits.

Digits 1-3: pre-reform code of the province where the birth was registered ("001" Hà Nội);
digit 4: century and sex (1900s 0/1, 2000s 2/3, 2100s 4/5, 2200s 6/7, 2300s 8/9; even = male);
digits 5-6: last two digits of the birth year; digits 7-12: serial. There is no check digit.
"""

from __future__ import annotations

from datetime import date
from typing import NamedTuple

from civicstack.registry.models import Sex

FIRST_CENTURY = 1900
LAST_YEAR = FIRST_CENTURY + 5 * 100 - 1
SERIAL_LIMIT = 1_000_000


class PidParts(NamedTuple):  # a tuple: one is made for every row of an import
    province_code: str  # two-digit pre-reform province code, e.g. "01"
    birth_year: int
    sex: Sex
    serial: int

    @property
    def prefix(self) -> str:
        return compose_prefix(self.province_code, self.birth_year, self.sex)


def century_sex_digit(birth_year: int, sex: Sex) -> int:
    if not FIRST_CENTURY <= birth_year <= LAST_YEAR:
        raise ValueError(f"birth year {birth_year} is outside {FIRST_CENTURY}-{LAST_YEAR}")
    return (birth_year - FIRST_CENTURY) // 100 * 2 + (1 if sex == Sex.FEMALE else 0)


def compose_prefix(province_code: str, birth_year: int, sex: Sex) -> str:
    return f"0{province_code}{century_sex_digit(birth_year, sex)}{birth_year % 100:02d}"


def compose(province_code: str, birth_year: int, sex: Sex, serial: int) -> str:
    if not 0 <= serial < SERIAL_LIMIT:
        raise ValueError("serial must have at most six digits")
    return f"{compose_prefix(province_code, birth_year, sex)}{serial:06d}"


def parse(number: str, known_province_codes: frozenset[str]) -> PidParts:
    """Split a number into its parts, raising ValueError with the reason when it is malformed."""
    if len(number) != 12 or not number.isdigit():
        raise ValueError("must be exactly 12 digits")
    if number[0] != "0" or number[1:3] not in known_province_codes:
        raise ValueError(f"'{number[:3]}' is not a province code")
    birth_year, sex = birth_year_and_sex(number)
    return PidParts(number[1:3], birth_year, sex, int(number[6:]))


def birth_year_and_sex(number: str) -> tuple[int, Sex]:
    """What digits 4 to 6 of a well-formed number say of its holder."""
    digit = int(number[3])
    century = FIRST_CENTURY + digit // 2 * 100
    return century + int(number[4:6]), Sex.FEMALE if digit % 2 else Sex.MALE


def inconsistencies(
    parts: PidParts, date_of_birth: date, sex: Sex, birth_province_new_code: str,
    province_successor: dict[str, str],
) -> list[tuple[str, str]]:
    """(field, reason) pairs where the number disagrees with the person's own data."""
    problems: list[tuple[str, str]] = []
    if parts.birth_year != date_of_birth.year:
        problems.append(("date_of_birth", f"year {date_of_birth.year} does not match the ID "
                         f"number, which encodes {parts.birth_year}"))
    if parts.sex != sex:
        problems.append(("sex", f"the ID number encodes sex {parts.sex.value}"))
    successor = province_successor.get(parts.province_code)
    if successor != birth_province_new_code:
        problems.append(("place_of_birth_province_code",
                         f"the ID number was registered in old province {parts.province_code}, "
                         f"now part of province {successor}, not {birth_province_new_code}"))
    return problems
