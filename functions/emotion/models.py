"""Tables of the emoji-face function: templates, their seven images, tasks, rankings, avatars."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import JSON, BigInteger, Boolean, Date, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from cheese_runtime.db.base import Base
from cheese_runtime.db.types import UTCDateTime, UUIDString, new_id, utcnow
from cheese_runtime.db.users import references_user


class EmojiTemplate(Base):
    """Seven emoji, one per expression. Built-in templates (``builtin_set``) have no owner."""

    __tablename__ = "emoji_templates"
    __table_args__ = (
        Index("ix_emoji_templates_new", "created_at", "id"),
        Index("ix_emoji_templates_popular", "use_count", "id"),
        Index("ix_emoji_templates_owner", "owner_id", "created_at", "id"),
    )

    id: Mapped[str] = mapped_column(UUIDString, primary_key=True, default=new_id)
    owner_id: Mapped[str | None] = mapped_column(UUIDString, references_user(), nullable=True)
    # A cheese_ml.emoji_sets name for the built-in templates; None for users' templates.
    builtin_set: Mapped[str | None] = mapped_column(String(32), nullable=True)
    name: Mapped[str] = mapped_column(String(80))
    public: Mapped[bool] = mapped_column(Boolean, default=False)
    # uploading -> ready | failed
    status: Mapped[str] = mapped_column(String(16), default="uploading")
    failure_reason: Mapped[str | None] = mapped_column(String(300), nullable=True)
    attribution: Mapped[str | None] = mapped_column(String(300), nullable=True)
    # Tasks done with this template (all time; the ranking's per-day counts are below).
    use_count: Mapped[int] = mapped_column(BigInteger, default=0)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)


class EmojiTemplateImage(Base):
    """One of a user template's seven uploads, checked when it arrives in S3."""

    __tablename__ = "emoji_template_images"

    template_id: Mapped[str] = mapped_column(
        UUIDString, ForeignKey("emoji_templates.id", ondelete="CASCADE"), primary_key=True
    )
    expression: Mapped[str] = mapped_column(String(16), primary_key=True)
    # pending -> ready | failed
    status: Mapped[str] = mapped_column(String(16), default="pending")
    failure_reason: Mapped[str | None] = mapped_column(String(300), nullable=True)
    content_type: Mapped[str | None] = mapped_column(String(16), nullable=True)
    width: Mapped[int | None] = mapped_column(Integer, nullable=True)
    height: Mapped[int | None] = mapped_column(Integer, nullable=True)


class EmojiTask(Base):
    """One photo rendered with one template. Keeps the template's name: a deleted
    template's results stay viewable."""

    __tablename__ = "emoji_tasks"
    __table_args__ = (Index("ix_emoji_tasks_user", "user_id", "created_at", "id"),)

    id: Mapped[str] = mapped_column(UUIDString, primary_key=True, default=new_id)
    user_id: Mapped[str] = mapped_column(UUIDString, references_user())
    photo_id: Mapped[str] = mapped_column(UUIDString)
    template_id: Mapped[str] = mapped_column(UUIDString)
    template_name: Mapped[str] = mapped_column(String(80))
    # queued -> processing -> done | failed
    status: Mapped[str] = mapped_column(String(16), default="queued")
    failure_reason: Mapped[str | None] = mapped_column(String(64), nullable=True)
    result_key: Mapped[str | None] = mapped_column(Text, nullable=True)
    # [{box: {x, y, w, h}, expression: {label: p}, dominant, emoji}]
    faces: Mapped[list[dict[str, Any]] | None] = mapped_column(JSON, nullable=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)


class EmojiTemplateUseDaily(Base):
    """Materialised ranking: tasks done per template per UTC day."""

    __tablename__ = "emoji_template_use_daily"
    # Covering the per-period sums (migration 0007_emoji_ranking_index).
    __table_args__ = (Index("ix_emoji_template_use_daily_sums", "day", "template_id", "uses"),)

    day: Mapped[date] = mapped_column(Date, primary_key=True)
    template_id: Mapped[str] = mapped_column(UUIDString, primary_key=True)
    uses: Mapped[int] = mapped_column(BigInteger, default=0)


class EmojiExpressionDaily(Base):
    """Materialised ranking: faces covered per dominant expression per UTC day.

    Anonymous counts: they outlive the accounts whose faces they counted."""

    __tablename__ = "emoji_expression_daily"

    day: Mapped[date] = mapped_column(Date, primary_key=True)
    expression: Mapped[str] = mapped_column(String(16), primary_key=True)
    faces: Mapped[int] = mapped_column(BigInteger, default=0)


class EmojiExpressionTotal(Base):
    """Materialised ranking: faces covered per dominant expression, all time."""

    __tablename__ = "emoji_expression_totals"

    expression: Mapped[str] = mapped_column(String(16), primary_key=True)
    faces: Mapped[int] = mapped_column(BigInteger, default=0)


class EmojiAvatarChoice(Base):
    """The template a user's pool avatars are drawn with (PUT /v1/me/avatar)."""

    __tablename__ = "emoji_avatar_choices"

    user_id: Mapped[str] = mapped_column(UUIDString, references_user(), primary_key=True)
    template_id: Mapped[str] = mapped_column(UUIDString)
    chosen_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
