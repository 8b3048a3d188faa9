"""Challenge–response liveness on the labelled photos: the two photos of a turned face and
their mirror copies stand in for a person turning one way and the other."""

from __future__ import annotations

import itertools
import random
from collections import Counter

import numpy as np
import pytest
from PIL import Image

from civicstack.biometrics import faces
from civicstack.biometrics.faces import Refusal
from civicstack.biometrics.liveness import (
    Challenge,
    Failure,
    LivenessResult,
    Pose,
    check,
    new_challenge,
    pose_of,
)
from civicstack.config import Settings
from tests.support.face_images import FACES, encode, mirrored, tilted

STRAIGHT, LEFT, RIGHT = Pose.LOOK_STRAIGHT, Pose.TURN_LEFT, Pose.TURN_RIGHT
THRESHOLD = Settings().face_match_threshold


def poses_of(name: str, straight: str, turned: str) -> dict[Pose, bytes]:
    """A person's frames by pose: the turned photo faces the person's own right (the nose
    towards the image's left, yaw ~0.31), so its mirror copy faces their left."""
    return {STRAIGHT: (FACES / name / straight).read_bytes(),
            RIGHT: (FACES / name / turned).read_bytes(),
            LEFT: mirrored(f"{name}/{turned}")}


OBAMA = poses_of("obama", "1.jpg", "2.jpg")
KIT = poses_of("kit_harington", "1.jpg", "2.jpg")


def run(steps: tuple[Pose, ...], frames: list[bytes]) -> LivenessResult:
    return check(faces.engine(), Challenge(steps), frames, THRESHOLD)


@pytest.mark.parametrize(("frames", "steps"), [
    (OBAMA, (STRAIGHT, RIGHT, LEFT)),
    (KIT, (LEFT, STRAIGHT, RIGHT)),
    (OBAMA, (RIGHT, LEFT)),
    (KIT, (STRAIGHT, LEFT)),
], ids=["obama-straight-right-left", "kit-left-straight-right", "obama-right-left",
        "kit-straight-left"])
def test_the_asked_poses_in_the_asked_order_by_one_face_pass(
        frames: dict[Pose, bytes], steps: tuple[Pose, ...]) -> None:
    result = run(steps, [frames[pose] for pose in steps])
    assert result.passed, result
    assert result.failure is None
    assert result.reason is None
    assert [pose_of(turn) for turn in result.yaws] == list(steps)
    assert max(result.distances) <= THRESHOLD


@pytest.mark.parametrize("pose", list(Pose))
def test_a_still_photo_shown_for_every_step_fails_at_the_first_change_of_pose(
        pose: Pose) -> None:
    steps = (pose, *[p for p in Pose if p != pose][:1])
    result = run(steps, [OBAMA[pose]] * len(steps))
    assert not result.passed
    assert result.failure is Failure.WRONG_POSE
    assert result.step == 2


def test_a_frontal_print_tilted_to_the_camera_does_not_count_as_a_turn() -> None:
    for degrees in (-35, 35):
        result = run((STRAIGHT, LEFT if degrees > 0 else RIGHT),
                     [OBAMA[STRAIGHT], tilted("obama/1.jpg", degrees, distance=0.8)])
        assert result.failure is Failure.WRONG_POSE
        assert result.step == 2
        assert pose_of(result.yaws[1]) is STRAIGHT


def test_the_right_poses_in_the_wrong_order_fail_at_the_first_step() -> None:
    result = run((LEFT, RIGHT), [OBAMA[RIGHT], OBAMA[LEFT]])
    assert not result.passed
    assert result.failure is Failure.WRONG_POSE
    assert result.step == 1


def test_another_person_taking_over_mid_sequence_fails_as_a_different_person() -> None:
    result = run((STRAIGHT, RIGHT, LEFT), [OBAMA[STRAIGHT], KIT[RIGHT], KIT[LEFT]])
    assert not result.passed
    assert result.failure is Failure.DIFFERENT_PERSON
    assert result.step == 2
    assert result.distances[1] > THRESHOLD
    assert result.reason is not None


def gradient() -> bytes:
    return encode(Image.fromarray(np.tile(np.linspace(0, 255, 400, dtype=np.uint8), (300, 1)))
                  .convert("RGB"), "PNG")


@pytest.mark.parametrize(("bad_frame", "refusal"), [
    (gradient(), Refusal.NO_FACE),
    ((FACES / "multi" / "two_people.jpg").read_bytes(), Refusal.MULTIPLE_FACES),
    (b"GIF89a not really", Refusal.UNREADABLE),
], ids=["no-face", "two-faces", "unreadable"])
def test_an_unusable_frame_fails_with_the_reason_it_was_refused(
        bad_frame: bytes, refusal: Refusal) -> None:
    result = run((RIGHT, STRAIGHT), [OBAMA[RIGHT], bad_frame])
    assert not result.passed
    assert result.failure is Failure.UNUSABLE_FRAME
    assert result.step == 2
    assert result.refusal is refusal
    assert result.reason == faces.REASONS[refusal]


@pytest.mark.parametrize("count", [0, 1, 3])
def test_a_frame_count_other_than_one_per_step_fails_before_any_frame_is_read(
        count: int) -> None:
    result = run((STRAIGHT, LEFT), [b"never read"] * count)
    assert result.failure is Failure.WRONG_FRAME_COUNT
    assert result.yaws == ()


def test_a_challenge_has_two_or_three_steps_and_never_the_same_pose_twice_in_a_row() -> None:
    rng = random.Random(2026)
    challenges = [new_challenge(rng) for _ in range(2000)]
    for challenge in challenges:
        assert len(challenge.steps) in (2, 3)
        assert all(a != b for a, b in itertools.pairwise(challenge.steps))
    drawn = Counter(challenge.steps for challenge in challenges)
    assert len(drawn) == 3 * 2 + 3 * 2 * 2  # every possible order turns up...
    assert max(drawn.values()) < 2 * min(drawn.values())  # ...about equally often (~111 each)


@pytest.mark.parametrize(("turn", "pose"), [
    (0.5, STRAIGHT), (0.40, STRAIGHT), (0.60, STRAIGHT), (0.31, RIGHT), (0.35, RIGHT),
    (0.69, LEFT), (0.65, LEFT), (0.38, None), (0.62, None),
])
def test_the_pose_bands_leave_a_gap_between_straight_and_turned(
        turn: float, pose: Pose | None) -> None:
    assert pose_of(turn) is pose
