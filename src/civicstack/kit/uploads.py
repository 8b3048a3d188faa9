"""Files people upload (a dossier's papers, a task's evidence, a lesson's file): recognised by
parsing them, never by their first bytes alone, and kept only as what was checked.

An image's size is read from its header and refused above MAX_PIXELS before any pixel is
decoded (a decompression bomb is a small file of billions of pixels); it is then decoded and
encoded again, which keeps the picture and drops everything else: metadata (a phone's
location), comments, and whatever was appended after the image's end (an HTML page that makes
the file a polyglot). A PDF is parsed (pyHanko's reader, which bounds what its streams may
decompress to) and refused when it carries what runs or opens when it is viewed: scripts,
launch and form-submission actions, attached files, multimedia, XFA forms; and when it is also
a web page (something before its header or after its end-of-file marker, HTML markup inside).
A PDF is kept as sent: rewriting it would change what the citizen signed or scanned.

Each refusal is an Invalid on the form's field, in words a person can act on; a domain may say
in its own words the refusals its form already explained (type and size).
"""

from __future__ import annotations

import hashlib
import io
import re
import struct
import warnings
from collections.abc import Collection, Iterator, Mapping
from dataclasses import dataclass
from enum import StrEnum

from PIL import Image, ImageOps, UnidentifiedImageError
from pyhanko.pdf_utils import generic
from pyhanko.pdf_utils.crypt import AuthStatus
from pyhanko.pdf_utils.decode_limits import DecodeLimits
from pyhanko.pdf_utils.reader import PdfFileReader

from civicstack.kit.errors import Invalid
from civicstack.kit.i18n import N_

PDF, JPEG, PNG = "application/pdf", "image/jpeg", "image/png"
DOCUMENT_TYPES = (PDF, JPEG, PNG)
SIGNATURES = {PDF: b"%PDF-", JPEG: b"\xff\xd8\xff", PNG: b"\x89PNG\r\n\x1a\n"}
MAX_PIXELS = 40_000_000  # an A4 page scanned at 600 dpi is 35 Mpx; beyond is a bomb
JPEG_QUALITY = 90
# The modes each format stores as they are; anything else is converted to RGB(A).
KEPT_MODES = {JPEG: frozenset({"L", "RGB"}),
              PNG: frozenset({"1", "L", "LA", "I", "I;16", "P", "RGB", "RGBA"})}
PDF_HEADER_WINDOW = 1024  # viewers look this far for the header: what precedes it is hidden
PDF_TRAILING_SPACE = b" \t\r\n\x0c\x00"
MAX_PDF_OBJECTS = 200_000  # more than a 5 MB file can honestly hold
# Dictionary keys that make a viewer run or open something: scripts, actions run on events
# (page opened, field focused), attached files, Flash/multimedia, XFA forms.
ACTIVE_KEYS = frozenset({"/JS", "/JavaScript", "/AA", "/EmbeddedFile", "/EmbeddedFiles",
                         "/EF", "/RichMediaContent", "/RichMediaSettings", "/XFA"})
# Action types (/S) beyond going to a page or following a web link.
ACTIVE_ACTIONS = frozenset({"/JavaScript", "/Launch", "/GoToR", "/GoToE", "/ImportData",
                            "/SubmitForm", "/RichMediaExecute", "/Rendition", "/Movie",
                            "/Sound"})
ACTIVE_ANNOTATIONS = frozenset({"/FileAttachment", "/RichMedia", "/Screen", "/Movie",
                                "/Sound", "/3D"})
LINK_SCHEMES = frozenset({"http", "https", "mailto", "tel"})
# The same names found in the raw bytes: a viewer that rebuilds a damaged cross-reference
# table finds objects a strict reader never reaches, so what it could run is refused too.
# Only names long enough never to turn up by chance in compressed data.
RAW_ACTIVE_NAMES = frozenset({"JavaScript", "Launch", "EmbeddedFile", "EmbeddedFiles",
                              "RichMedia", "RichMediaExecute", "SubmitForm", "ImportData"})
PDF_NAME = re.compile(rb"/((?:[A-Za-z0-9_.+-]|#[0-9A-Fa-f]{2})+)")
NAME_ESCAPE = re.compile(rb"#([0-9A-Fa-f]{2})")
HTML_MARKUP = re.compile(rb"<(?:!doctype|html|head|body|script|iframe|svg)[\s>/]",
                         re.IGNORECASE)


class Refusal(StrEnum):
    NOT_ALLOWED = "not_allowed"  # a type this form does not take
    EMPTY = "empty"
    TOO_LARGE = "too_large"
    MISLABELLED = "mislabelled"  # the content is not of the type it was sent as
    DAMAGED = "damaged"
    TOO_MANY_PIXELS = "too_many_pixels"
    LOCKED = "locked"  # a PDF that opens only with a password cannot be checked
    ACTIVE_CONTENT = "active_content"
    HIDDEN_CONTENT = "hidden_content"


REASONS: dict[Refusal, str] = {
    Refusal.NOT_ALLOWED: N_("send a PDF, JPEG or PNG file"),
    Refusal.EMPTY: N_("the file is empty"),
    Refusal.TOO_LARGE: N_("the file is too large"),
    Refusal.MISLABELLED: N_("the file's content is not of the type it claims"),
    Refusal.DAMAGED: N_("the file is damaged and cannot be read: save it again and send "
                        "that copy"),
    Refusal.TOO_MANY_PIXELS: N_("the image has too many pixels: at most 40 megapixels"),
    Refusal.LOCKED: N_("the PDF is protected by a password: send a copy without one"),
    Refusal.ACTIVE_CONTENT: N_("the PDF holds scripts, attached files or other content that "
                               "runs when it is opened: print it to a new PDF and send that"),
    Refusal.HIDDEN_CONTENT: N_("the file holds something besides the document, before its "
                               "start or after its end: save it again and send that copy"),
}


class _Refused(Exception):
    def __init__(self, refusal: Refusal) -> None:
        super().__init__(refusal.value)
        self.refusal = refusal


@dataclass(frozen=True)
class CheckedUpload:
    """What is kept of an upload: its type as recognised and its content as checked (an image
    encoded again)."""

    media_type: str
    content: bytes

    @property
    def sha256(self) -> str:
        return hashlib.sha256(self.content).hexdigest()


def check_upload(field: str, content: bytes, media_type: str, *, max_bytes: int,
                 allowed: Collection[str] = DOCUMENT_TYPES,
                 words: Mapping[Refusal, str] | None = None) -> CheckedUpload:
    """The upload as it may be kept, or Invalid(field, reason): the reason in the domain's
    `words` where it has its own, else in REASONS'."""
    try:
        return CheckedUpload(media_type, _checked_content(content, media_type, max_bytes,
                                                          allowed))
    except _Refused as refused:
        reason = (words or {}).get(refused.refusal, REASONS[refused.refusal])
        raise Invalid(field, reason) from refused


def _checked_content(content: bytes, media_type: str, max_bytes: int,
                     allowed: Collection[str]) -> bytes:
    if media_type not in allowed or media_type not in SIGNATURES:
        raise _Refused(Refusal.NOT_ALLOWED)
    if not content:
        raise _Refused(Refusal.EMPTY)
    if len(content) > max_bytes:
        raise _Refused(Refusal.TOO_LARGE)
    if media_type == PDF:
        _check_pdf(content)
        return content
    if not content.startswith(SIGNATURES[media_type]):
        raise _Refused(Refusal.MISLABELLED)
    return _reencoded_image(content, media_type)


# --- images ---------------------------------------------------------------------------------

def _reencoded_image(content: bytes, media_type: str) -> bytes:
    image_format = "JPEG" if media_type == JPEG else "PNG"
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            opened = Image.open(io.BytesIO(content), formats=[image_format])
            if opened.width * opened.height > MAX_PIXELS:  # read from the header alone
                raise _Refused(Refusal.TOO_MANY_PIXELS)
            # Decoded here, upright as the camera's EXIF said, since the EXIF is not kept.
            upright = ImageOps.exif_transpose(opened)
            return _encoded(_plain_pixels(upright, media_type), image_format)
    except (Image.DecompressionBombError, Image.DecompressionBombWarning) as bomb:
        raise _Refused(Refusal.TOO_MANY_PIXELS) from bomb
    except (UnidentifiedImageError, OSError, ValueError, SyntaxError, EOFError,
            struct.error) as corrupt:
        raise _Refused(Refusal.DAMAGED) from corrupt


def _plain_pixels(image: Image.Image, media_type: str) -> Image.Image:
    """The pixels in a mode the format stores as they are, with no palette transparency left
    in `info` (which is not kept)."""
    transparent = "transparency" in image.info
    if image.mode in KEPT_MODES[media_type] and not transparent:
        return image
    if media_type == PNG and (transparent or "A" in image.mode or "a" in image.mode):
        return image.convert("RGBA")
    return image.convert("RGB")


def _encoded(image: Image.Image, image_format: str) -> bytes:
    image.info = {}  # no EXIF, ICC profile, comments or text chunks carried over
    out = io.BytesIO()
    if image_format == "JPEG":
        image.save(out, image_format, quality=JPEG_QUALITY)
    else:
        image.save(out, image_format)
    return out.getvalue()


# --- PDF ------------------------------------------------------------------------------------

def _check_pdf(content: bytes) -> None:
    if not content.startswith(SIGNATURES[PDF]):
        hidden = SIGNATURES[PDF] in content[:PDF_HEADER_WINDOW]
        raise _Refused(Refusal.HIDDEN_CONTENT if hidden else Refusal.MISLABELLED)
    if not content.rstrip(PDF_TRAILING_SPACE).endswith(b"%%EOF") or \
            HTML_MARKUP.search(content):
        raise _Refused(Refusal.HIDDEN_CONTENT)
    if any(_unescaped(name) in RAW_ACTIVE_NAMES for name in PDF_NAME.findall(content)):
        raise _Refused(Refusal.ACTIVE_CONTENT)
    try:
        reader = PdfFileReader(io.BytesIO(content), strict=False,
                               decode_limits=DecodeLimits.for_untrusted_input())
        if reader.encrypted and reader.decrypt(b"").status == AuthStatus.FAILED:
            raise _Refused(Refusal.LOCKED)
        active = any(_is_active(found) for found in _reachable(reader))
    except _Refused:
        raise
    except Exception as unreadable:
        # The parser fails on hostile bytes in dozens of ways; each means the file cannot be
        # read, so it is refused: never a server error.
        raise _Refused(Refusal.DAMAGED) from unreadable
    if active:
        raise _Refused(Refusal.ACTIVE_CONTENT)


def _unescaped(name: bytes) -> str:
    return NAME_ESCAPE.sub(lambda code: bytes([int(code.group(1), 16)]), name).decode(
        "latin-1")


def _reachable(reader: PdfFileReader) -> Iterator[generic.PdfObject]:
    """Every object reachable from the document catalog, where a viewer starts; each numbered
    object once."""
    pending: list[generic.PdfObject] = [reader.root]
    seen: set[tuple[int, int]] = set()
    visited = 0
    while pending:
        found = pending.pop()
        if isinstance(found, generic.IndirectObject):
            if (found.idnum, found.generation) in seen:
                continue
            seen.add((found.idnum, found.generation))
            found = found.get_object()  # type: ignore[no-untyped-call]
        if isinstance(found, generic.DecryptedObjectProxy):
            found = found.decrypted
        visited += 1
        if visited > MAX_PDF_OBJECTS:
            raise _Refused(Refusal.DAMAGED)
        yield found
        if isinstance(found, generic.DictionaryObject):
            pending.extend(found.raw_get(key) for key in found)
        elif isinstance(found, generic.ArrayObject):
            pending.extend(found.raw_get(index) for index in range(len(found)))


def _is_active(found: generic.PdfObject) -> bool:
    if not isinstance(found, generic.DictionaryObject):
        return False
    action = _name(found, "/S")
    return (not ACTIVE_KEYS.isdisjoint(found.keys()) or action in ACTIVE_ACTIONS
            or _name(found, "/Subtype") in ACTIVE_ANNOTATIONS
            or (action == "/URI" and not _is_web_link(found)))


def _name(found: generic.DictionaryObject, key: str) -> str | None:
    value = _value(found, key)
    return str(value) if isinstance(value, generic.NameObject) else None


def _value(found: generic.DictionaryObject, key: str) -> generic.PdfObject | None:
    try:
        value: generic.PdfObject = found[key]  # resolved, where it is a numbered object
    except KeyError:
        return None
    return value


def _is_web_link(link: generic.DictionaryObject) -> bool:
    """A link to a web page, an e-mail address or a telephone number: not `javascript:`, nor
    `file:` or any scheme a viewer might hand to another program."""
    target = _value(link, "/URI")
    if isinstance(target, bytes):
        text = target.decode("latin-1")
    elif isinstance(target, str):
        text = target
    else:
        return target is None
    scheme, colon, _ = text.strip().partition(":")
    return not colon or scheme.lower() in LINK_SCHEMES
