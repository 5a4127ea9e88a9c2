"""Cuts of a photo-booth print: found from its plain borders; an ordinary photo is one cut."""

from __future__ import annotations

import numpy as np

from functions.photos.cuts import cut_of_faces


def textured(h: int, w: int, seed: int) -> np.ndarray:
    return np.random.default_rng(seed).integers(0, 255, (h, w, 3), dtype=np.uint8)


def test_a_two_by_two_print_has_four_cuts() -> None:
    canvas = np.full((1800, 1200, 3), 250, np.uint8)
    for i in range(4):
        y, x = 40 + (i // 2) * 860, 30 + (i % 2) * 580
        canvas[y : y + 840, x : x + 560] = textured(840, 560, i)
    centres = [(300, 400), (900, 400), (300, 1300), (900, 1300)]
    assert cut_of_faces(canvas, centres) == [0, 1, 2, 3]


def test_a_vertical_strip_has_a_cut_per_frame() -> None:
    canvas = np.full((1800, 600, 3), 20, np.uint8)
    for i in range(4):
        canvas[30 + i * 440 : 30 + i * 440 + 400, 30:570] = textured(400, 540, i)
    assert cut_of_faces(canvas, [(300, 200 + i * 440) for i in range(4)]) == [0, 1, 2, 3]


def test_an_ordinary_photo_is_one_cut() -> None:
    photo = textured(900, 1200, 7)
    assert cut_of_faces(photo, [(100, 100), (1100, 800)]) == [0, 0]
