"""Text as people type it: kept composed (NFC) and free of control characters, and folded for
matching (lower case, no diacritics, single spaces)."""

from __future__ import annotations

import re
import unicodedata
from functools import lru_cache
from typing import Annotated

from pydantic import AfterValidator

from civicstack.kit.errors import Invalid

# NUL, the other C0 controls, DEL and the C1 controls: no keyboard types them, NUL cuts a
# string short in C code and PostgreSQL refuses it in text. A paragraph keeps its tabs and line
# breaks (a browser sends a textarea's as CR LF).
_CONTROLS_IN_A_LINE = re.compile(r"[\x00-\x1f\x7f-\x9f]")
_CONTROLS_IN_A_PARAGRAPH = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]")


def has_control_character(text: str, *, multiline: bool = False) -> bool:
    # isprintable() is a fast C pass, true of nearly all text; only the rest is searched.
    controls = _CONTROLS_IN_A_PARAGRAPH if multiline else _CONTROLS_IN_A_LINE
    return not text.isprintable() and controls.search(text) is not None


def typed_text(field_name: str, text: str, *, multiline: bool = False) -> str:
    """What someone typed, as it is kept: composed (NFC), so that a name is one sequence of
    code points however the keyboard sent its letters ('ễ' whole, or 'e' and two marks) and is
    stored, compared and shown alike; refused next to its field when it holds a control
    character."""
    if has_control_character(text, multiline=multiline):
        raise Invalid(field_name, "contains a control character: type plain text only")
    return unicodedata.normalize("NFC", text)


def _typed_line(text: str) -> str:
    try:
        return typed_text("text", text)
    except Invalid as refusal:  # Pydantic names the field itself
        raise ValueError(refusal.errors[0].reason) from None


# A one-line text field of a JSON body, checked and composed like typed_text.
TypedLine = Annotated[str, AfterValidator(_typed_line)]


@lru_cache(maxsize=1)
def _without_marks() -> dict[int, None]:
    """Every combining mark (all lie below U+30000), mapped to nothing: str.translate removes
    them in one C-level pass instead of a Python test per character. Built at the first fold,
    not at import (it takes tens of milliseconds)."""
    return dict.fromkeys(code for code in range(0x30000) if unicodedata.combining(chr(code)))


@lru_cache(maxsize=200_000)  # names repeat a lot: "Nguyễn", "Văn", "Thị"...
def fold(text: str) -> str:
    """Lower-case and strip Vietnamese diacritics ('Đồng Hới' -> 'dong hoi') for matching."""
    decomposed = unicodedata.normalize("NFD", text.replace("Đ", "D").replace("đ", "d"))
    return " ".join(decomposed.translate(_without_marks()).lower().split())
