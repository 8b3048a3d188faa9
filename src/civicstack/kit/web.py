"""Server-rendered pages: shared templates, static files, locale and CSRF (expanded by the web work)."""

from __future__ import annotations

from pathlib import Path

STATIC_DIR = Path(__file__).resolve().parent.parent / "static"
