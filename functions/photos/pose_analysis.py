"""The group pose and the mood of each cut of a photo (with the owner's pose_analysis consent).

    cuts = analyse_cuts(rgb, faces)      # faces: FaceInput(face_id, box, cut, expression, smile)

For every cut with people in it: MoveNet (``cheese_ml.pose``, Lightning by default) on a
body box derived from each face, clipped to the cut so that a neighbouring cut's person
never lends a limb; the people ordered left to right (``cheese_ml.poses.group_order``);
their normalised poses, the cut's group vector, a readable description and the mood
from the faces' expressions and the cut's colour. Pure computation: the analyzer stores
the result with the faces, in one transaction.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from cheese_ml.analysis import Analyzer, Box
from cheese_ml.pose import PoseModel, body_box, configured_model, pose
from cheese_ml.poses import as_array, colour, describe_group, group_order, group_vector, mood
from cheese_ml.poses import normalise as normalise_pose
from functions.photos.cuts import cut_rects

# A face much smaller than the cut's largest is a passer-by behind the group, not part of
# the pose (people page: "faces in the background"); and a booth cut holds a few friends.
MIN_FACE_FRACTION = 0.4
MAX_PEOPLE_PER_CUT = 6


@dataclass(frozen=True)
class FaceInput:
    face_id: str
    box: Box
    cut: int
    expression: dict[str, float] | None
    smile: float | None


@dataclass(frozen=True)
class CutAnalysis:
    cut: int
    rect: tuple[int, int, int, int]
    people: list[dict[str, Any]]  # left to right: face_id, body_box, keypoints, normalised
    vector: np.ndarray  # float32 group vector, 34 values per person
    description: list[str]
    mood: list[str]
    colour: dict[str, float]
    smile: float | None

    @property
    def people_count(self) -> int:
        return len(self.people)


def _clip(box: Box, rect: tuple[int, int, int, int]) -> Box:
    x0, y0, w, h = rect
    x1, y1 = max(box.x, x0), max(box.y, y0)
    x2, y2 = min(box.x + box.w, x0 + w), min(box.y + box.h, y0 + h)
    return Box(x1, y1, max(1, x2 - x1), max(1, y2 - y1))


def pose_people(faces: Sequence[FaceInput]) -> list[FaceInput]:
    """The faces of one cut that make its group pose (background faces left out)."""
    if not faces:
        return []
    largest = max(min(f.box.w, f.box.h) for f in faces)
    kept = [f for f in faces if min(f.box.w, f.box.h) >= MIN_FACE_FRACTION * largest]
    kept.sort(key=lambda f: -min(f.box.w, f.box.h))
    return kept[:MAX_PEOPLE_PER_CUT]


def analyse_cuts(
    rgb: np.ndarray,
    faces: Sequence[FaceInput],
    analyzer: Analyzer | None = None,
    model: PoseModel | None = None,
) -> list[CutAnalysis]:
    rects = cut_rects(rgb)
    model = model or configured_model()
    results: list[CutAnalysis] = []
    for cut in sorted({f.cut for f in faces}):
        rect = rects[cut] if cut < len(rects) else (0, 0, rgb.shape[1], rgb.shape[0])
        members = pose_people([f for f in faces if f.cut == cut])
        boxes = [_clip(body_box(f.box, rgb.shape), rect) for f in members]
        keypoints = [as_array(pose(rgb, box, analyzer, model)) for box in boxes]
        order = group_order(keypoints)
        people = []
        for index in order:
            normalised = normalise_pose(keypoints[index])
            people.append(
                {
                    "face_id": members[index].face_id,
                    "body_box": [boxes[index].x, boxes[index].y, boxes[index].w, boxes[index].h],
                    "keypoints": [[round(float(v), 2) for v in row] for row in keypoints[index]],
                    "normalised": [[round(float(v), 4) for v in row] for row in normalised.xy],
                    "mirrored": normalised.mirrored,
                }
            )
        x, y, w, h = rect
        crop = rgb[y : y + h, x : x + w]
        expressions = [f.expression for f in members if f.expression]
        smiles = [f.smile for f in members if f.smile is not None]
        c = colour(crop)
        results.append(
            CutAnalysis(
                cut=cut,
                rect=rect,
                people=people,
                vector=group_vector(keypoints).astype(np.float32),
                description=describe_group(keypoints),
                mood=mood(expressions, crop),
                colour={
                    "brightness": round(c.brightness, 3),
                    "warmth": round(c.warmth, 3),
                    "saturation": round(c.saturation, 3),
                },
                smile=round(float(np.mean(smiles)), 2) if smiles else None,
            )
        )
    return results
