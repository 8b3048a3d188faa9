"""Files to upload in tests: a real one-page PDF and real images that any reader opens, and the
hostile files of issue 20: a decompression bomb, a PDF that runs JavaScript when it is opened,
and files that are at once an image or a PDF and an HTML page (polyglots)."""

from __future__ import annotations

import io
import struct
import zlib

from PIL import Image
from pyhanko.pdf_utils import generic
from pyhanko.pdf_utils.writer import PdfFileWriter

from tests.support.photos import png_chunk

HTML = b"<html><body><script>alert(document.domain)</script></body></html>"
PAGE = b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] >>"


def pdf(catalog: bytes = b"", *extra_objects: bytes, before: bytes = b"",
        after: bytes = b"") -> bytes:
    """A one-page PDF with a correct cross-reference table. `catalog` adds entries to the
    document catalog, `extra_objects` are numbered from 4 on; `before` and `after` put bytes
    ahead of the header and behind the end-of-file marker, as a polyglot does."""
    objects = [b"<< /Type /Catalog /Pages 2 0 R " + catalog + b" >>",
               b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>", PAGE, *extra_objects]
    document = bytearray(b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n")
    offsets = []
    for number, body in enumerate(objects, 1):
        offsets.append(len(document))
        document += b"%d 0 obj\n%s\nendobj\n" % (number, body)
    xref = len(document)
    document += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    document += b"".join(b"%010d 00000 n \n" % offset for offset in offsets)
    document += b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (
        len(objects) + 1, xref)
    return before + bytes(document) + after


PDF = pdf()
PDF_OPENING_JAVASCRIPT = pdf(b"/OpenAction 4 0 R",
                             b"<< /Type /Action /S /JavaScript /JS (app.alert\\(1\\)) >>")


def pdf_with_compressed_javascript() -> bytes:
    """A PDF whose opening script sits in a compressed object stream: no trace of it in the
    file's bytes, only a parser finds it."""
    writer = PdfFileWriter(stream_xrefs=True)
    script = generic.DictionaryObject({
        generic.NameObject("/S"): generic.NameObject("/JavaScript"),
        generic.NameObject("/JS"): generic.TextStringObject("app.alert(1)")})
    action = writer.add_object(script, obj_stream=writer.prepare_object_stream())
    writer.root[generic.NameObject("/OpenAction")] = action
    writer.update_root()
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


def png(width: int = 64, height: int = 48, mode: str = "RGB") -> bytes:
    return _saved(Image.new(mode, (width, height), "teal"), "PNG")


def jpeg(width: int = 64, height: int = 48, **options: object) -> bytes:
    return _saved(Image.new("RGB", (width, height), "teal"), "JPEG", **options)


def _saved(image: Image.Image, image_format: str, **options: object) -> bytes:
    out = io.BytesIO()
    image.save(out, image_format, **options)
    return out.getvalue()


def jpeg_with_html() -> bytes:
    """A JPEG any viewer shows, carrying an HTML page in a comment segment and another after
    its end: what a browser sniffing the content would run."""
    image = jpeg()
    comment = b"\xff\xfe" + struct.pack(">H", len(HTML) + 2) + HTML
    return image[:2] + comment + image[2:] + HTML


def png_bomb(side: int = 20_000) -> bytes:
    """A real decompression bomb: a side × side one-bit PNG of blank rows, some 50 KB that
    expand to `side`² pixels (400 million for the default: gigabytes once decoded)."""
    row = b"\x00" * (1 + side // 8)
    compressor = zlib.compressobj(9)
    data = b"".join(compressor.compress(row) for _ in range(side)) + compressor.flush()
    header = struct.pack(">IIBBBBB", side, side, 1, 0, 0, 0, 0)
    return (b"\x89PNG\r\n\x1a\n" + png_chunk(b"IHDR", header) + png_chunk(b"IDAT", data)
            + png_chunk(b"IEND", b""))
