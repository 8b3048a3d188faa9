"""Challenge–response liveness: the person turns their head as asked, over several frames.

A presentation-attack signal without a trained model (docs/biometrics.md, "Liveness"). The
server draws a random order of poses; the camera sends one frame per step; each frame must
show exactly one usable face in the asked pose, and the same face as the first frame.

What it stops: a printed photo or a still image on a screen, held to the camera. It shows one
pose, and consecutive steps never ask for the same pose. Tilting a flat photo does not turn
the face in it either: the nose tip stays at the same fraction of the eye span under a
horizontal squeeze, which is what tilting a flat picture does to it.
What it does not stop: a video of the person making the asked moves (replayed, or driven live
from a photo), a set of photos of the person in each pose swapped in front of the camera, or
a mask. Those need a trained presentation-attack detector, which this module is not.

Blinking is not asked: there are no closed-eye photos to test an eye-aspect-ratio rule on, and
an untested rule would be a guess. Poses are read from the camera's own frame, not the
mirrored preview a selfie screen shows: a mirrored frame swaps left and right and fails.
The caller keeps each challenge single-use and short-lived (replay of a whole earlier answer).
"""

from __future__ import annotations

import itertools
import random
from dataclasses import dataclass
from enum import StrEnum

from civicstack.biometrics.faces import (
    REASONS,
    Embedding,
    FaceEngine,
    FaceRefused,
    Refusal,
    distance,
)
from civicstack.kit.i18n import N_


class Pose(StrEnum):
    LOOK_STRAIGHT = "look_straight"
    TURN_LEFT = "turn_left"  # the person's own left: the nose moves to the image's right
    TURN_RIGHT = "turn_right"


# faces.yaw: the nose tip between the outer eye corners, 0.5 straight ahead. The shared test
# faces looking at the camera measure 0.44–0.56 (mirror copies included); the two turned
# photos 0.31–0.32, their mirror copies 0.69. Between the bands a pose counts as neither.
STRAIGHT_BAND = (0.40, 0.60)
TURNED_RIGHT_MAX = 0.35
TURNED_LEFT_MIN = 0.65
STEPS = (2, 3)


class Failure(StrEnum):
    WRONG_FRAME_COUNT = "wrong_frame_count"
    UNUSABLE_FRAME = "unusable_frame"
    WRONG_POSE = "wrong_pose"
    DIFFERENT_PERSON = "different_person"


FAILURES: dict[Failure, str] = {
    Failure.WRONG_FRAME_COUNT: N_("the camera did not send one photo for each instruction"),
    Failure.UNUSABLE_FRAME: N_("a photo could not be used: follow the instruction in good light"),
    Failure.WRONG_POSE: N_("the head did not move as asked: follow each instruction in turn"),
    Failure.DIFFERENT_PERSON: N_("the face changed during the check: only one person at a time"),
}


@dataclass(frozen=True)
class Challenge:
    steps: tuple[Pose, ...]


@dataclass(frozen=True)
class LivenessResult:
    passed: bool
    failure: Failure | None = None
    step: int | None = None  # 1-based: the frame that failed
    refusal: Refusal | None = None  # why that frame could not be used
    yaws: tuple[float, ...] = ()  # measured per frame, up to the failure, for the record
    distances: tuple[float, ...] = ()  # each frame's distance to the first frame
    # The embedding of the frame nearest a straight look: what a 1:1 match after a pass uses.
    frontal_embedding: Embedding | None = None

    @property
    def reason(self) -> str | None:
        """Words a person can act on (untranslated msgid), or None when passed."""
        if self.refusal is not None:
            return REASONS[self.refusal]
        return FAILURES[self.failure] if self.failure is not None else None


# 2 or 3 poses, never the same twice in a row, so that no single still image fits: 18 orders.
ORDERS = [steps for length in STEPS for steps in itertools.product(Pose, repeat=length)
          if all(a != b for a, b in itertools.pairwise(steps))]


def new_challenge(rng: random.Random) -> Challenge:
    """One of the ORDERS, each as likely, so a recording made in advance fits 1 time in 18.
    Use random.SystemRandom() in service: the order must not be predictable."""
    return Challenge(rng.choice(ORDERS))


def pose_of(turn: float) -> Pose | None:
    if STRAIGHT_BAND[0] <= turn <= STRAIGHT_BAND[1]:
        return Pose.LOOK_STRAIGHT
    if turn <= TURNED_RIGHT_MAX:
        return Pose.TURN_RIGHT
    if turn >= TURNED_LEFT_MIN:
        return Pose.TURN_LEFT
    return None


def check(engine: FaceEngine, challenge: Challenge, frames: list[bytes],
          threshold: float) -> LivenessResult:
    """Pass when frame N shows step N's pose for every step, all of one face (embedding
    distance to the first frame at most `threshold`); otherwise the first failure."""
    if len(frames) != len(challenge.steps):
        return LivenessResult(False, Failure.WRONG_FRAME_COUNT)
    yaws: list[float] = []
    distances: list[float] = []
    first: Embedding | None = None
    frontal: tuple[float, Embedding] | None = None  # (how far from straight, embedding)
    for number, (asked, frame) in enumerate(zip(challenge.steps, frames, strict=True), 1):
        try:
            reading = engine.observe(frame)
        except FaceRefused as refused:
            return LivenessResult(False, Failure.UNUSABLE_FRAME, number, refused.refusal,
                                  tuple(yaws), tuple(distances))
        yaws.append(reading.yaw)
        first = reading.embedding if first is None else first
        if frontal is None or abs(reading.yaw - 0.5) < frontal[0]:
            frontal = (abs(reading.yaw - 0.5), reading.embedding)
        distances.append(distance(first, reading.embedding))
        if distances[-1] > threshold:
            return LivenessResult(False, Failure.DIFFERENT_PERSON, number, None,
                                  tuple(yaws), tuple(distances))
        if pose_of(reading.yaw) != asked:
            return LivenessResult(False, Failure.WRONG_POSE, number, None,
                                  tuple(yaws), tuple(distances))
    return LivenessResult(True, yaws=tuple(yaws), distances=tuple(distances),
                          frontal_embedding=frontal[1] if frontal else None)
