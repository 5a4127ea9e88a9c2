"""pose() with the converted MoveNet: no TF.js runtime can be installed here, so the
conversion is checked for sane outputs on real photos against an independent model:
MoveNet's nose and eyes must land on CenterFace's landmarks of the same face."""

from __future__ import annotations

import numpy as np
import pytest

from cheese_ml.analysis import Analyzer, Box, Face
from cheese_ml.pose import KEYPOINT_NAMES, POSE_MODELS, PoseModel, body_box, pose

# One person per photo (the single-person model is also fine in group photos when the
# body box holds one person mostly; sample1's three faces are far enough apart).
CASES = [
    ("obama.jpg", 0),
    ("obama2.jpg", 0),
    ("single_face.jpg", 0),
    ("sample1.jpg", 0),
    ("sample1.jpg", 1),
    ("sample1.jpg", 2),
    ("sample6.jpg", 0),
]


def distance_in_face_widths(face: Face, point: tuple[float, float], landmark: int) -> float:
    x, y = face.landmarks[landmark]
    return float(np.hypot(point[0] - x, point[1] - y) / face.box.w)


@pytest.mark.parametrize("model", POSE_MODELS)
@pytest.mark.parametrize(("photo", "face_index"), CASES)
def test_face_keypoints_agree_with_centerface(
    photo: str,
    face_index: int,
    model: PoseModel,
    analyzer: Analyzer,
    analysed: dict[str, list[Face]],
    photos: dict[str, np.ndarray],
) -> None:
    face = sorted(analysed[photo], key=lambda f: f.box.x)[face_index]
    keypoints = pose(photos[photo], body_box(face.box, photos[photo].shape), analyzer, model)
    assert [k.name for k in keypoints] == list(KEYPOINT_NAMES)
    by_name = {k.name: k for k in keypoints}
    # CenterFace landmarks: 0 = image-left eye (the person's right), 1 = image-right eye, 2 = nose.
    assert distance_in_face_widths(face, (by_name["nose"].x, by_name["nose"].y), 2) < 0.2
    assert distance_in_face_widths(face, (by_name["right_eye"].x, by_name["right_eye"].y), 0) < 0.2
    assert distance_in_face_widths(face, (by_name["left_eye"].x, by_name["left_eye"].y), 1) < 0.2
    assert min(by_name[n].score for n in ("nose", "left_eye", "right_eye")) > 0.3


@pytest.mark.parametrize("model", POSE_MODELS)
def test_body_keypoints_of_a_portrait(
    model: PoseModel,
    analyzer: Analyzer,
    analysed: dict[str, list[Face]],
    photos: dict[str, np.ndarray],
) -> None:
    rgb, face = photos["obama.jpg"], analysed["obama.jpg"][0]
    points = {k.name: k for k in pose(rgb, body_box(face.box, rgb.shape), analyzer, model)}
    face_bottom = face.box.y + face.box.h
    for side in ("left", "right"):
        shoulder = points[f"{side}_shoulder"]
        assert shoulder.score > 0.5 and shoulder.y > face_bottom  # shoulders below the chin
    # The person's left shoulder is on the image right for someone facing the camera.
    assert (
        points["left_shoulder"].x
        > face.box.x + face.box.w
        > face.box.x
        > points["right_shoulder"].x
    )


def test_body_box_is_clipped() -> None:
    box = body_box(Box(10, 5, 100, 120), (600, 400, 3))
    assert box.x == 0 and box.y == 0 and box.x + box.w <= 400 and box.y + box.h <= 600
