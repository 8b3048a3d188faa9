"""English left on a Vietnamese page: the catalogue's sentences that its Vietnamese translates,
found in a page's text, and the English refusals that came before the catalogue had them."""

from __future__ import annotations

import html
import re
from functools import cache

from babel.messages.pofile import read_po

from civicstack.kit.i18n import LOCALE_DIR

TAGS = re.compile(r"<(script|style)\b.*?</\1>|<[^>]+>", re.S)
# What refusals said in English before they were sentences of the catalogue.
ENGLISH_REFUSALS = re.compile(r"lacks the|role may|outside your scope|permission\b")


@cache
def translated_sentences() -> frozenset[str]:
    """The catalogue's English sentences that its Vietnamese does not keep: those of two words
    or more and without values to fill in (a single word such as "Email" may stand in both
    languages, and a template's text is split by its values)."""
    with (LOCALE_DIR / "vi" / "LC_MESSAGES" / "messages.po").open("rb") as handle:
        catalogue = read_po(handle, locale="vi")
    return frozenset(
        message.id for message in catalogue
        if isinstance(message.id, str) and message.string and message.id not in message.string
        and " " in message.id and "%" not in message.id and "<" not in message.id)


def page_text(page: str) -> str:
    return " ".join(html.unescape(TAGS.sub(" ", page)).split())


def english_left(page: str) -> list[str]:
    """The English sentences and refusals found in a page's HTML, which should be Vietnamese."""
    text = page_text(page)
    return sorted(sentence for sentence in translated_sentences() if sentence in text) + \
        ENGLISH_REFUSALS.findall(text)
