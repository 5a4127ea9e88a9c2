"""Drawing helpers produce pictures of the analysis."""

from __future__ import annotations

import numpy as np

from cheese_ml.analysis import Face
from cheese_ml.render import crop_face, draw_faces, face_grid


def test_draw_faces_marks_boxes_and_leaves_the_input(
    analysed: dict[str, list[Face]], photos: dict[str, np.ndarray]
) -> None:
    rgb, faces = photos["sample4.jpg"], analysed["sample4.jpg"]
    original = rgb.copy()
    drawn = draw_faces(rgb, faces)
    assert np.array_equal(rgb, original) and drawn.shape == rgb.shape
    for face in faces:
        box = face.box
        edge = drawn[box.y + box.h // 2, box.x]
        assert tuple(edge) == (255, 200, 0)


def test_grid_of_face_crops(analysed: dict[str, list[Face]], photos: dict[str, np.ndarray]) -> None:
    crops = [
        crop_face(photos[photo], face.box, size=96)
        for photo in ("sample1.jpg", "sample5.jpg")
        for face in analysed[photo]
    ]
    assert all(crop.shape == (96, 96, 3) for crop in crops)
    grid = face_grid(crops, columns=4, gap=4, labels=[str(i) for i in range(len(crops))])
    assert grid.shape == (2 * 100 + 4, 4 * 100 + 4, 3)
    # Each tile holds its crop (labels aside): the bottom-right corner pixels match.
    assert np.array_equal(grid[4 + 95, 4 + 95], crops[0][95, 95])


def test_crop_at_the_edge_is_padded(
    photos: dict[str, np.ndarray], analysed: dict[str, list[Face]]
) -> None:
    face = analysed["sample5.jpg"][0]
    from cheese_ml.analysis import Box

    corner = Box(0, 0, face.box.w, face.box.h)
    crop = crop_face(photos["sample5.jpg"], corner, size=64, margin=0.5)
    assert crop.shape == (64, 64, 3) and crop[0, 0].sum() == 0  # black padding outside the photo
