"""Request and response shapes of the video API (the Android app's contract, issue 12)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

from pydantic import BaseModel, Field

from functions.video.storage import MAX_LIVE_SEGMENTS, MAX_SEGMENT_BYTES, MAX_VIDEO_BYTES

VideoContentType = Literal["video/mp4", "video/webm", "video/quicktime"]
VideoStyle = Literal["mosaic", "blur", "cartoon"]
# "me" or a person id (a UUID) from GET /v1/people.
PersonRef = Annotated[
    str, Field(pattern=r"^(me|[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12})$")
]


class VideoIn(BaseModel):
    content_type: VideoContentType
    size_bytes: int = Field(ge=1, le=MAX_VIDEO_BYTES)


class VideoUpload(BaseModel):
    """A presigned POST: post ``fields`` and then the file (form field ``file``) to ``url``."""

    url: str
    fields: dict[str, str]
    expires_in: int


class VideoCreated(BaseModel):
    video_id: str
    upload: VideoUpload


class AnonymisationIn(BaseModel):
    keep: list[PersonRef] = Field(default_factory=list, max_length=20)
    style: VideoStyle = "mosaic"

    def people(self) -> list[str]:
        return list(dict.fromkeys(self.keep))


class AnonymisationAccepted(BaseModel):
    anonymisation_id: str


class Progress(BaseModel):
    frames_done: int
    frames_total: int | None


class TrackOut(BaseModel):
    id: int
    first_second: float
    last_second: float
    person_id: str | None  # None: a stranger, hidden


class AnonymisationOut(BaseModel):
    id: str
    status: Literal["queued", "processing", "done", "failed"]
    failure_reason: str | None
    keep: list[str]
    style: VideoStyle
    progress: Progress
    result_url: str | None
    tracks: list[TrackOut]
    created_at: datetime


class VideoOut(BaseModel):
    video_id: str
    status: Literal["uploading", "ready", "failed"]
    failure_reason: str | None
    content_type: VideoContentType
    size_bytes: int
    duration: float | None  # seconds, known once a worker has read the video
    width: int | None
    height: int | None
    created_at: datetime
    anonymisations: list[AnonymisationOut]


class VideoPage(BaseModel):
    items: list[VideoOut]
    next_cursor: str | None = None


# Live streams (numbered 2-second segments → an HLS playlist; functions/video/README.md).
LiveContentType = Literal["video/mp4", "video/webm"]
UserId = Annotated[
    str, Field(pattern=r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$")
]


class LiveViewers(BaseModel):
    public: bool = False  # every signed-in user may watch
    user_ids: list[UserId] = Field(default_factory=list, max_length=100)


class LiveStreamIn(AnonymisationIn):
    viewers: LiveViewers = Field(default_factory=LiveViewers)


class LiveStreamCreated(BaseModel):
    stream_id: str
    segment_seconds: float
    playlist: str  # the playlist's path on this API


class LiveSegmentIn(BaseModel):
    sequence: int = Field(ge=0, le=MAX_LIVE_SEGMENTS - 1)
    content_type: LiveContentType
    size_bytes: int = Field(ge=1, le=MAX_SEGMENT_BYTES)


class LiveSegmentUpload(BaseModel):
    sequence: int
    upload: VideoUpload


class LiveSegmentOut(BaseModel):
    sequence: int
    status: Literal["uploading", "queued", "done", "failed"]
    failure_reason: str | None
    duration: float | None


class LiveStreamOut(BaseModel):
    stream_id: str
    status: Literal["live", "ended"]
    keep: list[str]
    style: VideoStyle
    viewers: LiveViewers
    next_sequence: int  # every segment before it is done or failed
    segments: list[LiveSegmentOut]
    created_at: datetime
    ended_at: datetime | None
