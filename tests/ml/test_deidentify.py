"""De-identified pose examples on real photos: nobody recognisable, the pose still readable."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from cheese_ml.analysis import Analyzer, Box
from cheese_ml.deidentify import (
    MAX_IDENTITY_SIMILARITY,
    MIN_OKS,
    SourceFace,
    SourcePerson,
    deidentify,
    identity_similarities,
)
from cheese_ml.fixtures import fixture_path
from cheese_ml.images import decode_image
from cheese_ml.pose import pose
from cheese_ml.poses import as_array
from functions.photos.clustering.faces import ClusterParams

PHOTOS = (
    "obama.jpg",
    "obama3.jpg",
    "biden.jpg",
    "franck_01829.jpg",
    "multi_face.jpg",
    "sample1.jpg",
    "sample2.jpg",
    "sample3.jpg",
)


def sources(rgb: np.ndarray, analyzer: Analyzer) -> tuple[list[SourceFace], list[SourcePerson]]:
    detections = analyzer.detect(rgb)
    crops, _ = analyzer.align(rgb, detections)
    embeddings = analyzer.embed(crops)
    faces = []
    for detection, embedding in zip(detections, embeddings, strict=True):
        x1, y1, x2, y2 = (int(v) for v in detection.box_xyxy)
        faces.append(SourceFace(Box(x1, y1, x2 - x1, y2 - y1), detection.landmarks, embedding))
    height, width = rgb.shape[:2]
    whole = Box(0, 0, width, height)
    return faces, [SourcePerson(whole, as_array(pose(rgb, whole, analyzer)))]


def test_the_threshold_is_the_one_grouping_joins_faces_at() -> None:
    assert pytest.approx(1 - ClusterParams().max_distance) == MAX_IDENTITY_SIMILARITY


def test_no_painted_face_of_real_photos_is_recognised_by_the_grouping_model(
    analyzer: Analyzer,
) -> None:
    similarities = []
    for name in PHOTOS:
        rgb = decode_image(Path(fixture_path(name)).read_bytes())
        faces, people = sources(rgb, analyzer)
        assert faces, name
        # The check can fail: the unpainted photo is its own faces, far above the threshold.
        assert min(identity_similarities(rgb, faces, analyzer)) > 0.95
        result = deidentify(rgb, faces, people, analyzer)
        assert result.rgb.shape == rgb.shape and not np.array_equal(result.rgb, rgb)
        assert len(result.verification.identity_similarities) == len(faces)
        similarities += result.verification.identity_similarities
    # 18 faces of 8 photos: the re-identification rate at the grouping threshold is 0.
    assert len(similarities) == 18
    assert max(similarities) < MAX_IDENTITY_SIMILARITY


def test_a_group_photo_stays_readable_and_a_moved_pose_is_refused(analyzer: Analyzer) -> None:
    rgb = decode_image(Path(fixture_path("multi_face.jpg")).read_bytes())
    faces, people = sources(rgb, analyzer)
    result = deidentify(rgb, faces, people, analyzer)
    assert result.verification.verified, result.verification
    assert min(result.verification.pose_oks) >= MIN_OKS

    # Keypoints that are not the picture's pose (shifted by a third of the photo): refused.
    shifted = people[0].keypoints.copy()
    shifted[:, 0] += rgb.shape[1] / 3
    moved = deidentify(rgb, faces, [SourcePerson(people[0].body_box, shifted)], analyzer)
    assert moved.verification.failure == "pose-unreadable" and not moved.verification.verified
