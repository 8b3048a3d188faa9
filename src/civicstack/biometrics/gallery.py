"""The 1:N gallery: every template's vector in a FAISS index keyed by the template's row id,
persisted beside the data and rebuildable from the database.

By default every query scans every template: de-duplication cannot afford an approximate index
that misses a candidate, and up to a few million templates the scan is fast enough. Past that
(CIVICSTACK_FACE_INDEX_LISTS > 0) a rebuild partitions the gallery into that many lists
(faiss's IVF, k-means centroids trained on a fixed-seed sample) and a query scans the
CIVICSTACK_FACE_INDEX_PROBES nearest lists; what it may miss within 1.5x the match threshold
is measured on synthetic templates (docs/benchmarks.md): it finds the same person but misses
look-alikes and near strangers. The option that misses none of those
(CIVICSTACK_FACE_INDEX_RERANK > 0) keeps the exhaustive scan's shape and makes it cheaper: a
rebuild adds a 64-byte product-quantised copy of every template (a quarter of fp16's bytes,
scanned with faiss's fast-scan kernels), a query takes that scan's RERANK x k nearest and orders
them by their exact fp16 distance, asking for more while the coarse scan's error could still
hide a nearer one.

Vectors are stored as 16-bit floats (faiss's fp16 scalar quantiser): half the bytes a query
has to read, so 1M templates answer in about 36 ms on this CPU instead of 48 ms for float32
(docs/benchmarks.md), while distances stay within 1e-4 of the float32 ones, a thousandth of
the threshold. The database is the truth: before each search the gallery compares a cheap
fingerprint of the template table (count and id sums) with its own and re-syncs when another
process or a rollback has moved it apart. The file is written by a sync or a rebuild, not on
every enrolment (at 1M templates it is 256 MB): after a restart the next sync adds only what
was enrolled since.
"""

from __future__ import annotations

import math
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


# faiss warns below 39 training points per list: fewer and the centroids are noise, so a
# gallery that small keeps the exhaustive scan (which is then fast anyway).
TRAINING_POINTS_PER_LIST = 39
TRAINING_SAMPLE_PER_LIST = 64
TRAINING_SEED = 1234
# The coarse copy: 128 sub-quantisers of 4 bits, one per dimension, 64 bytes a template. On the
# synthetic population at 200k, 1M and 10M templates, its distance to the templates within 1.5x
# the threshold of a query exceeded the exact one by at most 0.035 (standard deviation 0.0075,
# docs/benchmarks.md); the margin is half as much again: a template the coarse scan puts farther
# than the k-th exact distance plus the margin cannot be among the k nearest.
COARSE_SUBQUANTISERS = 128
COARSE_BITS = 4
RERANK_MARGIN = 0.05
COARSE_TRAINING_SAMPLE = 65_536


def new_index() -> faiss.IndexIDMap2:
    quantiser = faiss.IndexScalarQuantizer(EMBEDDING_SIZE, faiss.ScalarQuantizer.QT_fp16,
                                           faiss.METRIC_L2)
    return faiss.IndexIDMap2(quantiser)


def partitioned_index(training: NDArray[np.float32], lists: int) -> faiss.IndexIVFScalarQuantizer:
    """An IVF index of `lists` k-means cells over fp16 vectors, trained on `training` (a sample
    of the gallery: the centroids only need the shape of the population)."""
    index = faiss.IndexIVFScalarQuantizer(faiss.IndexFlatL2(EMBEDDING_SIZE), EMBEDDING_SIZE,
                                          lists, faiss.ScalarQuantizer.QT_fp16, faiss.METRIC_L2)
    index.cp.seed = TRAINING_SEED
    index.train(training)
    return index


def coarse_index(training: NDArray[np.float32]) -> faiss.IndexIDMap2:
    """The reranked layout's coarse copy: product-quantised codes of 4 bits, trained on a
    sample (the codebooks only need the shape of the population)."""
    index = faiss.IndexIDMap2(faiss.IndexPQFastScan(EMBEDDING_SIZE, COARSE_SUBQUANTISERS,
                                                    COARSE_BITS, faiss.METRIC_L2))
    index.train(training)
    return index


def coarse_trainable(templates: int) -> bool:
    """At least as many training points per code as an IVF list wants (624)."""
    return templates >= (1 << COARSE_BITS) * TRAINING_POINTS_PER_LIST


def reranked_search(coarse: faiss.Index, exact: faiss.IndexIDMap2, query: NDArray[np.float32],
                    k: int, k_factor: int, within: float = math.inf,
                    dead: NDArray[np.int64] | None = None
                    ) -> tuple[NDArray[np.float32], NDArray[np.int64]]:
    """The k nearest templates to `query` (one row) by exact distance, nearest first, as squared
    distances and ids, among the coarse scan's k * k_factor nearest (less the `dead` ids the
    coarse copy still holds). When the farthest of those candidates is by the coarse scan
    within RERANK_MARGIN of the k-th exact distance (or of `within`, when the caller keeps only
    what lies within it), a template left out could still be nearer: twice as many are asked
    for, up to every template."""
    wanted = min(k * k_factor, coarse.ntotal)
    while True:
        coarse_squared, candidates = coarse.search(query, wanted)
        held = candidates[0] >= 0
        ids = np.unique(candidates[0][held])  # a re-added id is held twice by the coarse copy
        if dead is not None and len(dead):
            ids = ids[~np.isin(ids, dead)]
        squared = np.square(stored_vectors(exact, ids) - query).sum(axis=1)
        nearest = np.argsort(squared, kind="stable")[:k]
        if wanted >= coarse.ntotal:
            break
        kth = math.sqrt(squared[nearest[-1]]) if len(nearest) == k else math.inf
        farthest = math.sqrt(max(float(coarse_squared[0][held][-1]), 0.0))
        if farthest > min(kth, within) + RERANK_MARGIN:
            break
        wanted = min(wanted * 2, coarse.ntotal)
    return squared[nearest], ids[nearest]


def stored_vectors(exact: faiss.IndexIDMap2, ids: NDArray[np.int64]) -> NDArray[np.float32]:
    """The fp16 vectors the exhaustive index holds for `ids`, gathered from its code array in one
    numpy step: faiss's reconstruction by id decodes one vector a call (3 us each; 32k
    candidates took 97 ms). An id's position is found by bisecting the id map, which the
    gallery keeps in ascending order (ids are added sorted); an id found elsewhere (added out
    of order by a sync) is reconstructed by faiss."""
    codes = cast(faiss.IndexScalarQuantizer, faiss.downcast_index(exact.index))
    id_map = faiss.rev_swig_ptr(exact.id_map.data(), exact.id_map.size())
    halves = faiss.rev_swig_ptr(codes.codes.data(), codes.ntotal * codes.code_size)
    stored = halves.view(np.float16).reshape(-1, EMBEDDING_SIZE)
    positions = np.minimum(np.searchsorted(id_map, ids), len(id_map) - 1)
    found = id_map[positions] == ids
    vectors = stored[positions].astype(np.float32)
    if not found.all():
        vectors[~found] = exact.reconstruct_batch(ids[~found])
    return vectors


def training_sample(vectors: NDArray[np.float32], size: int) -> NDArray[np.float32]:
    wanted = min(len(vectors), size)
    chosen = np.random.default_rng(TRAINING_SEED).choice(len(vectors), wanted, replace=False)
    return np.ascontiguousarray(vectors[np.sort(chosen)])


def held_ids(index: faiss.Index) -> NDArray[np.int64]:
    """Every id the index holds: the id map of the exhaustive layout, the lists' ids of IVF."""
    if isinstance(index, faiss.IndexIDMap2):
        ids: NDArray[np.int64] = faiss.vector_to_array(index.id_map)
        return ids
    lists = faiss.extract_index_ivf(index).invlists
    if lists is None:  # an IVF index always has its lists; faiss's stubs allow None
        return np.zeros(0, dtype=np.int64)
    parts = [faiss.rev_swig_ptr(lists.get_ids(cell), lists.list_size(cell)).copy()
             for cell in range(lists.nlist) if lists.list_size(cell)]
    return np.concatenate(parts) if parts else np.zeros(0, dtype=np.int64)


@dataclass(frozen=True)
class Candidate:
    template_id: int
    distance: float


class Gallery:
    def __init__(self, path: Path, lists: int = 0, probes: int = 64, rerank: int = 0) -> None:
        """`lists` > 0: a rebuild of at least 39 templates per list partitions the gallery
        (IVF), and each query scans the `probes` nearest lists. Otherwise `rerank` > 0: a
        rebuild of at least 624 templates adds the coarse copy, and each query reranks
        `rerank` x k of its nearest exactly. Both 0: always the exhaustive scan alone."""
        self._path = path
        self._coarse_path = path.with_name(f"{path.stem}.coarse{path.suffix}")
        self._lists, self._probes, self._rerank = lists, probes, rerank
        self._lock = threading.Lock()
        self._index = self._load(self._path) or new_index()
        self._dead: set[int] = set()  # ids the coarse copy holds that the gallery no longer does
        self._coarse = self._loaded_coarse()

    def _load(self, path: Path) -> faiss.Index | None:
        if path.exists():
            try:
                return self._probing(faiss.read_index(str(path)))
            except RuntimeError:
                pass  # a torn or foreign file: the next sync rebuilds from the database
        return None

    def _loaded_coarse(self) -> faiss.Index | None:
        """The coarse copy saved beside the gallery, when configured and holding every one of
        the gallery's ids (a crash between the two files' renames can leave it without the
        newest: the exhaustive scan answers until the next rebuild)."""
        if not self._rerank or not isinstance(self._index, faiss.IndexIDMap2):
            return None
        coarse = self._load(self._coarse_path)
        if coarse is None or not isinstance(coarse, faiss.IndexIDMap2):
            return None
        coarse_ids, gallery_ids = np.unique(held_ids(coarse)), held_ids(self._index)
        if not np.isin(gallery_ids, coarse_ids).all():
            return None
        self._dead = {int(i) for i in np.setdiff1d(coarse_ids, gallery_ids)}
        return coarse

    def _probing(self, index: faiss.Index) -> faiss.Index:
        if isinstance(index, faiss.IndexIVF):
            index.nprobe = self._probes
        return index

    @property
    def partitioned(self) -> bool:
        return isinstance(self._index, faiss.IndexIVF)

    @property
    def reranked(self) -> bool:
        return self._coarse is not None

    def _id_array(self) -> NDArray[np.int64]:
        with self._lock:
            return held_ids(self._index)

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

    def search(self, embedding: Embedding, k: int, within: float = math.inf
               ) -> list[Candidate]:
        """The k nearest templates, nearest first (FAISS gives squared distances); a caller
        that keeps only those `within` a distance says so, which spares the reranked layout
        the candidates it would fetch to order what lies beyond."""
        with self._lock:
            if self._index.ntotal == 0:
                return []
            query = embedding.reshape(1, -1).astype(np.float32)
            if self._coarse is not None:
                dead = np.fromiter(self._dead, dtype=np.int64, count=len(self._dead))
                exhaustive = cast(faiss.IndexIDMap2, self._index)  # beside which alone it is made
                squared, ids = reranked_search(self._coarse, exhaustive, query, k, self._rerank,
                                               within, dead)
            else:
                found_squared, found_ids = self._index.search(query, k)
                squared, ids = found_squared[0], found_ids[0]
        return [Candidate(int(i), float(np.sqrt(max(d, 0.0))))
                for d, i in zip(squared, ids, strict=True) if i >= 0]

    def rebuild(self, vectors: dict[int, Embedding]) -> int:
        """A fresh index of exactly `vectors`: partitioned when configured and large enough
        to train, exhaustive otherwise."""
        with self._lock:
            self._index = self._fresh_index(vectors)
            self._coarse, self._dead = self._fresh_coarse(vectors), set()
            self._add_locked(vectors)
            self._save_locked()
            return int(self._index.ntotal)

    def save(self) -> None:
        """Persist now (the app does on shutdown; the CLI after a rebuild)."""
        with self._lock:
            self._save_locked()

    def _fresh_index(self, vectors: dict[int, Embedding]) -> faiss.Index:
        if not self._lists or len(vectors) < self._lists * TRAINING_POINTS_PER_LIST:
            return new_index()
        sample = training_sample(_stacked(vectors), self._lists * TRAINING_SAMPLE_PER_LIST)
        return self._probing(partitioned_index(sample, self._lists))

    def _fresh_coarse(self, vectors: dict[int, Embedding]) -> faiss.Index | None:
        if (not self._rerank or not isinstance(self._index, faiss.IndexIDMap2)
                or not coarse_trainable(len(vectors))):
            return None
        return coarse_index(training_sample(_stacked(vectors), COARSE_TRAINING_SAMPLE))

    def _remove_locked(self, ids: list[int]) -> None:
        """The coarse copy keeps a removed template's code, marked dead until the next rebuild:
        faiss's fast-scan layout garbles the next code added after a removal (faiss 1.15:
        remove, then add, and the added template is not found)."""
        # faiss's Python layer takes an id array where its C++ signature says IDSelector
        self._index.remove_ids(np.array(ids, dtype=np.int64))  # type: ignore[arg-type]
        if self._coarse is not None:
            self._dead.update(ids)

    def _add_locked(self, vectors: dict[int, Embedding]) -> None:
        if vectors:
            ids = np.array(sorted(vectors), dtype=np.int64)  # kept ascending: stored_vectors
            stacked = np.stack([vectors[int(i)] for i in ids]).astype(np.float32)
            self._index.add_with_ids(stacked, ids)
            if self._coarse is not None:
                self._coarse.add_with_ids(stacked, ids)
                self._dead.difference_update(vectors)

    def _save_locked(self) -> None:
        """Written beside, then renamed over: a crash never leaves a torn index. The coarse
        copy first: a crash between the renames leaves it apart from the gallery, which the
        next load notices (the reverse order could pair a new coarse copy with an old one)."""
        private_folder(self._path.parent)
        if self._coarse is not None:
            _write(self._coarse, self._coarse_path)
        _write(self._index, self._path)


def _stacked(vectors: dict[int, Embedding]) -> NDArray[np.float32]:
    return np.stack(list(vectors.values())).astype(np.float32)


def _write(index: faiss.Index, path: Path) -> None:
    partial = private_file(path.with_suffix(".partial"))  # faces: the owner's alone
    faiss.write_index(index, str(partial))
    partial.replace(path)
