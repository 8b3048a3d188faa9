"""A4 pages for PDF documents in Vietnamese: fpdf2 with the DejaVu fonts the package carries, so
diacritics render on any machine without a system font."""

from __future__ import annotations

from fpdf import FPDF

from civicstack.kit.web import STATIC_DIR

FONT_DIR = STATIC_DIR / "fonts"
FONT = "DejaVu"  # regular "" and bold "B"


def a4_document() -> FPDF:
    """A portrait A4 document, in millimetres, with FONT registered and no page yet."""
    pdf = FPDF(orientation="P", unit="mm", format="A4")
    pdf.add_font(FONT, "", str(FONT_DIR / "DejaVuSans.ttf"))
    pdf.add_font(FONT, "B", str(FONT_DIR / "DejaVuSans-Bold.ttf"))
    return pdf
