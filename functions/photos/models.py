"""Photos' tables: photos, their faces, the people faces are grouped into
(revision 0003_photos), the anonymised views asked for (0005_photo_recovery),
people's groups and the merges that can be undone (0010_people), drawn faces (0012),
cut poses, pose types and their de-identified examples (0014_poses).
Consent is the runtime's (cheese_runtime/db/consent.py).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from sqlalchemy import (
    JSON,
    Boolean,
    Float,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from cheese_runtime.db.base import Base
from cheese_runtime.db.types import UTCDateTime, UUIDString, new_id, utcnow
from cheese_runtime.db.users import references_user

PhotoStatus = Literal["pending", "processing", "analyzed", "failed", "duplicate"]
PhotoSource = Literal["upload", "url", "qr"]
AnonymiseStyle = Literal["mosaic", "blur", "cartoon"]


class Person(Base):
    """A group of one user's faces believed to be one human."""

    __tablename__ = "people"

    id: Mapped[str] = mapped_column(UUIDString, primary_key=True, default=new_id)
    user_id: Mapped[str] = mapped_column(UUIDString, references_user(), index=True)
    name: Mapped[str | None] = mapped_column(String(64), nullable=True)
    hidden: Mapped[bool] = mapped_column(Boolean, default=False)
    is_me: Mapped[bool] = mapped_column(Boolean, default=False)
    cover_face_id: Mapped[str | None] = mapped_column(UUIDString, nullable=True)
    # The user's own labels ("family", "work"), which GET /v1/people?group= filters by.
    groups: Mapped[list[str]] = mapped_column(JSON, default=list)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)


class Photo(Base):
    __tablename__ = "photos"
    __table_args__ = (
        UniqueConstraint("user_id", "sha256", name="uq_photos_user_sha256"),
        Index("ix_photos_user_taken", "user_id", "taken_at", "id"),
        # The reconciler's worklist: photos still pending or processing, oldest first.
        Index("ix_photos_status_changed", "status", "status_changed_at"),
    )

    id: Mapped[str] = mapped_column(UUIDString, primary_key=True, default=new_id)
    user_id: Mapped[str] = mapped_column(UUIDString, references_user())
    # pending -> processing -> analyzed | failed | duplicate (of ``duplicate_of``)
    status: Mapped[PhotoStatus] = mapped_column(String(16), default="pending")
    failure_reason: Mapped[str | None] = mapped_column(String(64), nullable=True)
    # upload | url | qr
    source: Mapped[PhotoSource] = mapped_column(String(8))
    source_url: Mapped[str | None] = mapped_column(Text, nullable=True)
    content_type: Mapped[str] = mapped_column(String(32))
    size_bytes: Mapped[int | None] = mapped_column(Integer, nullable=True)
    sha256: Mapped[str | None] = mapped_column(String(64), nullable=True)
    width: Mapped[int | None] = mapped_column(Integer, nullable=True)
    height: Mapped[int | None] = mapped_column(Integer, nullable=True)
    perceptual_hash: Mapped[str | None] = mapped_column(String(16), nullable=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    taken_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    analyzed_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    # The user's photo with the same bytes, when the analysis found one (no foreign key: adding
    # one to an existing SQLite table means recreating it; deleting a photo deletes its duplicates).
    duplicate_of: Mapped[str | None] = mapped_column(UUIDString, nullable=True)
    # When the status last moved, and how often the reconciler re-drove the photo since.
    status_changed_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    redrives: Mapped[int] = mapped_column(Integer, default=0)

    def move_to(self, status: PhotoStatus, failure_reason: str | None = None) -> None:
        self.status, self.failure_reason, self.status_changed_at = status, failure_reason, utcnow()


class Face(Base):
    __tablename__ = "faces"
    __table_args__ = (Index("ix_faces_user_person", "user_id", "person_id"),)

    id: Mapped[str] = mapped_column(UUIDString, primary_key=True, default=new_id)
    photo_id: Mapped[str] = mapped_column(
        UUIDString, ForeignKey("photos.id", ondelete="CASCADE"), index=True
    )
    user_id: Mapped[str] = mapped_column(UUIDString, references_user())
    box_x: Mapped[int] = mapped_column(Integer)
    box_y: Mapped[int] = mapped_column(Integer)
    box_w: Mapped[int] = mapped_column(Integer)
    box_h: Mapped[int] = mapped_column(Integer)
    # Which cut of a photo-booth print the face is in (0 for an ordinary photo).
    cut: Mapped[int] = mapped_column(Integer, default=0)
    landmarks: Mapped[list[list[float]]] = mapped_column(JSON)
    detection_score: Mapped[float] = mapped_column(Float)
    quality: Mapped[dict[str, Any]] = mapped_column(JSON)
    # Large and sharp enough to cluster (faces below the bar are kept, not clustered).
    usable: Mapped[bool] = mapped_column(Boolean)
    # float32 L2-normalised identity embedding; NULL without face-grouping consent.
    embedding: Mapped[bytes | None] = mapped_column(LargeBinary, nullable=True)
    expression: Mapped[dict[str, float] | None] = mapped_column(JSON, nullable=True)
    smile: Mapped[float | None] = mapped_column(Float, nullable=True)
    person_id: Mapped[str | None] = mapped_column(
        UUIDString, ForeignKey("people.id", ondelete="SET NULL"), nullable=True
    )
    assigned_manually: Mapped[bool] = mapped_column(Boolean, default=False)
    # Drawn by the user where the detector found nothing (POST /v1/photos/{photo_id}/faces).
    drawn: Mapped[bool] = mapped_column(Boolean, default=False)
    # The face's id in the external face index (Rekognition FaceId), when that backend is used.
    index_face_id: Mapped[str | None] = mapped_column(String(64), nullable=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class PersonMerge(Base):
    """A merge as it was done, so that undoing it gives every merged person back.

    ``sources`` holds, per merged person, what it was (id, name, hidden, is_me, groups) and
    the faces that moved; ``target`` holds the kept person's fields before the merge.
    """

    __tablename__ = "person_merges"

    id: Mapped[str] = mapped_column(UUIDString, primary_key=True, default=new_id)
    user_id: Mapped[str] = mapped_column(UUIDString, references_user(), index=True)
    target_person_id: Mapped[str] = mapped_column(UUIDString)
    target: Mapped[dict[str, Any]] = mapped_column(JSON)
    sources: Mapped[list[dict[str, Any]]] = mapped_column(JSON)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    undone_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)


class AnonymisedView(Base):
    """An anonymised view asked for and not (yet) in the S3 cache: rendering, or failed and why.

    A view in the cache is ready whatever its row says; the row is what lets the reconciler
    re-drive a render whose request was lost and the API stop answering "rendering".
    """

    __tablename__ = "anonymised_views"

    object_key: Mapped[str] = mapped_column(String(512), primary_key=True)
    user_id: Mapped[str] = mapped_column(UUIDString, references_user())
    photo_id: Mapped[str] = mapped_column(
        UUIDString, ForeignKey("photos.id", ondelete="CASCADE"), index=True
    )
    keep_person_ids: Mapped[list[str]] = mapped_column(JSON)
    style: Mapped[AnonymiseStyle] = mapped_column(String(16))
    # rendering | failed
    status: Mapped[str] = mapped_column(String(16), default="rendering")
    failure_reason: Mapped[str | None] = mapped_column(String(64), nullable=True)
    redrives: Mapped[int] = mapped_column(Integer, default=0)
    requested_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    status_changed_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class CutPose(Base):
    """One cut's group pose and mood (revision 0014_poses), kept with the pose_analysis consent.

    ``people`` lists the cut's people left to right: the face each was found from, the body box
    MoveNet ran on, the 17 keypoints in photo pixels ((x, y, score), COCO order) and the
    normalised pose (centred on the hips, in torso lengths, canonical side). ``vector`` is
    ``cheese_ml.poses.group_vector`` as float32: what pose types are learned from.
    """

    __tablename__ = "cut_poses"
    __table_args__ = (
        UniqueConstraint("photo_id", "cut", name="uq_cut_poses_photo_cut"),
        # The re-learn reads every cut of a number of people; a user's "tried" check, theirs.
        Index("ix_cut_poses_user_people", "user_id", "people_count"),
    )

    id: Mapped[str] = mapped_column(UUIDString, primary_key=True, default=new_id)
    photo_id: Mapped[str] = mapped_column(
        UUIDString, ForeignKey("photos.id", ondelete="CASCADE"), index=True
    )
    user_id: Mapped[str] = mapped_column(UUIDString, references_user())
    cut: Mapped[int] = mapped_column(Integer)
    # The cut's rectangle in the photo: x, y, w, h.
    rect: Mapped[list[int]] = mapped_column(JSON)
    people_count: Mapped[int] = mapped_column(Integer)
    people: Mapped[list[dict[str, Any]]] = mapped_column(JSON)
    vector: Mapped[bytes] = mapped_column(LargeBinary)
    description: Mapped[list[str]] = mapped_column(JSON)
    mood: Mapped[list[str]] = mapped_column(JSON)
    colour: Mapped[dict[str, float]] = mapped_column(JSON)
    # Mean smile (0-100) of the cut's faces; NULL without expression consent.
    smile: Mapped[float | None] = mapped_column(Float, nullable=True)
    model: Mapped[str] = mapped_column(String(32))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class PoseType(Base):
    """A pose type learned from every opted-in cut with ``people_count`` people (k-means).

    Re-learned by the photos-pose-types schedule, which replaces all rows at once: ids are
    stable only between two runs. ``users`` (how many users have a cut of the type) is its
    popularity; ``smile`` the mean smile of its cuts.
    """

    __tablename__ = "pose_types"

    id: Mapped[str] = mapped_column(UUIDString, primary_key=True, default=new_id)
    people_count: Mapped[int] = mapped_column(Integer, index=True)
    centroid: Mapped[bytes] = mapped_column(LargeBinary)
    # A cut within this distance of the centroid has "tried" the type.
    radius: Mapped[float] = mapped_column(Float)
    cuts: Mapped[int] = mapped_column(Integer)
    users: Mapped[int] = mapped_column(Integer)
    smile: Mapped[float | None] = mapped_column(Float, nullable=True)
    description: Mapped[list[str]] = mapped_column(JSON)
    learned_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class MoodStat(Base):
    """How popular a mood label is among opted-in cuts, re-learned with the pose types
    (revision 0017_mood_stats), so that mood recommendations read a few rows, not every cut."""

    __tablename__ = "mood_stats"

    mood: Mapped[str] = mapped_column(String(32), primary_key=True)
    users: Mapped[int] = mapped_column(Integer)
    cuts: Mapped[int] = mapped_column(Integer)
    smile: Mapped[float | None] = mapped_column(Float, nullable=True)
    learned_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class PoseExample(Base):
    """A de-identified cut shown as an example of a pose type, with its verification.

    Only examples with ``verified`` are ever served: every face cartooned, each cartoon's
    identity similarity to its source face below the grouping threshold, and MoveNet's
    keypoints on the de-identified image within OKS 0.8 of the original's. Rows that
    failed stay (``failure``) so that the figures can count them; they have no object.
    """

    __tablename__ = "pose_examples"

    id: Mapped[str] = mapped_column(UUIDString, primary_key=True, default=new_id)
    pose_type_id: Mapped[str] = mapped_column(
        UUIDString, ForeignKey("pose_types.id", ondelete="CASCADE"), index=True
    )
    cut_pose_id: Mapped[str] = mapped_column(
        UUIDString, ForeignKey("cut_poses.id", ondelete="CASCADE"), index=True
    )
    # The owner of the source photo (who opted in to pose_examples).
    user_id: Mapped[str] = mapped_column(UUIDString, references_user(), index=True)
    object_key: Mapped[str | None] = mapped_column(String(512), nullable=True)
    verified: Mapped[bool] = mapped_column(Boolean, default=False)
    # Highest identity similarity of a de-identified face to its source, lowest keypoint OKS.
    identity_similarity: Mapped[float | None] = mapped_column(Float, nullable=True)
    oks: Mapped[float | None] = mapped_column(Float, nullable=True)
    failure: Mapped[str | None] = mapped_column(String(64), nullable=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
