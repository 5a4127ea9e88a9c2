"""Data access of the diary function: who may read what, diaries, channels, comments.

Access is decided here in one place: a diary is readable by its author and by
the members of every channel it is shared in; a channel by its members (the
owner is one). Anything else is indistinguishable from missing.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime

from sqlalchemy import Select, and_, bindparam, exists, or_, select, text
from sqlalchemy.orm import Session

from functions.diary.models import (
    Channel,
    ChannelDiary,
    ChannelInvitation,
    ChannelMember,
    Diary,
    DiaryComment,
    DiaryTag,
)


def _like_escape(word: str) -> str:
    return word.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


class Diaries:
    def __init__(self, session: Session) -> None:
        self.session = session

    def own(self, user_id: str, diary_id: str, *, lock: bool = False) -> Diary | None:
        query = select(Diary).where(Diary.id == diary_id, Diary.user_id == user_id)
        return self.session.scalars(query.with_for_update() if lock else query).first()

    def readable(self, user_id: str, diary_id: str) -> Diary | None:
        """The diary if the user wrote it or is a member of a channel it is shared in."""
        shared_with_user = exists().where(
            ChannelDiary.diary_id == Diary.id,
            ChannelMember.channel_id == ChannelDiary.channel_id,
            ChannelMember.user_id == user_id,
        )
        return self.session.scalars(
            select(Diary).where(
                Diary.id == diary_id, or_(Diary.user_id == user_id, shared_with_user)
            )
        ).first()

    def page(
        self,
        user_id: str,
        *,
        after: tuple[date, str] | None,
        limit: int,
        recorded_from: date | None,
        recorded_to: date | None,
        tag: str | None,
        words: Sequence[str],
    ) -> list[Diary]:
        """The user's diaries, newest recorded first, matching every filter given."""
        query = select(Diary).where(Diary.user_id == user_id)
        if recorded_from is not None:
            query = query.where(Diary.recorded_on >= recorded_from)
        if recorded_to is not None:
            query = query.where(Diary.recorded_on <= recorded_to)
        if tag is not None:
            query = query.where(exists().where(DiaryTag.diary_id == Diary.id, DiaryTag.tag == tag))
        for word in words:
            query = query.where(Diary.search_text.like(f"%{_like_escape(word)}%", escape="\\"))
        return list(self.session.scalars(_newest_first(query, after, limit)))

    def in_year(self, user_id: str, first: date, last: date) -> list[tuple[date, str | None]]:
        rows = self.session.execute(
            select(Diary.recorded_on, Diary.dominant_emotion)
            .where(Diary.user_id == user_id, Diary.recorded_on.between(first, last))
            .order_by(Diary.recorded_on, Diary.created_at)
        )
        return [(row[0], row[1]) for row in rows]

    def in_channel(
        self, channel_id: str, after: tuple[date, str] | None, limit: int
    ) -> list[Diary]:
        query = select(Diary).join(ChannelDiary, ChannelDiary.diary_id == Diary.id)
        query = query.where(ChannelDiary.channel_id == channel_id)
        return list(self.session.scalars(_newest_first(query, after, limit)))


def _newest_first(
    query: Select[Diary], after: tuple[date, str] | None, limit: int
) -> Select[Diary]:
    if after is not None:
        day, diary_id = after
        query = query.where(
            or_(Diary.recorded_on < day, and_(Diary.recorded_on == day, Diary.id < diary_id))
        )
    return query.order_by(Diary.recorded_on.desc(), Diary.id.desc()).limit(limit)


class Channels:
    def __init__(self, session: Session) -> None:
        self.session = session

    def membership(self, user_id: str, channel_id: str) -> tuple[Channel, str] | None:
        """The channel and the user's role in it, if the user is a member."""
        row = self.session.execute(
            select(Channel, ChannelMember.role)
            .join(ChannelMember, ChannelMember.channel_id == Channel.id)
            .where(Channel.id == channel_id, ChannelMember.user_id == user_id)
        ).first()
        return None if row is None else (row[0], row[1])

    def of_user(
        self, user_id: str, after: tuple[datetime, str] | None, limit: int
    ) -> list[tuple[Channel, ChannelMember]]:
        query = (
            select(Channel, ChannelMember)
            .join(ChannelMember, ChannelMember.channel_id == Channel.id)
            .where(ChannelMember.user_id == user_id)
        )
        if after is not None:
            joined, channel_id = after
            query = query.where(
                or_(
                    ChannelMember.joined_at > joined,
                    and_(ChannelMember.joined_at == joined, Channel.id > channel_id),
                )
            )
        rows = self.session.execute(
            query.order_by(ChannelMember.joined_at, Channel.id).limit(limit)
        )
        return [(row[0], row[1]) for row in rows]

    def members(self, channel_id: str) -> list[ChannelMember]:
        return list(
            self.session.scalars(
                select(ChannelMember)
                .where(ChannelMember.channel_id == channel_id)
                .order_by(ChannelMember.joined_at, ChannelMember.user_id)
            )
        )

    def member(self, channel_id: str, user_id: str) -> ChannelMember | None:
        return self.session.get(ChannelMember, (channel_id, user_id))

    def invitation_to(self, channel_id: str, email: str) -> ChannelInvitation | None:
        return self.session.scalars(
            select(ChannelInvitation).where(
                ChannelInvitation.channel_id == channel_id, ChannelInvitation.email == email
            )
        ).first()

    def invitations_sent_since(self, user_id: str, since: datetime, limit: int) -> list[datetime]:
        """When the user's invitations after ``since`` were sent, newest first, at most ``limit``."""
        return list(
            self.session.scalars(
                select(ChannelInvitation.created_at)
                .where(
                    ChannelInvitation.invited_by == user_id, ChannelInvitation.created_at > since
                )
                .order_by(ChannelInvitation.created_at.desc())
                .limit(limit)
            )
        )

    def pending_invitations(
        self, email: str, after: tuple[datetime, str] | None, limit: int
    ) -> list[tuple[ChannelInvitation, Channel]]:
        query = (
            select(ChannelInvitation, Channel)
            .join(Channel, Channel.id == ChannelInvitation.channel_id)
            .where(ChannelInvitation.email == email, ChannelInvitation.status == "pending")
        )
        if after is not None:
            created, invitation_id = after
            query = query.where(
                or_(
                    ChannelInvitation.created_at > created,
                    and_(
                        ChannelInvitation.created_at == created,
                        ChannelInvitation.id > invitation_id,
                    ),
                )
            )
        rows = self.session.execute(
            query.order_by(ChannelInvitation.created_at, ChannelInvitation.id).limit(limit)
        )
        return [(row[0], row[1]) for row in rows]

    def invitation_for(self, email: str, invitation_id: str) -> ChannelInvitation | None:
        return self.session.scalars(
            select(ChannelInvitation)
            .where(ChannelInvitation.id == invitation_id, ChannelInvitation.email == email)
            .with_for_update()
        ).first()

    def share(self, channel_id: str, diary_id: str) -> ChannelDiary | None:
        return self.session.get(ChannelDiary, (channel_id, diary_id))

    def reader_channels(self, user_id: str, diary_id: str) -> list[tuple[str, str]]:
        """(channel_id, role) of the user's channels the diary is shared in, oldest share first."""
        rows = self.session.execute(
            select(ChannelDiary.channel_id, ChannelMember.role)
            .join(ChannelMember, ChannelMember.channel_id == ChannelDiary.channel_id)
            .where(ChannelDiary.diary_id == diary_id, ChannelMember.user_id == user_id)
            .order_by(ChannelDiary.shared_at, ChannelDiary.channel_id)
        )
        return [(row[0], row[1]) for row in rows]


class Comments:
    def __init__(self, session: Session) -> None:
        self.session = session

    def page(
        self,
        diary_id: str,
        channel_ids: Sequence[str] | None,
        after: tuple[datetime, str] | None,
        limit: int,
    ) -> list[DiaryComment]:
        """Oldest first; ``channel_ids`` None: every comment (the diary's author), else the
        author's own comments and those made in these channels."""
        query = select(DiaryComment).where(DiaryComment.diary_id == diary_id)
        if channel_ids is not None:
            query = query.where(
                or_(DiaryComment.channel_id.is_(None), DiaryComment.channel_id.in_(channel_ids))
            )
        if after is not None:
            created, comment_id = after
            query = query.where(
                or_(
                    DiaryComment.created_at > created,
                    and_(DiaryComment.created_at == created, DiaryComment.id > comment_id),
                )
            )
        return list(
            self.session.scalars(
                query.order_by(DiaryComment.created_at, DiaryComment.id).limit(limit)
            )
        )

    def get(self, comment_id: str) -> DiaryComment | None:
        return self.session.get(DiaryComment, comment_id)


class Accounts:
    """What this function reads from auth's ``users`` columns, and nothing more."""

    def __init__(self, session: Session) -> None:
        self.session = session

    def email(self, user_id: str) -> str | None:
        """The account's lower-cased email (as invitations are addressed)."""
        row = self.session.execute(
            text("SELECT email_normalized FROM users WHERE id = :id"), {"id": user_id}
        ).first()
        return None if row is None else str(row[0])

    def display_names(self, user_ids: Sequence[str]) -> dict[str, str]:
        if not user_ids:
            return {}
        rows = self.session.execute(
            text("SELECT id, display_name FROM users WHERE id IN :ids").bindparams(
                bindparam("ids", expanding=True)
            ),
            {"ids": sorted(set(user_ids))},
        )
        return {str(row[0]): str(row[1]) for row in rows}
