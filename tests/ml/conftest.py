"""Shared, session-scoped fixtures for the ML tests: models fetched and loaded once,
real photos fetched (pinned, sha256-checked) and analysed once."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from cheese_ml.analysis import Analyzer, Face
from cheese_ml.fixtures import fetch_fixtures
from cheese_ml.images import decode_image
from cheese_ml.models import fetch

# Face counts of the @vladmandic/face-api demo photos (MODELS.md): 22 in all.
GROUP_PHOTO_FACES = {
    "sample1.jpg": 3,
    "sample2.jpg": 3,
    "sample3.jpg": 3,
    "sample4.jpg": 4,
    "sample5.jpg": 5,
    "sample6.jpg": 4,
}

PHOTOS = [
    *GROUP_PHOTO_FACES,
    "multi_face.jpg",
    "single_face.jpg",
    "0-f1-su-ph.jpg",
    "0-f15-hao-ph.jpg",
    "15-f13-anc-ph.jpg",
    "45-m7-di-ph.jpg",
    "obama.jpg",
    "obama2.jpg",
    "obama3.jpg",
    "biden.jpg",
    "32bit.png",
    "obama_partial_face.jpg",
    "free-mountain-vector-01.jpg",
]


@pytest.fixture(scope="session")
def model_paths() -> dict[str, Path]:
    return fetch(progress=False)


@pytest.fixture(scope="session")
def analyzer(model_paths: dict[str, Path]) -> Analyzer:
    engine = Analyzer()
    engine.load()
    return engine


@pytest.fixture(scope="session")
def photo_paths() -> dict[str, Path]:
    return fetch_fixtures([*PHOTOS, "single_face.mp4", "no_face.mp4"])


@pytest.fixture(scope="session")
def photos(photo_paths: dict[str, Path]) -> dict[str, np.ndarray]:
    return {name: decode_image(photo_paths[name].read_bytes()) for name in PHOTOS}


@pytest.fixture(scope="session")
def analysed(analyzer: Analyzer, photos: dict[str, np.ndarray]) -> dict[str, list[Face]]:
    return {name: analyzer.analyze(rgb) for name, rgb in photos.items()}


def face_at(faces: list[Face], x: float, y: float) -> Face:
    """The one detected face whose box contains the point (fails if none or several do)."""
    hits = [
        f for f in faces if f.box.x <= x < f.box.x + f.box.w and f.box.y <= y < f.box.y + f.box.h
    ]
    assert len(hits) == 1, f"{len(hits)} detected faces contain ({x}, {y})"
    return hits[0]
