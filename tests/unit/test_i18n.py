"""Every string a user can see has a Vietnamese translation; the locale choice is predictable."""

from __future__ import annotations

from datetime import UTC, datetime
from functools import cache
from pathlib import Path

import pytest
from babel.messages.extract import DEFAULT_KEYWORDS, extract_from_dir
from babel.messages.frontend import parse_mapping_cfg
from babel.messages.pofile import read_po

from civicstack.kit.i18n import (
    ERROR_KEYWORDS,
    LOCALE_DIR,
    SUPPORTED_LOCALES,
    negotiate_locale,
    translations,
)
from civicstack.kit.web import local_time

ROOT = Path(__file__).resolve().parents[2]


@cache
def extracted_messages() -> frozenset[str | tuple[str, ...]]:
    """What `make messages` extracts: the project's babel.cfg and the same keywords."""
    with (ROOT / "babel.cfg").open() as config:
        method_map, options_map = parse_mapping_cfg(config)
    keywords = {**DEFAULT_KEYWORDS, **ERROR_KEYWORDS}
    return frozenset(message for _, _, message, _, _ in extract_from_dir(
        str(ROOT), method_map, options_map, keywords=keywords))


def msgid(message: str | tuple[str, ...]) -> str:
    """A message's key in a catalogue: its singular, for one with a plural."""
    return message if isinstance(message, str) else message[0]


def test_every_user_visible_message_has_a_vietnamese_translation() -> None:
    vi = translations("vi")
    messages = extracted_messages()
    assert len(messages) > 50
    untranslated = [m for m in messages if isinstance(m, str) and vi.gettext(m) == m]
    assert untranslated == []
    for singular, plural in (m for m in messages if isinstance(m, tuple)):
        assert vi.ngettext(singular, plural, 2) != plural


@pytest.mark.parametrize("locale", SUPPORTED_LOCALES)
def test_every_entry_of_a_catalogue_is_still_extracted(locale: str) -> None:
    """`make messages` marks obsolete, and so stops translating, every entry extraction no
    longer finds: a string shown through _() on a runtime value (a dict's, a constant's, an
    error's) must be marked with N_ where it is written, and an entry nothing uses removed."""
    with (LOCALE_DIR / locale / "LC_MESSAGES" / "messages.po").open("rb") as handle:
        catalogue = read_po(handle, locale=locale)
    extracted = {msgid(message) for message in extracted_messages()}
    kept = {msgid(message.id) for message in catalogue if message.id}
    assert sorted(kept - extracted) == []


@pytest.mark.parametrize(("query", "cookie", "header", "expected"), [
    ("en", "vi", "vi-VN", "en"),
    (None, "en", "vi-VN", "en"),
    (None, None, "en-GB,en;q=0.9", "en"),
    (None, None, "fr-FR", "vi"),
    ("xx", None, None, "vi"),
])
def test_explicit_choice_beats_cookie_beats_browser_beats_default(
        query: str | None, cookie: str | None, header: str | None, expected: str) -> None:
    assert negotiate_locale(query, cookie, header, "vi") == expected


def test_times_are_shown_in_vietnam_time_whatever_the_database_returns() -> None:
    assert local_time(datetime(2026, 11, 24, 20, 30, tzinfo=UTC)) == "25/11/2026 03:30"
    assert local_time(datetime(2026, 11, 24, 20, 30)) == "25/11/2026 03:30"  # SQLite: naive


def test_a_domain_error_shown_on_a_page_is_translated() -> None:
    assert "khớp" in translations("vi").gettext(
        "these details do not match a living person in the population register")
