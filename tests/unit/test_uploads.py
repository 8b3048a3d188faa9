"""Uploads are parsed, not recognised by their first bytes (issue 20, finding 6): a
decompression bomb is refused from its header, a PDF that runs or opens something is refused,
a polyglot is refused (PDF) or kept as the image alone (JPEG, PNG), and any bytes give a
checked file or a refusal on the field, never a crash."""

from __future__ import annotations

import io
import time
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from PIL import Image

from civicstack.kit.errors import Invalid
from civicstack.kit.uploads import JPEG, PDF, PNG, REASONS, Refusal, check_upload
from tests.support import uploads
from tests.support.uploads import HTML, PDF_OPENING_JAVASCRIPT, jpeg, jpeg_with_html, pdf, png

MB = 1024 * 1024


def refusal_of(content: bytes, media_type: str, **options: Any) -> str:
    with pytest.raises(Invalid) as refused:
        check_upload("document", content, media_type, max_bytes=5 * MB, **options)
    assert refused.value.errors[0].field == "document"
    return refused.value.errors[0].reason


def test_a_decompression_bomb_is_refused_from_its_header_without_being_decoded() -> None:
    bomb = uploads.png_bomb()  # 20000 × 20000 pixels in about 50 KB
    assert len(bomb) < 100_000
    started = time.monotonic()
    assert refusal_of(bomb, PNG) == REASONS[Refusal.TOO_MANY_PIXELS]
    assert time.monotonic() - started < 1


@pytest.mark.parametrize("content", [
    PDF_OPENING_JAVASCRIPT,
    uploads.pdf_with_compressed_javascript(),
    # names written with escapes (#61 is "a", #53 "S") are the same names to a viewer
    pdf(b"/OpenAction 4 0 R", b"<< /S /J#61vaScript /J#53 (app.alert\\(1\\)) >>"),
    pdf(b"/AA << /O 4 0 R >>", b"<< /S /GoTo /D [3 0 R /Fit] >>"),  # runs on an event
    pdf(b"/OpenAction 4 0 R", b"<< /S /Launch /F (cmd.exe) >>"),
    pdf(b"/OpenAction 4 0 R", b"<< /S /URI /URI (javascript:app.alert\\(1\\)) >>"),
    pdf(b"/OpenAction 4 0 R", b"<< /S /GoToR /F (\\\\\\\\attacker\\\\share\\\\a.pdf) >>"),
    pdf(b"/Names << /EmbeddedFiles 4 0 R >>", b"<< /Names [(a.exe) 5 0 R] >>",
        b"<< /Type /Filespec /F (a.exe) /EF << >> >>"),
    pdf(b"/AcroForm << /Fields [] /XFA 4 0 R >>", b"[(template) 5 0 R]", b"<< >>"),
], ids=["open-action-script", "script-in-object-stream", "escaped-names", "additional-action",
        "launch", "javascript-link", "remote-file", "attached-file", "xfa-form"])
def test_a_pdf_that_runs_or_opens_something_is_refused(content: bytes) -> None:
    assert refusal_of(content, PDF) == REASONS[Refusal.ACTIVE_CONTENT]


@pytest.mark.parametrize("content", [
    pdf(before=HTML), pdf(after=HTML), pdf(after=b"\n" + HTML + b"\n%%EOF\n"),
    pdf().replace(b"%\xe2\xe3\xcf\xd3", b"%" + HTML),  # a page hidden in a comment
], ids=["html-before", "html-after", "html-before-a-second-end", "html-in-a-comment"])
def test_a_pdf_that_is_also_a_web_page_is_refused(content: bytes) -> None:
    assert refusal_of(content, PDF) == REASONS[Refusal.HIDDEN_CONTENT]


def test_a_plain_pdf_with_a_web_link_is_kept_as_sent() -> None:
    letter = pdf(b"/OpenAction [3 0 R /Fit]",
                 b"<< /S /URI /URI (https://dichvucong.gov.vn) >>") + b"\r\n"
    checked = check_upload("document", letter, PDF, max_bytes=5 * MB)
    assert (checked.media_type, checked.content) == (PDF, letter)


def test_an_image_is_kept_as_its_pixels_alone_without_html_or_metadata() -> None:
    exif = Image.Exif()
    exif[0x8825] = {2: (21.0, 1.0, 30.0)}  # GPS latitude: where the photo was taken
    for content, media_type in ((jpeg_with_html(), JPEG), (jpeg(exif=exif.tobytes()), JPEG),
                                (png() + HTML, PNG)):
        kept = check_upload("document", content, media_type, max_bytes=5 * MB)
        assert b"<script" not in kept.content
        reopened = Image.open(io.BytesIO(kept.content))
        assert (reopened.format, reopened.size) == (media_type.split("/")[1].upper(), (64, 48))
        assert not reopened.getexif()
        assert not {"comment", "exif"} & set(reopened.info)


def test_a_turned_photo_is_kept_upright_since_its_exif_is_dropped() -> None:
    exif = Image.Exif()
    exif[0x0112] = 6  # "rotate 90° clockwise to view"
    kept = check_upload("document", jpeg(64, 48, exif=exif.tobytes()), JPEG, max_bytes=5 * MB)
    assert Image.open(io.BytesIO(kept.content)).size == (48, 64)


@pytest.mark.parametrize(("content", "media_type", "refusal"), [
    (PDF_OPENING_JAVASCRIPT, "text/html", Refusal.NOT_ALLOWED),
    (b"", PDF, Refusal.EMPTY),
    (png(), JPEG, Refusal.MISLABELLED),
    (b"<html>not a pdf</html>", PDF, Refusal.MISLABELLED),
    (b"%PDF-1.7\n1 0 obj <</Type /Catalog>> endobj\n%%EOF\n", PDF, Refusal.DAMAGED),
    (png()[:40], PNG, Refusal.DAMAGED),
    (jpeg()[:200], JPEG, Refusal.DAMAGED),
])
def test_a_file_not_of_its_type_or_damaged_is_refused(content: bytes, media_type: str,
                                                      refusal: Refusal) -> None:
    assert refusal_of(content, media_type) == REASONS[refusal]


def test_a_form_says_in_its_own_words_what_it_already_explained() -> None:
    assert refusal_of(pdf() + b" " * (5 * MB), PDF,
                      words={Refusal.TOO_LARGE: "at most 5 MB"}) == "at most 5 MB"
    assert refusal_of(png(), PNG, allowed=(PDF,)) == REASONS[Refusal.NOT_ALLOWED]


def _checked_or_refused_on_the_field(content: bytes, media_type: str) -> bool:
    try:
        check_upload("document", content, media_type, max_bytes=5 * MB)
    except Invalid as refused:
        return refused.errors[0].field == "document"
    return True


@settings(max_examples=200, deadline=None)
@given(st.sampled_from([(PDF, pdf()), (PNG, png()), (JPEG, jpeg())]),
       st.binary(max_size=64), st.integers(min_value=0, max_value=400))
def test_any_damage_to_a_file_gives_a_checked_file_or_a_refusal(
        typed: tuple[str, bytes], damage: bytes, at: int) -> None:
    media_type, content = typed
    assert _checked_or_refused_on_the_field(
        content[:at] + damage + content[at + len(damage):], media_type)
