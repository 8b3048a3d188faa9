"""The Vietnamese tax code (mã số thuế) of an organisation: format and check digit, nothing else.

A tax code is ten digits, or ten digits, a dash and a three-digit branch number (001-999) for
a dependent unit such as a branch, whose first ten digits are its parent's code. Digits three
to nine are a serial from 0000001; the tenth is a check digit over the first nine:
10 - (sum of digit x weight) mod 11, with the weights below. A sum divisible by 11 would need
a check digit of 10, so such serials are never issued and no such code is valid. (The rule as
python-stdnum's `stdnum.vn.mst` applies it; real codes 0100233488 and 0314409058 obey it.)
"""

from __future__ import annotations

import re

from civicstack.kit.i18n import N_

WEIGHTS = (31, 29, 23, 19, 17, 13, 7, 5, 3)
_SEPARATORS = re.compile(r"[\s.]")
_SHAPE = re.compile(r"([0-9]{10})(?:-?([0-9]{3}))?")


class InvalidTaxCode(ValueError):
    """Why a text is not a tax code, in words a person can act on."""


def check_digit(first_nine: str) -> int | None:
    """The check digit of nine digits; None when no valid code starts with them."""
    if len(first_nine) != len(WEIGHTS) or not first_nine.isascii() or not first_nine.isdigit():
        raise ValueError("nine digits expected")
    check = 10 - sum(int(d) * w for d, w in zip(first_nine, WEIGHTS, strict=True)) % 11
    return check if check < 10 else None


def normalise(text: str) -> str:
    """The canonical form, "0100233488" or "0314409058-002", or InvalidTaxCode saying why.

    Spaces and dots people type as grouping are dropped; a 13-digit code without its dash is
    accepted, because invoices print both forms.
    """
    match = _SHAPE.fullmatch(_SEPARATORS.sub("", text))
    if match is None:
        raise InvalidTaxCode(N_("A tax code is 10 digits, or 10 digits, a dash and a 3-digit "
                                "branch number (e.g. 0314409058-001)."))
    main, branch = match.groups()
    if main[2:9] == "0000000":
        raise InvalidTaxCode(N_("Digits 3 to 9 of a tax code are a serial starting at "
                                "0000001."))
    if branch == "000":
        raise InvalidTaxCode(N_("Branch numbers run from 001 to 999."))
    if check_digit(main[:9]) != int(main[9]):
        raise InvalidTaxCode(N_("The tenth digit (the check digit) does not match the others: "
                                "look for a mistyped digit."))
    return f"{main}-{branch}" if branch else main


def is_valid(text: str) -> bool:
    try:
        normalise(text)
    except InvalidTaxCode:
        return False
    return True


def parent_of(tax_code: str) -> str | None:
    """The parent organisation's code of a branch code (already normalised); None for a
    10-digit code, which has no parent."""
    return tax_code[:10] if len(tax_code) == 14 else None
