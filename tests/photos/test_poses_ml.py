"""cheese_ml.poses: normalisation invariants (translation, scale, mirror) on real MoveNet
keypoints, Move Mirror distance and OKS, readable descriptions, mood, pose types."""

from __future__ import annotations

import cv2
import numpy as np
import pytest

from cheese_ml.analysis import Analyzer
from cheese_ml.fixtures import fetch_fixtures
from cheese_ml.images import decode_image
from cheese_ml.pose import body_box, pose
from cheese_ml.poses import (
    INDEX,
    as_array,
    describe,
    describe_group,
    distance,
    group_order,
    learn_pose_types,
    mirror_keypoints,
    mood,
    normalise,
    oks,
)


@pytest.fixture(scope="module")
def real() -> tuple[np.ndarray, np.ndarray, Analyzer]:
    """A real photo and MoveNet's keypoints of its person (obama.jpg, face-recognition's fixture)."""
    path = fetch_fixtures(["obama.jpg"])["obama.jpg"]
    rgb = decode_image(path.read_bytes())
    analyzer = Analyzer()
    face = analyzer.analyze(rgb, embeddings=False, expressions=False)[0]
    return (
        rgb,
        as_array(pose(rgb, body_box(face.box, rgb.shape), analyzer, "movenet_thunder")),
        analyzer,
    )


def standing() -> np.ndarray:
    """A synthetic person facing the camera, arms down (photo pixels, y down)."""
    xy = {
        "nose": (100, 40),
        "left_eye": (105, 35),
        "right_eye": (95, 35),
        "left_ear": (112, 38),
        "right_ear": (88, 38),
        "left_shoulder": (125, 80),
        "right_shoulder": (75, 80),
        "left_elbow": (130, 120),
        "right_elbow": (70, 120),
        "left_wrist": (132, 160),
        "right_wrist": (68, 160),
        "left_hip": (115, 170),
        "right_hip": (85, 170),
        "left_knee": (116, 230),
        "right_knee": (84, 230),
        "left_ankle": (117, 290),
        "right_ankle": (83, 290),
    }
    return np.array([(*xy[name], 0.9) for name in INDEX], dtype=np.float64)


def test_translation_scale_and_mirror_do_not_change_a_real_pose(real) -> None:
    _, keypoints, _ = real
    base = normalise(keypoints)
    moved = keypoints.copy()
    moved[:, :2] = moved[:, :2] * 3.7 + np.array([-250.0, 410.0])
    flipped = mirror_keypoints(keypoints)
    for other in (normalise(moved), normalise(flipped)):
        assert np.allclose(other.xy, base.xy, atol=1e-9)
        assert distance(base, other) < 1e-9
    assert normalise(flipped).mirrored != base.mirrored
    # centred on the hips, one torso long
    hips = (base.xy[INDEX["left_hip"]] + base.xy[INDEX["right_hip"]]) / 2
    shoulders = (base.xy[INDEX["left_shoulder"]] + base.xy[INDEX["right_shoulder"]]) / 2
    assert np.allclose(hips, 0.0) and np.isclose(np.linalg.norm(shoulders - hips), 1.0)


def test_mirrored_photo_gives_the_same_normalised_pose(real) -> None:
    """MoveNet on the horizontally flipped photo: the canonical pose is (nearly) the same."""
    rgb, keypoints, analyzer = real
    flipped = np.ascontiguousarray(rgb[:, ::-1])
    face = analyzer.analyze(flipped, embeddings=False, expressions=False)[0]
    again = as_array(pose(flipped, body_box(face.box, flipped.shape), analyzer, "movenet_thunder"))
    a, b = normalise(keypoints), normalise(again)
    assert distance(a, b) < 0.05
    assert oks(keypoints, mirror_keypoints(again) + np.array([rgb.shape[1], 0, 0])) > 0.8


def test_distance_and_oks_separate_different_poses() -> None:
    person = standing()
    raised = person.copy()
    for side in ("left", "right"):
        raised[INDEX[f"{side}_wrist"], 1] = 0.0
        raised[INDEX[f"{side}_elbow"], 1] = 40.0
    same = person.copy()
    same[:, :2] += np.random.default_rng(0).normal(0, 1.0, (17, 2))
    assert (
        distance(normalise(person), normalise(same))
        < 0.02
        < distance(normalise(person), normalise(raised))
    )
    assert oks(person, same) > 0.9 > oks(person, raised)
    assert oks(person, person) == pytest.approx(1.0)


def test_descriptions_read_the_pose() -> None:
    person = standing()
    assert describe(normalise(person)) == ["standing straight"]
    raised = person.copy()
    raised[INDEX["left_wrist"], 1] = raised[INDEX["right_wrist"], 1] = 10.0
    assert "both arms raised" in describe(normalise(raised))
    leaning = person.copy()
    upper = [
        INDEX[n]
        for n in (
            "nose",
            "left_eye",
            "right_eye",
            "left_ear",
            "right_ear",
            "left_shoulder",
            "right_shoulder",
            "left_elbow",
            "right_elbow",
            "left_wrist",
            "right_wrist",
        )
    ]
    leaning[upper, 0] += 45.0
    assert "leaning" in describe(normalise(leaning))
    # two people side by side, far apart vs heads together
    far = person.copy()
    far[:, 0] += 400
    assert describe_group([far, person]) == ["side by side"]
    near = person.copy()
    near[:, 0] += 60
    assert "heads together" in describe_group([near, person])
    assert group_order([far, person]) == [1, 0]


def test_invalid_keypoints_are_rejected() -> None:
    with pytest.raises(ValueError):
        normalise(np.zeros((5, 3)))
    bad = standing()
    bad[0, 0] = np.nan
    with pytest.raises(ValueError):
        normalise(bad)


def test_mood_from_expressions_and_colour() -> None:
    happy = {
        "angry": 0,
        "disgust": 0,
        "fear": 0,
        "happy": 0.9,
        "sad": 0,
        "surprise": 0.05,
        "neutral": 0.05,
    }
    warm_dark = np.full((50, 50, 3), (120, 60, 20), np.uint8)
    assert mood([happy], warm_dark)[:2] == ["cheerful", "cosy"]
    grey_night = np.full((50, 50, 3), 30, np.uint8)
    assert "moody" in mood([], grey_night)
    vivid = cv2.cvtColor(np.full((50, 50, 3), (60, 230, 230), np.uint8), cv2.COLOR_HSV2RGB)
    assert "vivid" in mood([], vivid)


def test_pose_types_cluster_and_know_what_was_tried() -> None:
    rng = np.random.default_rng(1)
    person = standing()
    raised = person.copy()
    raised[INDEX["left_wrist"], 1] = raised[INDEX["right_wrist"], 1] = 0.0
    vectors = []
    for base in (person, raised):
        for _ in range(200):
            noisy = base.copy()
            noisy[:, :2] += rng.normal(0, 2.0, (17, 2))
            vectors.append(normalise(noisy).vector())
    types = learn_pose_types(np.array(vectors), k=2)
    assert sorted(types.sizes.tolist()) == [200, 200]
    standing_type = int(types.assign(normalise(person).vector()[None])[0][0])
    assert types.tried(normalise(person).vector()[None]) == {standing_type}
    assert types.tried(np.zeros((0, 34))) == set()


def test_lightning_and_thunder_agree_on_a_real_person(real) -> None:
    """Both registered MoveNet variants run; Lightning (the default) reads the same pose."""
    rgb, thunder, analyzer = real
    face = analyzer.analyze(rgb, embeddings=False, expressions=False)[0]
    box = body_box(face.box, rgb.shape)
    lightning = as_array(pose(rgb, box, analyzer, "movenet_lightning"))
    assert np.array_equal(as_array(pose(rgb, box, analyzer)), lightning)  # the default
    assert oks(thunder, lightning) > 0.8
    assert distance(normalise(thunder), normalise(lightning)) < 0.1
    with pytest.raises(ValueError):
        pose(rgb, box, analyzer, "movenet_multipose")  # type: ignore[arg-type]
