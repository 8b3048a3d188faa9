"""Folding Vietnamese text for matching: lower case, no diacritics, single spaces."""

from __future__ import annotations

import unicodedata
from functools import lru_cache


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
