"""benchmarks/face_search.py runs to its end on a small gallery, and the exact and sharded
scans it reports find every template the truth holds (recall 1 by construction), and so does
the reranked layout with its fewest candidates (the margin finds the rest)."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_the_face_search_benchmark_runs_and_exact_scans_miss_nothing() -> None:
    done = subprocess.run(
        [sys.executable, str(ROOT / "benchmarks" / "face_search.py"), "--templates", "12000",
         "--queries", "20", "--probes", "4", "--k-factors", "1", "--shards", "2"],
        capture_output=True, text=True, timeout=300, check=True)
    lines = {line.split("  build")[0].strip(): line for line in done.stdout.splitlines()
             if "build" in line}
    assert set(lines) == {"exact fp16 scan (the gallery)", "IVF512,SQfp16 probes 4",
                          "PQ128x4fs + fp16 rerank x1", "rerank x1, 5 within 0.5",
                          "exact fp16 scan in 2 shards"}
    for name in ("exact fp16 scan (the gallery)", "PQ128x4fs + fp16 rerank x1",
                 "exact fp16 scan in 2 shards"):
        assert re.findall(r"recall<=\S+ (\S+)", lines[name]) == ["1.0000", "1.0000"]
    assert re.findall(r"recall<=\S+ (\S+)", lines["rerank x1, 5 within 0.5"])[0] == "1.0000"
