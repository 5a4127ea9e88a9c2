"""What ``GET /v1/photos/{photo_id}/pose`` shows: keypoints per person per cut, pose type, mood.

Read from the photo's ``cut_poses`` (written by the analysis with the ``pose_analysis``
consent, erased when it is withdrawn); each cut is matched to the nearest learned pose
type of its number of people, as k-means assigned its members.
"""

from __future__ import annotations

import numpy as np

from cheese_ml.pose import KEYPOINT_NAMES
from cheese_runtime import consent
from cheese_runtime.db.session import session_scope
from functions.photos import poses_dal
from functions.photos.dal import PhotoRepository
from functions.photos.errors import PhotoNotFound
from functions.photos.models import CutPose, PoseType
from functions.photos.schemas import (
    CutPoseOut,
    Keypoint,
    PhotoPoseOut,
    PosePerson,
    PoseTypeRef,
    Rect,
)


def _nearest(cut: CutPose, types: list[PoseType]) -> PoseTypeRef | None:
    if not types:
        return None
    vector = poses_dal.vector_from_bytes(cut.vector)
    distances = [
        float(np.linalg.norm(poses_dal.vector_from_bytes(t.centroid) - vector)) for t in types
    ]
    nearest = types[int(np.argmin(distances))]
    return PoseTypeRef(id=nearest.id, description=list(nearest.description))


def _person(person: dict[str, object]) -> PosePerson:
    box = person["body_box"]
    assert isinstance(box, list)
    points = person["keypoints"]
    assert isinstance(points, list)
    return PosePerson(
        face_id=str(person["face_id"]),
        body_box=Rect(x=box[0], y=box[1], w=box[2], h=box[3]),
        keypoints=[
            Keypoint(name=name, x=point[0], y=point[1], score=point[2])
            for name, point in zip(KEYPOINT_NAMES, points, strict=True)
        ],
        mirrored=bool(person.get("mirrored", False)),
    )


def photo_pose(user_id: str, photo_id: str) -> PhotoPoseOut:
    with session_scope() as session:
        photo = PhotoRepository(session).owned(user_id, photo_id)
        if photo is None:
            raise PhotoNotFound()
        if not consent.Consents(session).decisions(user_id)[consent.POSE_ANALYSIS.name].granted:
            return PhotoPoseOut(photo_id=photo_id, pose_status="skipped", cuts=[])
        if photo.status != "analyzed":
            return PhotoPoseOut(photo_id=photo_id, pose_status="pending", cuts=[])
        cuts = poses_dal.for_photo(session, photo_id)
        types = {n: poses_dal.types_for(session, n) for n in {c.people_count for c in cuts}}
        return PhotoPoseOut(
            photo_id=photo_id,
            pose_status="ready",
            cuts=[
                CutPoseOut(
                    cut=c.cut,
                    rect=Rect(x=c.rect[0], y=c.rect[1], w=c.rect[2], h=c.rect[3]),
                    people=[_person(p) for p in c.people],
                    description=list(c.description),
                    pose_type=_nearest(c, types[c.people_count]),
                    mood=list(c.mood),
                    colour=dict(c.colour),
                    smile=c.smile,
                )
                for c in cuts
            ],
        )
