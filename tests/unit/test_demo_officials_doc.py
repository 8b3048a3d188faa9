"""The docs name the demo officials `make demo` really creates: their number and each one."""

from __future__ import annotations

import re
from pathlib import Path

from civicstack.identity.demo import DEMO_OFFICIALS

DOCS = Path(__file__).resolve().parents[2] / "docs"
NUMBERS = {3: "three", 4: "four", 5: "five", 6: "six", 7: "seven"}


def test_every_doc_that_counts_the_demo_officials_gives_their_real_number() -> None:
    counted = {path.name: re.findall(r"\b(\w+) (?:demo )?officials\b[^`]*`\.data/demo-officials",
                                     path.read_text(encoding="utf-8").replace("\n", " "))
               for path in DOCS.glob("*.md")}
    wrong = {name: words for name, words in counted.items()
             if any(word in NUMBERS.values() and word != NUMBERS[len(DEMO_OFFICIALS)]
                    for word in words)}
    assert not wrong


def test_the_officials_guide_lists_each_demo_official() -> None:
    guide = (DOCS / "officials.md").read_text(encoding="utf-8")
    for username, *_ in DEMO_OFFICIALS:
        assert f"`{username}`" in guide
