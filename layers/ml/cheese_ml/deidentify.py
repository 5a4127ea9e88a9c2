"""De-identified pose examples, verified before anyone is shown them (issue 14).

A cut of another user's photo may only be shown as a pose example once nobody can
be recognised in it, and once its pose is still what it shows. :func:`deidentify`
paints every face as a cartoon (``anonymise``'s style: the face reduced to a few
pixels, posterised, outlined) and then checks, rather than assumes:

- **identity**: each painted face, aligned both where the source face was and where
  the detector finds a face in the painted image, is embedded by the same model as
  grouping; its cosine similarity to the source face's embedding must stay below
  :data:`MAX_IDENTITY_SIMILARITY`, the similarity at which grouping joins two faces;
- **pose**: MoveNet's keypoints on the painted image must lie within COCO OKS
  :data:`MIN_OKS` of the original keypoints for every person.

An example that fails either check is never served; the verification says why.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

import numpy as np

from cheese_ml.analysis import Analyzer, Box, Detection, default_analyzer
from cheese_ml.anonymise import hide_boxes
from cheese_ml.pose import PoseModel, pose
from cheese_ml.poses import as_array, oks

# Grouping joins two faces within cosine distance 0.35 (functions/photos ClusterParams
# max_distance): a painted face at or above this similarity to its source could be
# grouped with it, i.e. recognised. tests/ml/test_deidentify.py keeps the two in step.
MAX_IDENTITY_SIMILARITY = 0.65
# COCO OKS of the painted image's keypoints against the original's (issue 14).
MIN_OKS = 0.8
# A painted face is looked for by the detector within this IoU of the source box.
SAME_FACE_IOU = 0.3

Failure = Literal["reidentifiable", "pose-unreadable"]


@dataclass(frozen=True)
class SourceFace:
    """A face of the original image: where it is and who it is (its grouping embedding)."""

    box: Box
    landmarks: np.ndarray  # (5, 2) photo pixels
    embedding: np.ndarray  # (192,) L2-normalised


@dataclass(frozen=True)
class SourcePerson:
    body_box: Box
    keypoints: np.ndarray  # (17, 3): x, y, score in photo pixels


@dataclass(frozen=True)
class Verification:
    identity_similarities: tuple[float, ...]  # per face, the highest of its alignments
    pose_oks: tuple[float, ...]  # per person
    failure: Failure | None

    @property
    def verified(self) -> bool:
        return self.failure is None


@dataclass(frozen=True)
class DeidentifiedImage:
    rgb: np.ndarray
    verification: Verification


def _iou(a: np.ndarray, b: np.ndarray) -> float:
    x1, y1 = max(a[0], b[0]), max(a[1], b[1])
    x2, y2 = min(a[2], b[2]), min(a[3], b[3])
    inter = max(0.0, x2 - x1) * max(0.0, y2 - y1)
    union = (a[2] - a[0]) * (a[3] - a[1]) + (b[2] - b[0]) * (b[3] - b[1]) - inter
    return float(inter / union) if union > 0 else 0.0


def _xyxy(box: Box) -> np.ndarray:
    return np.array([box.x, box.y, box.x + box.w, box.y + box.h], dtype=np.float64)


def identity_similarities(
    painted: np.ndarray, faces: Sequence[SourceFace], analyzer: Analyzer
) -> list[float]:
    """Each source face's highest similarity to what the painted image shows where it was."""
    if not faces:
        return []
    found = analyzer.detect(painted)
    alignments: list[tuple[int, Detection]] = []
    for index, face in enumerate(faces):
        source_box = _xyxy(face.box)
        alignments.append((index, Detection(source_box, 1.0, face.landmarks)))
        alignments += [(index, d) for d in found if _iou(source_box, d.box_xyxy) >= SAME_FACE_IOU]
    crops, _ = analyzer.align(painted, [d for _, d in alignments])
    embeddings = analyzer.embed(crops)
    best = [-1.0] * len(faces)
    for (index, _), embedding in zip(alignments, embeddings, strict=True):
        best[index] = max(best[index], float(embedding @ faces[index].embedding))
    return best


def deidentify(
    rgb: np.ndarray,
    faces: Sequence[SourceFace],
    people: Sequence[SourcePerson],
    analyzer: Analyzer | None = None,
    model: PoseModel | None = None,
) -> DeidentifiedImage:
    """Every face of ``rgb`` painted as a cartoon, with the verification of the result."""
    analyzer = analyzer or default_analyzer()
    painted = hide_boxes(rgb, [f.box for f in faces], style="cartoon")
    similarities = tuple(round(s, 4) for s in identity_similarities(painted, faces, analyzer))
    readable = tuple(
        round(oks(p.keypoints, as_array(pose(painted, p.body_box, analyzer, model))), 4)
        for p in people
    )
    failure: Failure | None = None
    if any(s >= MAX_IDENTITY_SIMILARITY for s in similarities):
        failure = "reidentifiable"
    elif any(o < MIN_OKS for o in readable):
        failure = "pose-unreadable"
    return DeidentifiedImage(painted, Verification(similarities, readable, failure))
