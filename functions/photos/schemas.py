"""Request and response models of the photos and people API."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

from pydantic import BaseModel, Field, HttpUrl, field_validator

from cheese_runtime.inputs import Id, InputModel, Text
from functions.photos.storage import ALLOWED_CONTENT_TYPES

PhotoStatus = Literal["pending", "processing", "analyzed", "failed", "duplicate"]
PhotoSource = Literal["upload", "url", "qr"]
AnonymiseStyle = Literal["mosaic", "blur", "cartoon"]
Group = Annotated[Text, Field(min_length=1, max_length=32)]


class UploadRequest(InputModel):
    content_type: Text
    size_bytes: int = Field(gt=0)
    sha256: str | None = Field(default=None, pattern="^[0-9a-fA-F]{64}$")

    @field_validator("content_type")
    @classmethod
    def _content_type(cls, value: str) -> str:
        value = value.lower().strip()
        if value not in ALLOWED_CONTENT_TYPES:
            raise ValueError(f"content_type must be one of {', '.join(ALLOWED_CONTENT_TYPES)}")
        return value


class PresignedPost(BaseModel):
    url: str
    fields: dict[str, str]


class UploadResponse(BaseModel):
    photo_id: str
    # None when the same content was uploaded before: that photo is returned.
    upload: PresignedPost | None
    duplicate: bool = False


class ImportRequest(InputModel):
    url: HttpUrl = Field(description="The URL read from the booth's QR code")


class ImportResponse(BaseModel):
    photo_ids: list[str]


class FaceBox(BaseModel):
    x: int
    y: int
    w: int
    h: int


class DrawnBox(InputModel):
    # Pixels of the upright photo, as in FaceOut.box.
    x: int = Field(ge=0)
    y: int = Field(ge=0)
    w: int = Field(ge=16, le=20000)
    h: int = Field(ge=16, le=20000)


class DrawFaceRequest(InputModel):
    box: DrawnBox


class FaceOut(BaseModel):
    id: str
    box: FaceBox
    quality: float
    usable: bool
    person_id: Id | None
    smile: float | None
    expression: dict[str, float] | None
    # Drawn by the user (POST /v1/photos/{photo_id}/faces), not found by the detector.
    drawn: bool = False


class PhotoOut(BaseModel):
    id: str
    status: PhotoStatus
    failure_reason: str | None
    # With status "duplicate": the user's photo with the same bytes, which the app shows instead.
    duplicate_of: str | None = None
    source: PhotoSource
    content_type: str
    width: int | None
    height: int | None
    created_at: datetime
    taken_at: datetime
    analyzed_at: datetime | None
    image_url: str | None
    thumbnail_url: str | None
    faces: list[FaceOut]


class PhotoPage(BaseModel):
    items: list[PhotoOut]
    next_cursor: str | None


class ConsentIn(InputModel):
    face_grouping: bool
    expression_analysis: bool
    # Optional so that clients from before the poses feature keep working: absent = unchanged.
    pose_analysis: bool | None = None
    pose_examples: bool | None = None


class ConsentOut(BaseModel):
    face_grouping: bool
    face_grouping_changed_at: datetime | None
    expression_analysis: bool
    expression_analysis_changed_at: datetime | None
    pose_analysis: bool
    pose_analysis_changed_at: datetime | None
    pose_examples: bool
    pose_examples_changed_at: datetime | None


class PersonOut(BaseModel):
    id: str
    name: str | None
    hidden: bool
    is_me: bool
    photo_count: int
    face_count: int
    cover_face_url: str | None
    groups: list[str] = []
    # Faces, their size and photos with "me" (functions/photos/importance.py): the list's order.
    importance: float = 0.0


class MergedPersonOut(PersonOut):
    # POST /v1/people/merges/{merge_id}/undo gives the merged people back.
    merge_id: str


class UndoneMerge(BaseModel):
    # The kept person first, then every person the merge had folded into it.
    people: list[PersonOut]


class PersonPage(BaseModel):
    items: list[PersonOut]
    next_cursor: str | None


class PersonPatch(InputModel):
    # Blank clears the name.
    name: Annotated[Text, Field(max_length=64)] | None = None
    hidden: bool | None = None
    is_me: bool | None = None
    # Replaces the person's groups; [] clears them.
    groups: list[Group] | None = Field(default=None, max_length=20)


class MergeRequest(InputModel):
    person_ids: list[Id] = Field(min_length=1, max_length=50)


class SplitRequest(InputModel):
    # Faces of the person that are someone else: they become a new person.
    face_ids: list[Id] = Field(min_length=1, max_length=500)


class AssignRequest(InputModel):
    # None: the face becomes a person of its own.
    person_id: Id | None


class Suggestion(BaseModel):
    person: PersonOut
    similarity: float


class AnonymisedOut(BaseModel):
    status: Literal["ready", "rendering"]
    url: str | None = None


class Accepted(BaseModel):
    status: Literal["accepted"] = "accepted"


class Keypoint(BaseModel):
    """A MoveNet keypoint in photo pixels (COCO order and names), with its score (0–1)."""

    name: str
    x: float
    y: float
    score: float


class Rect(BaseModel):
    x: int
    y: int
    w: int
    h: int


class PosePerson(BaseModel):
    """One person of a cut, left to right: the face they were found from and their pose."""

    face_id: str
    body_box: Rect
    keypoints: list[Keypoint]
    # The pose was mirrored to the canonical side before it was compared with others.
    mirrored: bool


class PoseTypeRef(BaseModel):
    id: str
    description: list[str]


class CutPoseOut(BaseModel):
    cut: int  # 0-3 on a four-cut print, 0 for a single photo
    rect: Rect
    people: list[PosePerson]
    description: list[str]  # "both arms raised", "heads together", ...
    # The learned pose type this cut is nearest to (None before any type is learned).
    pose_type: PoseTypeRef | None
    mood: list[str]
    colour: dict[str, float]  # brightness, warmth, saturation
    smile: float | None  # the mean smile (0–100) of its faces, with expression consent


class PhotoPoseOut(BaseModel):
    photo_id: str
    # "pending" until the photo is analysed; "skipped" without the pose_analysis consent.
    pose_status: Literal["ready", "pending", "skipped"]
    cuts: list[CutPoseOut]


class PoseExampleOut(BaseModel):
    id: str
    # A de-identified cut of another user who allows it (short-lived URL).
    image_url: str


class PoseRecommendation(BaseModel):
    pose_type_id: str
    people: int
    description: list[str]
    # Distinct users with a cut of this type, and its cuts.
    popularity: int
    cuts: int
    smile: float | None  # the mean smile of its cuts (0–100)
    examples: list[PoseExampleOut]


class PoseRecommendations(BaseModel):
    items: list[PoseRecommendation]


class MoodRecommendation(BaseModel):
    mood: str
    popularity: int  # distinct users with a cut of this mood
    cuts: int
    smile: float | None
    examples: list[PoseExampleOut]


class MoodRecommendations(BaseModel):
    items: list[MoodRecommendation]
