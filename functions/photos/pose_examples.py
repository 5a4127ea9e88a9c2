"""Each pose type's example images: cuts of users who allow it, de-identified and verified.

After the pose types are re-learned (``pose_types``), every type gets up to
:data:`EXAMPLES_PER_TYPE` examples: the cuts within the type's radius whose owner
allows ``pose_examples`` now, nearest the centroid first, one per owner. Each cut is
cropped from its original, every face in it painted and checked by
``cheese_ml.deidentify`` (no painted face recognisable by the grouping model, the pose
still readable). A verified example's JPEG goes under its owner's derived prefix (so
erasure and withdrawal remove it); a failed one keeps only its row and its reason,
which the figures count. Only verified examples are ever served
(``poses_dal.served_examples``).
"""

from __future__ import annotations

import numpy as np
from sqlalchemy import select
from sqlalchemy.orm import Session

from cheese_ml.analysis import Box, Detection, default_analyzer
from cheese_ml.deidentify import SourceFace, SourcePerson, deidentify
from cheese_ml.images import decode_image, encode_jpeg
from cheese_runtime import aws, consent
from cheese_runtime.db.types import new_id
from cheese_runtime.observability import logger
from functions.photos import poses_dal, storage
from functions.photos.dal import embedding_from_bytes
from functions.photos.models import CutPose, Face, PoseExample, PoseType

EXAMPLES_PER_TYPE = 3
# Cuts tried per type before giving up on filling it (each costs ~0.2 s).
CANDIDATES_PER_TYPE = 6


def example_key(user_id: str, example_id: str) -> str:
    return f"{storage.derived_prefix(user_id)}pose-examples/{example_id}.jpg"


def _candidates(session: Session, pose_type: PoseType) -> list[CutPose]:
    """Cuts of the type (within its radius) of users who allow examples, nearest first."""
    cuts = list(
        session.scalars(
            select(CutPose).where(
                CutPose.people_count == pose_type.people_count,
                CutPose.user_id.in_(poses_dal.granted(consent.POSE_EXAMPLES)),
                CutPose.user_id.in_(poses_dal.granted(consent.POSE_ANALYSIS)),
            )
        )
    )
    centroid = poses_dal.vector_from_bytes(pose_type.centroid)
    near = [
        (float(np.linalg.norm(poses_dal.vector_from_bytes(c.vector) - centroid)), c) for c in cuts
    ]
    chosen, owners = [], set()
    for distance, cut in sorted(near, key=lambda pair: pair[0]):
        if distance > pose_type.radius or cut.user_id in owners:
            continue
        owners.add(cut.user_id)
        chosen.append(cut)
    return chosen[:CANDIDATES_PER_TYPE]


def _sources(
    rgb: np.ndarray, cut: CutPose, faces: list[Face]
) -> tuple[np.ndarray, list[SourceFace], list[SourcePerson]]:
    """The cut's crop, its faces and people in the crop's pixels."""
    x, y, w, h = cut.rect
    crop = np.ascontiguousarray(rgb[y : y + h, x : x + w])
    offset = np.array([x, y], dtype=np.float64)
    analyzer = default_analyzer()
    sources = []
    for face in faces:
        landmarks = np.asarray(face.landmarks, dtype=np.float64) - offset
        box = Box(face.box_x - x, face.box_y - y, face.box_w, face.box_h)
        if face.embedding is not None:
            embedding = embedding_from_bytes(face.embedding)
        else:  # without face-grouping consent no embedding is stored: made here, never kept
            xyxy = np.array([box.x, box.y, box.x + box.w, box.y + box.h], dtype=np.float64)
            aligned, _ = analyzer.align(crop, [Detection(xyxy, 1.0, landmarks)])
            embedding = analyzer.embed(aligned)[0]
        sources.append(SourceFace(box, landmarks, embedding))
    people = []
    for person in cut.people:
        bx, by, bw, bh = person["body_box"]
        keypoints = np.asarray(person["keypoints"], dtype=np.float64)
        keypoints[:, :2] -= offset
        people.append(SourcePerson(Box(bx - x, by - y, bw, bh), keypoints))
    return crop, sources, people


def _example(session: Session, pose_type: PoseType, cut: CutPose) -> PoseExample:
    faces = [
        f
        for f in session.scalars(select(Face).where(Face.photo_id == cut.photo_id))
        if f.cut == cut.cut
    ]
    original = aws.client("s3").get_object(
        Bucket=storage.bucket(), Key=storage.original_key(cut.user_id, cut.photo_id)
    )
    crop, sources, people = _sources(decode_image(original["Body"].read()), cut, faces)
    result = deidentify(crop, sources, people)
    verification = result.verification
    example = PoseExample(
        id=new_id(),
        pose_type_id=pose_type.id,
        cut_pose_id=cut.id,
        user_id=cut.user_id,
        verified=verification.verified,
        identity_similarity=max(verification.identity_similarities, default=None),
        oks=min(verification.pose_oks, default=None),
        failure=verification.failure,
    )
    if verification.verified:
        example.object_key = example_key(cut.user_id, example.id)
        storage.put_jpeg(example.object_key, encode_jpeg(result.rgb, 85))
    return example


def choose_examples(session: Session, types: list[PoseType]) -> dict[str, int]:
    """Fill every type's examples; returns how many were verified and how many failed."""
    counts = {"verified": 0, "failed": 0}
    for pose_type in types:
        verified = 0
        for cut in _candidates(session, pose_type):
            try:
                example = _example(session, pose_type, cut)
            except Exception:  # one unreadable original must not stop the others
                logger.exception("pose example skipped", extra={"cut_pose_id": cut.id})
                continue
            session.add(example)
            counts["verified" if example.verified else "failed"] += 1
            verified += example.verified
            if verified >= EXAMPLES_PER_TYPE:
                break
    session.flush()
    return counts
