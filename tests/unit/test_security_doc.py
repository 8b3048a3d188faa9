"""docs/security.md maps OWASP ASVS 5.0 level 2 to the code and names the tests that show each
requirement met. A test renamed or deleted would leave the mapping citing evidence that no
longer exists, so every reference is resolved here against the test files' source."""

from __future__ import annotations

import ast
import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
DOC = ROOT / "docs" / "security.md"
TEST_REFERENCE = re.compile(r"(tests/[A-Za-z0-9_/]+\.py)::(test_[A-Za-z0-9_]+)")
CHAPTERS = range(1, 18)  # V1 Encoding and Sanitization ... V17 WebRTC


def _test_names(path: Path) -> set[str]:
    """Every test function the file defines, at module level or in a class."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    return {node.name for node in ast.walk(tree)
            if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef)}


def test_every_test_the_mapping_cites_exists() -> None:
    references = TEST_REFERENCE.findall(DOC.read_text(encoding="utf-8"))
    assert references, "docs/security.md cites no test"
    names: dict[str, set[str]] = {}
    missing = []
    for file, name in sorted(set(references)):
        path = ROOT / file
        if file not in names:
            names[file] = _test_names(path) if path.is_file() else set()
        if name not in names[file]:
            missing.append(f"{file}::{name}")
    assert not missing, "docs/security.md cites tests that do not exist:\n" + "\n".join(missing)


def test_the_mapping_has_a_section_for_every_asvs_chapter() -> None:
    headings = re.findall(r"^### V(\d+) ", DOC.read_text(encoding="utf-8"), re.MULTILINE)
    assert sorted({int(number) for number in headings}) == list(CHAPTERS)
