"""Tables of the video function: uploaded videos and their anonymisations."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, BigInteger, Boolean, Float, ForeignKey, Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from cheese_runtime.db.base import Base
from cheese_runtime.db.types import UTCDateTime, UUIDString, new_id, utcnow
from cheese_runtime.db.users import references_user


class Video(Base):
    __tablename__ = "videos"
    __table_args__ = (Index("ix_videos_user_created", "user_id", "created_at", "id"),)

    id: Mapped[str] = mapped_column(UUIDString, primary_key=True, default=new_id)
    user_id: Mapped[str] = mapped_column(UUIDString, references_user())
    # uploading -> ready (arrived and checked) | failed (unreadable: failure_reason)
    status: Mapped[str] = mapped_column(String(16), default="uploading")
    failure_reason: Mapped[str | None] = mapped_column(String(300), nullable=True)
    content_type: Mapped[str] = mapped_column(String(32))
    size_bytes: Mapped[int] = mapped_column(BigInteger)
    duration_seconds: Mapped[float | None] = mapped_column(Float, nullable=True)
    width: Mapped[int | None] = mapped_column(Integer, nullable=True)
    height: Mapped[int | None] = mapped_column(Integer, nullable=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class VideoAnonymisation(Base):
    __tablename__ = "video_anonymisations"

    id: Mapped[str] = mapped_column(UUIDString, primary_key=True, default=new_id)
    video_id: Mapped[str] = mapped_column(
        UUIDString, ForeignKey("videos.id", ondelete="CASCADE"), index=True
    )
    user_id: Mapped[str] = mapped_column(UUIDString, references_user(), index=True)
    keep: Mapped[list[str]] = mapped_column(JSON)  # person ids as given ("me" resolved at run time)
    style: Mapped[str] = mapped_column(String(16))
    # queued -> processing -> done | failed (failure_reason)
    status: Mapped[str] = mapped_column(String(16), default="queued")
    failure_reason: Mapped[str | None] = mapped_column(String(300), nullable=True)
    frames_done: Mapped[int] = mapped_column(Integer, default=0)
    frames_total: Mapped[int | None] = mapped_column(Integer, nullable=True)
    # [{track_id, first_second, last_second, person_id | None}]
    tracks: Mapped[list[dict[str, Any]] | None] = mapped_column(JSON, nullable=True)
    result_key: Mapped[str | None] = mapped_column(String(300), nullable=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)


class LiveStream(Base):
    """A live broadcast: its 2-second segments are anonymised one after the other."""

    __tablename__ = "live_streams"

    id: Mapped[str] = mapped_column(UUIDString, primary_key=True, default=new_id)
    user_id: Mapped[str] = mapped_column(UUIDString, references_user(), index=True)
    keep: Mapped[list[str]] = mapped_column(JSON)
    style: Mapped[str] = mapped_column(String(16))
    public: Mapped[bool] = mapped_column(Boolean, default=False)
    viewers: Mapped[list[str]] = mapped_column(JSON)  # invited user ids
    # live -> ended (no segment is accepted after)
    status: Mapped[str] = mapped_column(String(16), default="live")
    # The next sequence number to anonymise: the order, kept here because the worker locks
    # this row for the segment it works on (one worker per stream). The engine state between
    # segments is in DynamoDB (functions/video/live_state.py).
    next_sequence: Mapped[int] = mapped_column(Integer, default=0)
    seconds_done: Mapped[float] = mapped_column(Float, default=0.0)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    ended_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)


class LiveSegment(Base):
    __tablename__ = "live_segments"

    stream_id: Mapped[str] = mapped_column(
        UUIDString, ForeignKey("live_streams.id", ondelete="CASCADE"), primary_key=True
    )
    sequence: Mapped[int] = mapped_column(Integer, primary_key=True)
    user_id: Mapped[str] = mapped_column(UUIDString, references_user(), index=True)
    content_type: Mapped[str] = mapped_column(String(32))
    size_bytes: Mapped[int] = mapped_column(BigInteger)
    # uploading -> queued (announced) -> done | failed (failure_reason)
    status: Mapped[str] = mapped_column(String(16), default="uploading")
    failure_reason: Mapped[str | None] = mapped_column(String(300), nullable=True)
    duration_seconds: Mapped[float | None] = mapped_column(Float, nullable=True)
    result_key: Mapped[str | None] = mapped_column(String(300), nullable=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    announced_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)


class VideoChunk(Base):
    """One chunk of a long video's anonymisation (functions/video/chunk_worker.py)."""

    __tablename__ = "video_chunks"

    anonymisation_id: Mapped[str] = mapped_column(
        UUIDString, ForeignKey("video_anonymisations.id", ondelete="CASCADE"), primary_key=True
    )
    number: Mapped[int] = mapped_column(Integer, primary_key=True)
    user_id: Mapped[str] = mapped_column(UUIDString, references_user(), index=True)
    # The frames [first_frame, first_frame + frames): timestamps [start_pts, end_pts).
    first_frame: Mapped[int] = mapped_column(Integer)
    frames: Mapped[int] = mapped_column(Integer)
    start_pts: Mapped[int] = mapped_column(BigInteger)
    end_pts: Mapped[int | None] = mapped_column(BigInteger, nullable=True)
    # detecting -> detected -> encoding -> encoded | failed (failure_reason)
    status: Mapped[str] = mapped_column(String(16), default="detecting")
    failure_reason: Mapped[str | None] = mapped_column(String(300), nullable=True)
    frames_detected: Mapped[int] = mapped_column(Integer, default=0)
    frames_encoded: Mapped[int] = mapped_column(Integer, default=0)
