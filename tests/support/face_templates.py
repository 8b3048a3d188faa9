"""Synthetic face templates shaped like dlib's 128-d embeddings, for measuring 1:N search at
sizes no photo collection reaches.

Not random points: a population of people drawn from a few hundred groups (faces of one age,
sex and origin sit closer together), each person's templates a photo's noise around their own
centre, and a share of people with a **look-alike** whose centre lies 0.2-0.6 from theirs. The
spreads are set so that two photos of one person are ~0.35 apart, look-alikes' photos
0.4-0.75, strangers of one group ~0.9 and of different groups ~0.95 (the nearest of a million
strangers comes within ~0.65): the shape of the distances the labelled
photos show (docs/benchmarks.md). De-duplication must find the same person and the look-alikes
(everything within 1.5x the 0.5 threshold); recall over random far neighbours would say nothing.

Chunks are made from the seed and their number alone, so a 10M gallery is generated, indexed
and scanned chunk by chunk without ever being held whole.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

DIMENSIONS = 128
GROUPS = 256
GROUP_SPREAD = 0.022   # per dimension: strangers of different groups ~0.95 apart
PERSON_SPREAD = 0.055  # per dimension: strangers of one group ~0.9 apart
PHOTO_NOISE = 0.022    # per dimension: two photos of one person ~0.35 apart
LOOK_ALIKE_SHARE = 0.02
LOOK_ALIKE_DISTANCE = (0.2, 0.6)

Vectors = NDArray[np.float32]


@dataclass(frozen=True)
class Population:
    seed: int

    def _group_means(self) -> Vectors:
        rng = np.random.default_rng([self.seed, 0])
        return rng.normal(0, GROUP_SPREAD, (GROUPS, DIMENSIONS)).astype(np.float32)

    def centres(self, chunk: int, people: int) -> Vectors:
        """The centres of chunk `chunk`'s people; look-alikes are pairs within the chunk."""
        rng = np.random.default_rng([self.seed, 1, chunk])
        groups = rng.integers(0, GROUPS, people)
        centres = self._group_means()[groups] + rng.normal(
            0, PERSON_SPREAD, (people, DIMENSIONS)).astype(np.float32)
        pairs = rng.choice(people, (int(people * LOOK_ALIKE_SHARE) // 2, 2), replace=False)
        direction = rng.normal(0, 1, (len(pairs), DIMENSIONS))
        direction /= np.linalg.norm(direction, axis=1, keepdims=True)
        apart = rng.uniform(*LOOK_ALIKE_DISTANCE, (len(pairs), 1))
        centres[pairs[:, 1]] = centres[pairs[:, 0]] + (direction * apart).astype(np.float32)
        return centres

    def photos(self, centres: Vectors, take: int) -> Vectors:
        """One photo's template per centre; `take` numbers the photo (0: the enrolment)."""
        rng = np.random.default_rng([self.seed, 2, take, len(centres)])
        noise = rng.normal(0, PHOTO_NOISE, centres.shape).astype(np.float32)
        return np.ascontiguousarray(centres + noise)

    def enrolled(self, chunk: int, people: int) -> Vectors:
        return self.photos(self.centres(chunk, people), take=0)

    def queries(self, people: int, count: int) -> Vectors:
        """New photos of `count` people of chunk 0 (their enrolment is in the gallery, and
        with it, for some, a look-alike's)."""
        return self.photos(self.centres(0, people)[:count], take=1)
