"""Vietnamese and English: catalogues compiled from the committed .po files at first use."""

from __future__ import annotations

import gettext
from functools import lru_cache
from io import BytesIO
from pathlib import Path

from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from babel.support import Translations

SUPPORTED_LOCALES = ("vi", "en")
# The reasons domain errors give are shown on pages too (translated there with _()), so their
# literal messages are extracted like _() strings. `make messages` passes the same keywords.
ERROR_KEYWORDS: dict[str, tuple[int, ...] | None] = {
    "Invalid": (2,), "FieldError": (2,), "Forbidden": None, "Conflict": None,
    "NotFound": None, "Unauthorized": None, "PresentationRefused": None,
}
LOCALE_DIR = Path(__file__).resolve().parent.parent / "locale"


@lru_cache
def translations(locale: str) -> gettext.NullTranslations:
    """Compile the .po in memory so a stale, separately built .mo can never be served."""
    po_path = LOCALE_DIR / locale / "LC_MESSAGES" / "messages.po"
    if locale not in SUPPORTED_LOCALES or not po_path.exists():
        return gettext.NullTranslations()
    with po_path.open("rb") as handle:
        catalog = read_po(handle, locale=locale)
    buffer = BytesIO()
    write_mo(buffer, catalog)
    buffer.seek(0)
    return Translations(buffer)


def negotiate_locale(
    query_lang: str | None, cookie_lang: str | None, accept_language: str | None, default: str,
) -> str:
    """Explicit choice first (query, then cookie), then the browser's preference, then default."""
    for candidate in (query_lang, cookie_lang):
        if candidate in SUPPORTED_LOCALES:
            return candidate
    for part in (accept_language or "").split(","):
        tag = part.split(";")[0].strip().lower()[:2]
        if tag in SUPPORTED_LOCALES:
            return tag
    return default if default in SUPPORTED_LOCALES else SUPPORTED_LOCALES[0]


class Message(str):
    """A sentence made from a template marked for translation and its values. As a string it
    is the English sentence (what the API answers and the logs keep); `localise` makes it in
    another language, translating the template and every value that is itself a Message (a
    role's name, say) but no other value (a person's name, a ward's name)."""

    template: str
    values: dict[str, object]

    def __new__(cls, template: str, **values: object) -> Message:
        message = super().__new__(cls, template % values if values else template)
        message.template, message.values = template, values
        return message

    def __reduce__(self) -> tuple[object, ...]:  # copies keep the template, not only the text
        return _message, (self.template, self.values)


def _message(template: str, values: dict[str, object]) -> Message:
    return Message(template, **values)


def localise(locale: str, text: str) -> str:
    """`text` in this locale: a Message made again from its translated template, any other
    string looked up as it is (an untranslated one stays English)."""
    catalogue = translations(locale)
    if not isinstance(text, Message):
        return catalogue.gettext(text)
    if not text.values:
        return catalogue.gettext(text.template)
    return catalogue.gettext(text.template) % {
        name: localise(locale, value) if isinstance(value, Message) else value
        for name, value in text.values.items()}


def translate(locale: str, message: str, **values: object) -> str:
    text = localise(locale, message)
    return text % values if values else text


def N_(message: str) -> str:  # noqa: N802 (the name extractors look for)
    """Mark a message for extraction; it is translated where it is shown."""
    return message
