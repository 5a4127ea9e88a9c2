"""Which cut of a photo-booth print each face is in.

A four-cut print shows the same people in every cut, so "two faces of one
photo are two people" only holds within a cut. Cuts are separated by plain
borders: rows (and columns) whose pixels barely vary across the whole print.
A photo without such inner borders is one cut.
"""

from __future__ import annotations

from collections.abc import Sequence

import cv2
import numpy as np

# A border row/column varies by less than this (standard deviation of grey levels).
MAX_BORDER_STD = 10.0
# Borders thinner than this fraction of the side are ignored (JPEG noise, thin lines in a photo).
MIN_BORDER_FRACTION = 0.006
# A cut narrower than this fraction of the side is a border ornament, not a photo.
MIN_CUT_FRACTION = 0.15


def _cuts_along(std: np.ndarray) -> list[tuple[int, int]]:
    """[start, end) spans between border bands along one axis."""
    side = len(std)
    border = std < MAX_BORDER_STD
    min_band = max(2, int(side * MIN_BORDER_FRACTION))
    spans: list[tuple[int, int]] = []
    start, i = 0, 0
    while i < side:
        if border[i]:
            j = i
            while j < side and border[j]:
                j += 1
            if j - i >= min_band or i == 0 or j == side:
                if i - start >= side * MIN_CUT_FRACTION:
                    spans.append((start, i))
                start = j
            i = j
        else:
            i += 1
    if side - start >= side * MIN_CUT_FRACTION:
        spans.append((start, side))
    return spans or [(0, side)]


def cut_of_faces(rgb: np.ndarray, centres: Sequence[tuple[float, float]]) -> list[int]:
    """The cut index of each face centre (x, y): row-major over the print's grid of cuts."""
    grey = cv2.cvtColor(rgb, cv2.COLOR_RGB2GRAY).astype(np.float32)
    rows = _cuts_along(grey.std(axis=1))
    columns = _cuts_along(grey.std(axis=0))
    if len(rows) == 1 and len(columns) == 1:
        return [0] * len(centres)

    def index(spans: list[tuple[int, int]], value: float) -> int:
        return next(
            (k for k, (a, b) in enumerate(spans) if a <= value < b),
            min(
                range(len(spans)),
                key=lambda k: min(abs(value - spans[k][0]), abs(value - spans[k][1])),
            ),
        )

    return [index(rows, y) * len(columns) + index(columns, x) for x, y in centres]


def cut_rects(rgb: np.ndarray) -> list[tuple[int, int, int, int]]:
    """Each cut's (x, y, w, h), in the row-major order of ``cut_of_faces``'s indices."""
    grey = cv2.cvtColor(rgb, cv2.COLOR_RGB2GRAY).astype(np.float32)
    rows = _cuts_along(grey.std(axis=1))
    columns = _cuts_along(grey.std(axis=0))
    if len(rows) == 1 and len(columns) == 1:
        return [(0, 0, rgb.shape[1], rgb.shape[0])]
    return [(x0, y0, x1 - x0, y1 - y0) for y0, y1 in rows for x0, x1 in columns]
