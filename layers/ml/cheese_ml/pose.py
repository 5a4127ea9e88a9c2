"""Body pose (17 COCO keypoints) of one person with MoveNet (Lightning or Thunder).

    keypoints = pose(rgb, body_box(face.box, rgb.shape))            # DEFAULT_MODEL
    keypoints = pose(rgb, box, model="movenet_thunder")

MoveNet is a single-person model: it is run on a square crop around the
person (the caller's box, padded with black to a square, resized to the
model's input: 192x192 for Lightning, 256x256 for Thunder), and its
normalised (y, x, score) outputs are mapped back to photo pixels. `body_box`
derives a person box from a face box for photos where only faces were detected.

The default is chosen by measurement (`bench/pose_bench.py`, one thread):
Lightning is the one that fits the 120 ms per four-cut print budget of
`analyze`; Thunder stays selectable (env CHEESE_POSE_MODEL) for the
more accurate but ~3x slower variant.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from typing import Literal

import cv2
import numpy as np

from cheese_ml.analysis import Analyzer, Box, as_rgb, default_analyzer
from cheese_ml.images import decode_image

KEYPOINT_NAMES = (
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
    "left_hip",
    "right_hip",
    "left_knee",
    "right_knee",
    "left_ankle",
    "right_ankle",
)  # "left" is the person's left (the image right for someone facing the camera)

PoseModel = Literal["movenet_lightning", "movenet_thunder"]
POSE_MODELS: tuple[PoseModel, ...] = ("movenet_lightning", "movenet_thunder")
DEFAULT_MODEL: PoseModel = "movenet_lightning"
MODEL_ENV = "CHEESE_POSE_MODEL"


def configured_model() -> PoseModel:
    """The pose model this process uses: env CHEESE_POSE_MODEL, else DEFAULT_MODEL."""
    name = os.environ.get(MODEL_ENV, DEFAULT_MODEL)
    if name not in POSE_MODELS:
        raise ValueError(f"{MODEL_ENV}={name!r}: expected one of {', '.join(POSE_MODELS)}")
    return name


# A standing adult is ~7.5 head heights tall and ~3 head widths across the shoulders;
# the box spans from half a head above the face down to the feet.
BODY_WIDTH_IN_FACES = 4.0
BODY_HEIGHT_IN_FACES = 8.0


@dataclass(frozen=True)
class Keypoint:
    name: str
    x: float  # photo pixels
    y: float
    score: float  # MoveNet confidence 0-1; below ~0.3 the point is a guess


def body_box(face_box: Box, image_shape: tuple[int, ...]) -> Box:
    """The region a person's body likely occupies given their face box, clipped to the photo."""
    height, width = image_shape[:2]
    centre_x = face_box.x + face_box.w / 2
    x1 = max(0, int(centre_x - BODY_WIDTH_IN_FACES * face_box.w / 2))
    x2 = min(width, int(centre_x + BODY_WIDTH_IN_FACES * face_box.w / 2))
    y1 = max(0, int(face_box.y - 0.5 * face_box.h))
    y2 = min(height, int(face_box.y + BODY_HEIGHT_IN_FACES * face_box.h))
    return Box(x1, y1, max(1, x2 - x1), max(1, y2 - y1))


def pose(
    image: bytes | np.ndarray,
    box: Box,
    analyzer: Analyzer | None = None,
    model: PoseModel | None = None,
) -> list[Keypoint]:
    """The 17 keypoints of the person inside `box`, in photo pixels."""
    rgb = decode_image(image) if isinstance(image, bytes | bytearray) else as_rgb(image)
    name = model or configured_model()
    if name not in POSE_MODELS:
        raise ValueError(f"unknown pose model {name!r}")
    session = (analyzer or default_analyzer()).session(name)
    model_input = session.get_inputs()[0]
    input_size = int(model_input.shape[1])
    side = max(box.w, box.h)
    left = box.x + box.w / 2 - side / 2
    top = box.y + box.h / 2 - side / 2
    # Affine map photo -> square model input; pixels outside the photo become black.
    scale = input_size / side
    matrix = np.array([[scale, 0, -left * scale], [0, scale, -top * scale]])
    square = cv2.warpAffine(
        rgb,
        matrix,
        (input_size, input_size),
        flags=cv2.INTER_AREA,
        borderMode=cv2.BORDER_CONSTANT,
        borderValue=(0, 0, 0),
    )
    output = session.run(None, {model_input.name: square[None].astype(np.int32)})[0][0, 0]
    return [
        Keypoint(name, float(left + x * side), float(top + y * side), float(score))
        for name, (y, x, score) in zip(KEYPOINT_NAMES, output, strict=True)
    ]
