"""Request and response models of the diary API (issue 13's shapes, exactly)."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import Literal

from pydantic import BaseModel, ConfigDict, EmailStr, Field, field_validator

from cheese_runtime.db.types import utcnow
from cheese_runtime.inputs import MultilineText, Text
from functions.diary.results import EmotionSkipped, EmotionSummary, TimelinePoint, Transcript

DiaryStatus = Literal["pending", "processing", "ready", "failed"]
# "pending" until analysed; "skipped" (with a reason) when an analysed diary has no timeline.
TimelineStatus = Literal["pending", "ready", "skipped", "failed"]
VideoContentType = Literal["video/mp4", "video/webm", "video/quicktime"]
MAX_TAG_LENGTH = 64
MAX_USER_TAGS = 20
EARLIEST_DIARY = date(1900, 1, 1)


class StrictModel(BaseModel):
    model_config = ConfigDict(extra="forbid")


def _clean_text(value: str) -> str:
    value = " ".join(value.split())
    if not value:
        raise ValueError("must not be blank")
    return value


def _recorded_on(value: date) -> date:
    # A day ahead of UTC: the app sends the diarist's local date.
    if not EARLIEST_DIARY <= value <= (utcnow() + timedelta(days=1)).date():
        raise ValueError("recorded_on must be a past date")
    return value


class DiaryIn(StrictModel):
    recorded_on: date
    title: Text | None = Field(default=None, max_length=200)
    content_type: VideoContentType
    size_bytes: int = Field(gt=0, le=2**53)

    _recorded = field_validator("recorded_on")(classmethod(lambda cls, v: _recorded_on(v)))
    _title = field_validator("title")(
        classmethod(lambda cls, v: None if v is None else _clean_text(v))
    )


class DiaryUpload(BaseModel):
    """POST ``fields`` and then the file (form field ``file``) to ``url``."""

    url: str
    fields: dict[str, str]
    expires_in: int
    max_bytes: int


class DiaryCreated(BaseModel):
    diary_id: str
    status: DiaryStatus
    upload: DiaryUpload


class DiaryPatch(StrictModel):
    title: Text | None = Field(default=None, max_length=200)
    tags: list[Text] | None = Field(default=None, max_length=MAX_USER_TAGS)
    share_transcript: bool | None = None

    _title = field_validator("title")(
        classmethod(lambda cls, v: None if v is None else _clean_text(v))
    )

    @field_validator("tags")
    @classmethod
    def _tags(cls, tags: list[str] | None) -> list[str] | None:
        if tags is None:
            return None
        cleaned = [_clean_text(t) for t in tags]
        if any(len(t) > MAX_TAG_LENGTH for t in cleaned):
            raise ValueError(f"tags are at most {MAX_TAG_LENGTH} characters")
        return list(dict.fromkeys(cleaned))


class DiarySummary(BaseModel):
    diary_id: str
    recorded_on: date
    title: str | None
    status: DiaryStatus
    failure_reason: str | None = None
    duration_s: float | None = None
    thumbnail_url: str | None = None
    tags: list[str]
    dominant_emotion: str | None = None
    # False when the diary is read through a channel it is shared in.
    mine: bool
    created_at: datetime


class DiaryOut(DiarySummary):
    video_url: str | None = None
    timeline: list[TimelinePoint] | None = None
    # Why ``timeline`` is null: the analysis has not run (pending), failed with the diary,
    # or skipped the emotion analysis (``timeline_skipped_reason``).
    timeline_status: TimelineStatus
    # "no-consent": expression_analysis was not granted when the diary was analysed;
    # "no-face": no face was seen; "consent-withdrawn": erased when it was withdrawn.
    timeline_skipped_reason: EmotionSkipped | None = None
    # None until analysed, and for channel members unless the author shares it.
    transcript: Transcript | None = None
    key_sentences: list[str] = []
    emotion_summary: EmotionSummary | None = None
    share_transcript: bool


class DiaryPage(BaseModel):
    items: list[DiarySummary]
    next_cursor: str | None = None


class CalendarDay(BaseModel):
    date: date
    count: int
    dominant_emotion: str | None = None


class CalendarOut(BaseModel):
    year: int
    days: list[CalendarDay]


class ChannelIn(StrictModel):
    name: Text = Field(min_length=1, max_length=100)

    _name = field_validator("name")(classmethod(lambda cls, v: _clean_text(v)))


class ChannelMemberOut(BaseModel):
    user_id: str
    display_name: str
    role: Literal["owner", "member"]
    joined_at: datetime


class ChannelSummary(BaseModel):
    channel_id: str
    name: str
    owner_id: str
    role: Literal["owner", "member"]
    created_at: datetime


class ChannelOut(ChannelSummary):
    members: list[ChannelMemberOut]


class ChannelPage(BaseModel):
    items: list[ChannelSummary]
    next_cursor: str | None = None


class InvitationIn(StrictModel):
    email: EmailStr = Field(max_length=254)


class InvitationSent(BaseModel):
    """The same answer whether or not the email has an account."""

    channel_id: str
    email: str
    status: Literal["invited"] = "invited"


class InvitationOut(BaseModel):
    invitation_id: str
    channel_id: str
    channel_name: str
    invited_by: str
    created_at: datetime


class InvitationPage(BaseModel):
    items: list[InvitationOut]
    next_cursor: str | None = None


class InvitationAnswer(BaseModel):
    invitation_id: str
    channel_id: str
    status: Literal["accepted", "declined"]


class ShareIn(StrictModel):
    diary_id: str = Field(min_length=1, max_length=64)


class ShareOut(BaseModel):
    channel_id: str
    diary_id: str
    shared_at: datetime


class CommentIn(StrictModel):
    body: MultilineText = Field(min_length=1, max_length=2000)
    # The channel the comment is made in; defaults to the first the commenter shares with the diary.
    channel_id: str | None = Field(default=None, max_length=64)

    _body = field_validator("body")(classmethod(lambda cls, v: _clean_body(v)))


class CommentPatch(StrictModel):
    body: MultilineText = Field(min_length=1, max_length=2000)

    _body = field_validator("body")(classmethod(lambda cls, v: _clean_body(v)))


def _clean_body(value: str) -> str:
    value = value.strip()
    if not value:
        raise ValueError("must not be blank")
    return value


class CommentOut(BaseModel):
    comment_id: str
    diary_id: str
    channel_id: str | None
    author_id: str
    author_name: str
    body: str
    created_at: datetime
    updated_at: datetime | None = None
    mine: bool


class CommentPage(BaseModel):
    items: list[CommentOut]
    next_cursor: str | None = None
