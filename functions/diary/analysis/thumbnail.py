"""The diary's thumbnail: one upright frame of the video as a small JPEG.

The frame one second in (or half-way through a shorter video): the first
frame of a phone recording is often dark or blurred while the camera settles.
It is a picture of the diarist, not an analysis of their face, so it needs no
consent (and withdrawing ``expression_analysis`` keeps it).
"""

from __future__ import annotations

from collections.abc import Generator
from pathlib import Path
from typing import cast

import cv2
import numpy as np

from cheese_ml.images import encode_jpeg
from cheese_ml.video_io import DecodedFrame, VideoInputError, read_frames

THUMBNAIL_AT_S = 1.0
MAX_SIDE = 480  # px, the longer side: a list cell or a calendar tile on a phone
JPEG_QUALITY = 80
CONTENT_TYPE = "image/jpeg"


def _scaled(rgb: np.ndarray) -> np.ndarray:
    height, width = rgb.shape[:2]
    scale = MAX_SIDE / max(height, width)
    if scale >= 1:
        return rgb
    size = (max(1, round(width * scale)), max(1, round(height * scale)))
    return cv2.resize(rgb, size, interpolation=cv2.INTER_AREA)


def thumbnail_jpeg(path: str | Path, duration_s: float) -> bytes | None:
    """The JPEG of the frame at ``min(1 s, duration / 2)``; None if no frame decodes."""
    at = min(THUMBNAIL_AT_S, duration_s / 2)
    chosen: np.ndarray | None = None
    # A generator (typed as an Iterator): closing it closes the container at once.
    frames = cast(Generator[DecodedFrame, None, None], read_frames(path))
    try:
        for frame in frames:
            chosen = frame.rgb
            if frame.time >= at:
                break
    except VideoInputError:
        pass  # a damaged tail: the last frame that decoded will do
    finally:
        frames.close()
    return None if chosen is None else encode_jpeg(_scaled(chosen), JPEG_QUALITY)
