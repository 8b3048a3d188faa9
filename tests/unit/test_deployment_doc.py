"""The deployment guide lists every setting the service reads, so an operator never meets
one only in the code."""

from __future__ import annotations

from pathlib import Path

from civicstack.config import Settings

GUIDE = Path(__file__).resolve().parents[2] / "docs" / "deployment.md"


def test_every_setting_is_in_the_deployment_guide() -> None:
    guide = GUIDE.read_text(encoding="utf-8")
    missing = [name for name in (f"CIVICSTACK_{field.upper()}" for field in Settings.model_fields)
               if f"`{name}`" not in guide]
    assert missing == [], f"docs/deployment.md does not list {missing}"
