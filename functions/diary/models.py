"""Tables of the video diary: diaries, their tags, channels, members, invitations, shares, comments.

The analysis (``functions/diary/analysis``) writes a diary's results only
through :mod:`functions.diary.results`; everything else here belongs to the API.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    Date,
    Float,
    ForeignKey,
    Index,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from cheese_runtime.db.base import Base
from cheese_runtime.db.types import UTCDateTime, UUIDString, new_id, utcnow
from cheese_runtime.db.users import references_user

# "transcribing": analysed but for its Amazon Transcribe job (the API shows "processing").
DIARY_STATUSES = ("pending", "processing", "transcribing", "ready", "failed")


class Diary(Base):
    """One recorded video diary and what its analysis found.

    Analysis results (``timeline``, ``transcript``, ``key_sentences``,
    ``auto_tags``, ``emotion_summary``) are replaced by each analysis; the
    user's edits (``title``, ``user_tags``) are never touched by it, so they
    survive re-analysis. ``user_tags`` is None until the user edits the tags:
    then it wins over ``auto_tags``.
    """

    __tablename__ = "diaries"
    __table_args__ = (
        Index("ix_diaries_user_recorded", "user_id", "recorded_on", "id"),
        Index("ix_diaries_object_key", "object_key", unique=True),
    )

    id: Mapped[str] = mapped_column(UUIDString, primary_key=True, default=new_id)
    user_id: Mapped[str] = mapped_column(UUIDString, references_user())
    recorded_on: Mapped[date] = mapped_column(Date)
    title: Mapped[str | None] = mapped_column(String(200), nullable=True)
    # pending -> processing -> ready | failed
    status: Mapped[str] = mapped_column(String(16), default="pending")
    failure_reason: Mapped[str | None] = mapped_column(String(300), nullable=True)
    object_key: Mapped[str] = mapped_column(Text)
    content_type: Mapped[str] = mapped_column(String(32))
    size_bytes: Mapped[int] = mapped_column(BigInteger)
    duration_s: Mapped[float | None] = mapped_column(Float, nullable=True)
    thumbnail_key: Mapped[str | None] = mapped_column(Text, nullable=True)
    # [{t, expression: {label: p}}]; None without expression_analysis consent.
    timeline: Mapped[list[dict[str, Any]] | None] = mapped_column(JSON, nullable=True)
    # {dominant, shares: {label: p}, stretches: [{start, end, label}]}
    emotion_summary: Mapped[dict[str, Any] | None] = mapped_column(JSON, nullable=True)
    # The summary's dominant label, a column for the calendar's per-day counts.
    dominant_emotion: Mapped[str | None] = mapped_column(String(16), nullable=True)
    # Why an analysed diary has no timeline: "no-consent" (not granted when analysed),
    # "no-face", "consent-withdrawn" (erased since, functions/diary/withdrawal.py).
    # None while there is a timeline or before the first analysis.
    emotion_skipped: Mapped[str | None] = mapped_column(String(32), nullable=True)
    # {language, text, words: [{word, start, end}]}
    transcript: Mapped[dict[str, Any] | None] = mapped_column(JSON, nullable=True)
    # The transcript's text, casefolded and whitespace-normalised, for ``q`` search.
    search_text: Mapped[str | None] = mapped_column(Text, nullable=True)
    key_sentences: Mapped[list[str] | None] = mapped_column(JSON, nullable=True)
    auto_tags: Mapped[list[str] | None] = mapped_column(JSON, nullable=True)
    user_tags: Mapped[list[str] | None] = mapped_column(JSON, nullable=True)
    # Members of the channels the diary is shared in read the transcript only if True.
    share_transcript: Mapped[bool] = mapped_column(Boolean, default=False)
    analysed_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)

    @property
    def tags(self) -> list[str]:
        """The tags the user sees: their own edit if any, else the analysis'."""
        if self.user_tags is not None:
            return list(self.user_tags)
        return list(self.auto_tags or [])


class DiaryTag(Base):
    """A diary's effective tags (``Diary.tags``), one row each, for ``GET /v1/diaries?tag=``."""

    __tablename__ = "diary_tags"
    __table_args__ = (Index("ix_diary_tags_tag", "tag", "diary_id"),)

    diary_id: Mapped[str] = mapped_column(
        UUIDString, ForeignKey("diaries.id", ondelete="CASCADE"), primary_key=True
    )
    # Casefolded: tag filters match regardless of case.
    tag: Mapped[str] = mapped_column(String(64), primary_key=True)


class Channel(Base):
    """A private group its owner invites friends to; diaries are shared into it."""

    __tablename__ = "diary_channels"

    id: Mapped[str] = mapped_column(UUIDString, primary_key=True, default=new_id)
    owner_id: Mapped[str] = mapped_column(UUIDString, references_user())
    name: Mapped[str] = mapped_column(String(100))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class ChannelMember(Base):
    """Who reads a channel: its owner (role ``owner``) and those who accepted an invitation.

    Leaving or being removed deletes the row: access ends at once."""

    __tablename__ = "diary_channel_members"
    __table_args__ = (Index("ix_diary_channel_members_user", "user_id", "joined_at"),)

    channel_id: Mapped[str] = mapped_column(
        UUIDString, ForeignKey("diary_channels.id", ondelete="CASCADE"), primary_key=True
    )
    user_id: Mapped[str] = mapped_column(UUIDString, references_user(), primary_key=True)
    # owner | member
    role: Mapped[str] = mapped_column(String(8), default="member")
    joined_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class ChannelInvitation(Base):
    """An invitation to an exact (casefolded) email, whether or not it has an account."""

    __tablename__ = "diary_channel_invitations"
    __table_args__ = (
        UniqueConstraint("channel_id", "email"),
        Index("ix_diary_channel_invitations_email", "email", "status", "created_at"),
        # The owner's recent invitations, counted by the invitation rate limit.
        Index("ix_diary_channel_invitations_inviter", "invited_by", "created_at"),
    )

    id: Mapped[str] = mapped_column(UUIDString, primary_key=True, default=new_id)
    channel_id: Mapped[str] = mapped_column(
        UUIDString, ForeignKey("diary_channels.id", ondelete="CASCADE")
    )
    email: Mapped[str] = mapped_column(String(320))
    invited_by: Mapped[str] = mapped_column(UUIDString, references_user())
    # pending -> accepted | declined
    status: Mapped[str] = mapped_column(String(16), default="pending")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    answered_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)


class ChannelDiary(Base):
    """One of its author's diaries shared into a channel."""

    __tablename__ = "diary_channel_diaries"
    __table_args__ = (Index("ix_diary_channel_diaries_diary", "diary_id"),)

    channel_id: Mapped[str] = mapped_column(
        UUIDString, ForeignKey("diary_channels.id", ondelete="CASCADE"), primary_key=True
    )
    diary_id: Mapped[str] = mapped_column(
        UUIDString, ForeignKey("diaries.id", ondelete="CASCADE"), primary_key=True
    )
    shared_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class DiaryComment(Base):
    """A comment on a diary, by its author or by a member of a channel it is shared in.

    ``channel_id`` is the channel the commenter reads the diary through (None
    for the diary's author): members of a channel see the author's comments
    and their own channel's, never those of another channel, and that
    channel's owner may delete them."""

    __tablename__ = "diary_comments"
    __table_args__ = (
        Index("ix_diary_comments_diary", "diary_id", "created_at", "id"),
        Index("ix_diary_comments_author", "author_id"),
    )

    id: Mapped[str] = mapped_column(UUIDString, primary_key=True, default=new_id)
    diary_id: Mapped[str] = mapped_column(UUIDString, ForeignKey("diaries.id", ondelete="CASCADE"))
    channel_id: Mapped[str | None] = mapped_column(
        UUIDString, ForeignKey("diary_channels.id", ondelete="CASCADE"), nullable=True
    )
    author_id: Mapped[str] = mapped_column(UUIDString, references_user())
    body: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
