"""QR codes as inline SVG that scales with its box.

segno's default SVG has a fixed width and height and no viewBox, so CSS that narrows it to a
phone's width crops the symbol (only one finder pattern left) instead of shrinking it. With a
viewBox and no size, the page's CSS decides the size and the whole symbol, quiet zone
included, is always shown.
"""

from __future__ import annotations

import segno

# ISO/IEC 18004 asks for four modules of light margin around the symbol.
QUIET_ZONE_MODULES = 4


def scalable_svg(code: segno.QRCode) -> str:
    return code.svg_inline(scale=1, border=QUIET_ZONE_MODULES, light="#fff", omitsize=True)


def svg_of(text: str) -> str:
    """A code holding `text` at level M, for links and keys that an app scans from a screen."""
    return scalable_svg(segno.make(text, error="m"))
