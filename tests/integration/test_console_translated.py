"""Issue 21: every console page, read in Vietnamese by an official of each role, holds no
English sentence the catalogue translates, and no English refusal.

The pages are the console's GET routes as the app lists them (nothing to keep up to date by
hand); each role sees each page, so the refusal pages are read too."""

from __future__ import annotations

import html
import re
from functools import cache

import pytest
from babel.messages.pofile import read_po
from fastapi.routing import iter_route_contexts

from civicstack.kit.authz import Role
from civicstack.kit.i18n import LOCALE_DIR
from tests.support.web import Site

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


def console_pages(site: Site) -> list[str]:
    return sorted({
        str(context.path) for context in iter_route_contexts(site.app.routes)
        if context.path and context.path.startswith("/console") and "{" not in context.path
        and "GET" in (context.methods or set())
        and context.path not in ("/console/login", "/console/login/code")})


def page_text(page: str) -> str:
    return " ".join(html.unescape(TAGS.sub(" ", page)).split())


@pytest.mark.parametrize("role", list(Role))
def test_console_pages_in_vietnamese_keep_no_english_sentence(site: Site, role: Role) -> None:
    site.sign_in_as(role)
    site.client.cookies.set("lang", "vi")
    untranslated: dict[str, list[str]] = {}

    for path in console_pages(site):
        response = site.client.get(path, headers={"Accept": "text/html"})
        if not response.headers["content-type"].startswith("text/html"):
            continue  # a download (CSV, PDF)
        text = page_text(response.text)
        left = sorted(sentence for sentence in translated_sentences() if sentence in text)
        left += ENGLISH_REFUSALS.findall(text)
        if left:
            untranslated[path] = left

    assert untranslated == {}
