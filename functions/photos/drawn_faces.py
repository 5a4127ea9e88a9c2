"""A face the detector missed, drawn by the user: embedded from its box and grouped at once.

The detector sees a photo shrunk to 640 px, so in a large group photo a small face can vanish.
Detection is run again on the box's surroundings at full resolution; its landmarks align the
face as any other. When even that finds nothing, the face is aligned from the box alone (the
ArcFace template stretched over it). The user's word stands for the detector's score, so the
face is usable when it is large, sharp and frontal enough. A drawn face is kept by every
re-cluster: once in a person it is a manual face there.
"""

from __future__ import annotations

import numpy as np

from cheese_ml.analysis import (
    ARCFACE_TEMPLATE,
    EMBEDDING_SIZE,
    EXPRESSION_LABELS,
    Detection,
    FaceQuality,
    default_analyzer,
)

# The surroundings searched again: the box grown by half its size on every side.
CONTEXT = 0.5
# Lower than the photo-wide threshold: the user says a face is there.
DETECT_THRESHOLD = 0.3


def _landmarks(rgb: np.ndarray, box: tuple[int, int, int, int]) -> tuple[np.ndarray, float]:
    """Five landmarks in photo pixels, and the detection score (0 for box-only alignment)."""
    x, y, w, h = box
    height, width = rgb.shape[:2]
    left, top = max(0, int(x - w * CONTEXT)), max(0, int(y - h * CONTEXT))
    right, bottom = min(width, int(x + w * (1 + CONTEXT))), min(height, int(y + h * (1 + CONTEXT)))
    found = default_analyzer().detect(rgb[top:bottom, left:right], threshold=DETECT_THRESHOLD)
    inside = [
        d
        for d in found
        if x <= (d.box_xyxy[0] + d.box_xyxy[2]) / 2 + left <= x + w
        and y <= (d.box_xyxy[1] + d.box_xyxy[3]) / 2 + top <= y + h
    ]
    if inside:
        best = max(inside, key=lambda d: d.score)
        return best.landmarks + np.array([left, top], dtype=np.float64), float(best.score)
    return ARCFACE_TEMPLATE / EMBEDDING_SIZE * np.array([w, h]) + np.array([x, y]), 0.0


def analyse_drawn_face(
    rgb: np.ndarray, box: tuple[int, int, int, int], *, embeddings: bool, expressions: bool
) -> tuple[list[list[float]], float, FaceQuality, np.ndarray | None, dict[str, float] | None]:
    """Landmarks, detection score, quality, embedding and expression of the drawn face."""
    analyzer = default_analyzer()
    landmarks, score = _landmarks(rgb, box)
    x, y, w, h = box
    detection = Detection(
        box_xyxy=np.array([x, y, x + w, y + h], dtype=np.float64), score=1.0, landmarks=landmarks
    )
    identity, grey = analyzer.align(rgb, [detection])
    quality = analyzer.quality(detection, identity[0])
    embedding = analyzer.embed(identity)[0].copy() if embeddings else None
    expression = (
        {
            label: float(p)
            for label, p in zip(EXPRESSION_LABELS, analyzer.expressions(grey)[0], strict=True)
        }
        if expressions
        else None
    )
    return [list(map(float, p)) for p in landmarks], score, quality, embedding, expression
