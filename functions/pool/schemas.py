"""Request and response models of the pool REST API."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import BaseModel, Field

from cheese_runtime.inputs import Id, InputModel, Name

LeaderboardPeriod = Literal["day", "week"]


class PoolCreate(InputModel):
    name: Annotated[Name, Field(max_length=80)]
    capacity: int = Field(ge=2, le=200)
    public: bool = True


class PoolOut(BaseModel):
    pool_id: str
    name: str
    capacity: int
    public: bool
    owner_id: str
    member_count: int
    created_at: str | None = None


class MemberOut(BaseModel):
    user_id: str
    status: Literal["present", "away"] | None
    away_reason: Literal["user", "timeout", "disconnected"] | None = None
    score: int | None = None
    focused: bool
    focused_seconds: float
    entered_at: str | None = None
    last_seen: str | None = None
    avatar_url: str | None = None


class PoolDetail(PoolOut):
    seq: int = Field(description="The pool's sequence number: the last event this state includes.")
    members: list[MemberOut]


class InviteRequest(InputModel):
    user_id: Id


class InviteOut(BaseModel):
    pool_id: str
    user_id: str


class LeaderboardEntry(BaseModel):
    rank: int
    user_id: str
    focused_minutes: float
    live: bool = Field(description="Currently in a focused stretch in this pool.")


class Leaderboard(BaseModel):
    pool_id: str
    period: LeaderboardPeriod
    start: str
    end: str
    entries: list[LeaderboardEntry]


class FocusSession(BaseModel):
    session_id: str
    pool_id: str
    pool_name: str | None = None
    started_at: str
    ended_at: str | None = None
    focused_minutes: float
    heartbeats: int
    active: bool
    end_reason: str | None = None


class AvatarUploadRequest(InputModel):
    content_type: Literal["image/jpeg", "image/png", "image/webp"] = "image/jpeg"


class AvatarUpload(BaseModel):
    url: str
    fields: dict[str, str]
    key: str
    max_bytes: int
    expires_in: int
