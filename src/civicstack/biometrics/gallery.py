"""The 1:N gallery: every template's vector in an exhaustive FAISS index keyed by the
template's row id, persisted beside the data and rebuildable from the database.

Every query scans every template: de-duplication cannot afford an approximate index that
misses a candidate. Vectors are stored as 16-bit floats (faiss's fp16 scalar quantiser):
half the bytes a query has to read, so 1M templates answer in about 36 ms on this CPU instead
of 48 ms for float32 (docs/benchmarks.md), while distances stay within 1e-4 of the float32
ones, a thousandth of the threshold. The database is the truth: before each search the gallery
compares a cheap fingerprint of the template table (count and id sums) with its own and
re-syncs when another process or a rollback has moved it apart. The file is written by a sync
or a rebuild, not on every enrolment (at 1M templates it is 256 MB): after a restart the next
sync adds only what was enrolled since.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import cast

import faiss
import numpy as np
from numpy.typing import NDArray

from civicstack.biometrics.faces import EMBEDDING_SIZE, Embedding
from civicstack.kit.private_files import private_file, private_folder

Fingerprint = tuple[int, int]  # (count of ids, sum of ids)
# One query at a time is the gallery's load: faiss's default of a thread per core made single
# queries 2-3x slower on a busy 2-core machine (docs/benchmarks.md), and the web server
# already runs requests side by side.
faiss.omp_set_num_threads(1)


def new_index() -> faiss.IndexIDMap2:
    quantiser = faiss.IndexScalarQuantizer(EMBEDDING_SIZE, faiss.ScalarQuantizer.QT_fp16,
                                           faiss.METRIC_L2)
    return faiss.IndexIDMap2(quantiser)


@dataclass(frozen=True)
class Candidate:
    template_id: int
    distance: float


class Gallery:
    def __init__(self, path: Path) -> None:
        self._path = path
        self._lock = threading.Lock()
        self._index = self._load()

    def _load(self) -> faiss.IndexIDMap2:
        if self._path.exists():
            try:
                return cast(faiss.IndexIDMap2, faiss.read_index(str(self._path)))
            except RuntimeError:
                pass  # a torn or foreign file: the next sync rebuilds from the database
        return new_index()

    def _id_array(self) -> NDArray[np.int64]:
        with self._lock:
            ids: NDArray[np.int64] = faiss.vector_to_array(self._index.id_map)
            return ids

    @property
    def ids(self) -> set[int]:
        return {int(i) for i in self._id_array()}

    def fingerprint(self) -> Fingerprint:
        """Checked before every search: summed in numpy, without building a set of 1M ints."""
        ids = self._id_array()
        return len(ids), int(ids.sum())

    def sync(self, wanted: Fingerprint, all_ids: Callable[[], Iterable[int]],
             vectors: Callable[[list[int]], dict[int, Embedding]]) -> None:
        """Bring the index to the database's set of ids when the fingerprints differ: add
        what is missing (opening only those templates), drop what is gone, save."""
        if self.fingerprint() == wanted:
            return
        in_database, held = set(all_ids()), self.ids
        gone, missing = held - in_database, sorted(in_database - held)
        with self._lock:
            if gone:
                self._remove_locked(sorted(gone))
            if missing:
                opened = vectors(missing)
                self._add_locked({i: opened[i] for i in missing if i in opened})
            self._save_locked()

    def add(self, template_id: int, embedding: Embedding) -> None:
        with self._lock:
            self._remove_locked([template_id])
            self._add_locked({template_id: embedding})

    def remove(self, template_id: int) -> None:
        with self._lock:
            self._remove_locked([template_id])

    def search(self, embedding: Embedding, k: int) -> list[Candidate]:
        """The k nearest templates, nearest first (FAISS gives squared distances)."""
        with self._lock:
            if self._index.ntotal == 0:
                return []
            squared, ids = self._index.search(embedding.reshape(1, -1).astype(np.float32), k)
        return [Candidate(int(i), float(np.sqrt(max(d, 0.0))))
                for d, i in zip(squared[0], ids[0], strict=True) if i >= 0]

    def rebuild(self, vectors: dict[int, Embedding]) -> int:
        with self._lock:
            self._index = new_index()
            self._add_locked(vectors)
            self._save_locked()
            return int(self._index.ntotal)

    def save(self) -> None:
        """Persist now (the app does on shutdown; the CLI after a rebuild)."""
        with self._lock:
            self._save_locked()

    def _remove_locked(self, ids: list[int]) -> None:
        # faiss's Python layer takes an id array where its C++ signature says IDSelector
        self._index.remove_ids(np.array(ids, dtype=np.int64))  # type: ignore[arg-type]

    def _add_locked(self, vectors: dict[int, Embedding]) -> None:
        if vectors:
            ids = np.array(list(vectors), dtype=np.int64)
            self._index.add_with_ids(np.stack(list(vectors.values())).astype(np.float32), ids)

    def _save_locked(self) -> None:
        """Written beside, then renamed over: a crash never leaves a torn index."""
        private_folder(self._path.parent)
        partial = private_file(self._path.with_suffix(".partial"))  # faces: the owner's alone
        faiss.write_index(self._index, str(partial))
        partial.replace(self._path)
