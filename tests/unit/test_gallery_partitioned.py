"""The partitioned (IVF) national gallery, on a fixed-seed synthetic population with
same-person photos and look-alikes: it finds every template within the match threshold that the
exhaustive scan finds, it finds most (not all) of those within 1.5x the threshold — which is why
the exhaustive scan stays the default (docs/benchmarks.md) — and it keeps the gallery's
contract (add, remove, fingerprint, file)."""

from __future__ import annotations

import itertools
from pathlib import Path

import faiss
import numpy as np
import pytest

from civicstack.biometrics.gallery import Gallery
from tests.support.face_templates import Population

PEOPLE, LISTS, PROBES, QUERIES = 40_000, 256, 64, 400
THRESHOLD = 0.5
# Measured with this seed, scanning 64 of 256 lists: 1.0 within the threshold (0.99 with 24 or
# 48 lists), 0.957 within 1.5x it. The floors catch a regression of the layout (a wrong metric,
# lost ids, probes not applied after a reload); 0.999 within 1.5x is not reached (see docs).
RECALL_FLOORS = {THRESHOLD: 0.999, 1.5 * THRESHOLD: 0.93}


@pytest.fixture(scope="module")
def population() -> tuple[np.ndarray, np.ndarray]:
    synthetic = Population(seed=2026)
    return synthetic.enrolled(0, PEOPLE), synthetic.queries(PEOPLE, QUERIES)


def partitioned(tmp_path: Path, enrolled: np.ndarray) -> Gallery:
    gallery = Gallery(tmp_path / "gallery.faiss", lists=LISTS, probes=PROBES)
    assert gallery.rebuild(dict(enumerate(enrolled, start=1))) == PEOPLE
    assert gallery.partitioned
    return gallery


@pytest.mark.parametrize("radius", list(RECALL_FLOORS))
def test_its_recall_against_the_exhaustive_scan_holds_its_floor(
        radius: float, tmp_path: Path, population: tuple[np.ndarray, np.ndarray]) -> None:
    enrolled, queries = population
    gallery = partitioned(tmp_path, enrolled)
    exact = faiss.IndexFlatL2(enrolled.shape[1])
    exact.add(enrolled)
    limits, _, ids = exact.range_search(queries, radius**2)
    wanted = found = 0
    for query, (start, end) in enumerate(itertools.pairwise(limits)):
        truth = {int(i) + 1 for i in ids[start:end]}
        answer = gallery.search(queries[query], k=max(len(truth), 1))
        wanted += len(truth)
        found += len(truth & {c.template_id for c in answer if c.distance <= radius})
    assert wanted >= QUERIES  # at least each query's own enrolment
    assert found / wanted >= RECALL_FLOORS[radius]


def test_a_partitioned_gallery_adds_removes_and_reloads(
        tmp_path: Path, population: tuple[np.ndarray, np.ndarray]) -> None:
    enrolled, queries = population
    gallery = partitioned(tmp_path, enrolled)
    gallery.remove(1)
    assert 1 not in {c.template_id for c in gallery.search(queries[0], k=3)}
    gallery.add(PEOPLE + 1, enrolled[0])
    assert gallery.search(queries[0], k=1)[0].template_id == PEOPLE + 1
    assert gallery.fingerprint() == (PEOPLE, sum(range(2, PEOPLE + 2)))
    gallery.save()
    reloaded = Gallery(tmp_path / "gallery.faiss", lists=LISTS, probes=PROBES)
    assert reloaded.partitioned
    assert reloaded.fingerprint() == gallery.fingerprint()
    assert reloaded.search(queries[0], k=1)[0].template_id == PEOPLE + 1


def test_a_gallery_too_small_to_train_stays_exhaustive(tmp_path: Path) -> None:
    few = Population(seed=1).enrolled(0, LISTS * 10)
    gallery = Gallery(tmp_path / "gallery.faiss", lists=LISTS, probes=PROBES)
    gallery.rebuild(dict(enumerate(few, start=1)))
    assert not gallery.partitioned
    assert gallery.search(few[5], k=1)[0].template_id == 6
