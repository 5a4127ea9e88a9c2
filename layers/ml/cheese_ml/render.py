"""Pictures of analysis results: boxes and landmarks on a photo, grids of face crops."""

from __future__ import annotations

from collections.abc import Sequence

import cv2
import numpy as np

from cheese_ml.analysis import Box, Face

LANDMARK_COLOURS = ((255, 0, 0), (0, 0, 255), (0, 255, 0), (255, 0, 255), (0, 255, 255))
BOX_COLOUR = (255, 200, 0)


def draw_faces(
    rgb: np.ndarray, faces: Sequence[Face], labels: Sequence[str] | None = None
) -> np.ndarray:
    """A copy of the photo with each face's box, landmarks and an optional label.

    Without labels each face is tagged with its index and, when computed, its smile score.
    """
    canvas = rgb.copy()
    thickness = max(1, round(max(rgb.shape[:2]) / 500))
    for index, face in enumerate(faces):
        box = face.box
        cv2.rectangle(
            canvas, (box.x, box.y), (box.x + box.w - 1, box.y + box.h - 1), BOX_COLOUR, thickness
        )
        for (x, y), colour in zip(face.landmarks, LANDMARK_COLOURS, strict=True):
            cv2.circle(canvas, (round(x), round(y)), thickness + 1, colour, -1)
        if labels is not None:
            text = labels[index]
        else:
            text = f"{index}" + (f" smile {face.smile:.0f}" if face.smile is not None else "")
        cv2.putText(
            canvas,
            text,
            (box.x, max(box.y - 4 * thickness, 10)),
            cv2.FONT_HERSHEY_SIMPLEX,
            0.4 * thickness,
            BOX_COLOUR,
            thickness,
            cv2.LINE_AA,
        )
    return canvas


def crop_face(rgb: np.ndarray, box: Box, size: int = 112, margin: float = 0.2) -> np.ndarray:
    """A square crop around the box (widened by `margin` of its size), resized to `size`."""
    height, width = rgb.shape[:2]
    side = max(box.w, box.h) * (1 + 2 * margin)
    centre_x, centre_y = box.x + box.w / 2, box.y + box.h / 2
    x1, y1 = round(centre_x - side / 2), round(centre_y - side / 2)
    x2, y2 = round(centre_x + side / 2), round(centre_y + side / 2)
    # Pad instead of shifting so that faces at the edge stay centred.
    padded = cv2.copyMakeBorder(
        rgb,
        max(0, -y1),
        max(0, y2 - height),
        max(0, -x1),
        max(0, x2 - width),
        cv2.BORDER_CONSTANT,
        value=(0, 0, 0),
    )
    crop = padded[y1 + max(0, -y1) : y2 + max(0, -y1), x1 + max(0, -x1) : x2 + max(0, -x1)]
    return cv2.resize(crop, (size, size), interpolation=cv2.INTER_AREA)


def face_grid(
    crops: Sequence[np.ndarray], columns: int = 8, gap: int = 4, labels: Sequence[str] | None = None
) -> np.ndarray:
    """Lay equal-sized RGB crops out in a grid on white (e.g. one row per person cluster)."""
    if not crops:
        raise ValueError("no crops to lay out")
    tile_h, tile_w = crops[0].shape[:2]
    columns = min(columns, len(crops))
    rows = -(-len(crops) // columns)
    grid = np.full(
        (rows * (tile_h + gap) + gap, columns * (tile_w + gap) + gap, 3), 255, dtype=np.uint8
    )
    for index, crop in enumerate(crops):
        if crop.shape[:2] != (tile_h, tile_w):
            raise ValueError("all crops must have the same size")
        top = gap + (index // columns) * (tile_h + gap)
        left = gap + (index % columns) * (tile_w + gap)
        tile = crop if crop.ndim == 3 else np.repeat(crop[:, :, None], 3, axis=2)
        grid[top : top + tile_h, left : left + tile_w] = tile
        if labels is not None:
            cv2.putText(
                grid,
                labels[index],
                (left + 2, top + 12),
                cv2.FONT_HERSHEY_SIMPLEX,
                0.4,
                (255, 255, 0),
                1,
                cv2.LINE_AA,
            )
    return grid
