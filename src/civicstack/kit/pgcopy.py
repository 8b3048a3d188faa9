"""PostgreSQL's COPY text format, for rows formatted away from the connection that loads them
(a parser process), so that the loading process only joins and sends text."""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterable
from datetime import date, datetime
from typing import Any

NULL = "\\N"


def _escaped(text: str) -> str:
    """Backslash, tab, newline and carriage return are the format's own characters. Nearly
    all text holds none (isprintable is false for the last three): two C-level tests then
    replace four searches and replacements."""
    if "\\" not in text and text.isprintable():
        return text
    return (text.replace("\\", "\\\\").replace("\t", "\\t").replace("\n", "\\n")
            .replace("\r", "\\r"))


# A batch's rows share one instant: its text is computed once.
_instant = functools.lru_cache(maxsize=4)(datetime.isoformat)

# By exact type, one dictionary probe per field (this runs for every field of every row).
_FORMATS: dict[type, Callable[[Any], str]] = {
    str: _escaped, int: str, type(None): lambda _: NULL, bool: lambda flag: "t" if flag else "f",
    date: date.isoformat, datetime: _instant,
}


def copy_line(values: Iterable[Any]) -> str:
    """One row: NULL as \\N, text escaped, dates and instants in ISO form; fields separated
    by tabs, without the line's end."""
    return "\t".join([_FORMATS[type(value)](value) for value in values])
