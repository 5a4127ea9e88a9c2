"""Channels: members, invitations by exact email, shared diaries, comments.

A channel is private: everything of it answers 404 to anyone who is not a
member at this moment (invited but not accepted, outsiders, members who left
or were removed), as missing channels do.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from datetime import datetime, timedelta

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from cheese_runtime.accounts import ACTIVE, USERS, AccountGone, lock_active_user
from cheese_runtime.db.session import session_scope
from cheese_runtime.db.types import utcnow
from cheese_runtime.errors import InvalidCursor
from cheese_runtime.observability import logger
from cheese_runtime.pagination import decode_cursor, encode_cursor
from functions.diary import service
from functions.diary.config import get_diary_settings
from functions.diary.dal import Accounts, Channels, Comments, Diaries
from functions.diary.errors import (
    ChannelNotFound,
    ChannelOwnerOnly,
    CommentNotFound,
    DiaryNotFound,
    InvitationAnswered,
    InvitationNotFound,
    MemberNotFound,
    NotCommentAuthor,
    OwnerCannotLeave,
    TooManyInvitations,
)
from functions.diary.models import (
    Channel,
    ChannelDiary,
    ChannelInvitation,
    ChannelMember,
    Diary,
    DiaryComment,
)
from functions.diary.schemas import (
    ChannelMemberOut,
    ChannelOut,
    ChannelPage,
    ChannelSummary,
    CommentOut,
    CommentPage,
    DiaryPage,
    InvitationAnswer,
    InvitationOut,
    InvitationPage,
    InvitationSent,
    ShareOut,
)


def _time_cursor(cursor: str | None) -> tuple[datetime, str] | None:
    position = decode_cursor(cursor)
    if position is None:
        return None
    try:
        at = datetime.fromisoformat(str(position["t"]))
    except (KeyError, ValueError) as exc:
        raise InvalidCursor() from exc
    if at.tzinfo is None or "id" not in position:
        raise InvalidCursor()
    return at, str(position["id"])


def _next(rows: Sequence[object], limit: int, at: datetime, row_id: str) -> str | None:
    if len(rows) <= limit:
        return None
    return encode_cursor({"t": at.isoformat(), "id": row_id})


def _member_channel(session: Session, user_id: str, channel_id: str) -> tuple[Channel, str]:
    found = Channels(session).membership(user_id, channel_id)
    if found is None:
        raise ChannelNotFound()
    return found


def _owned_channel(session: Session, user_id: str, channel_id: str) -> Channel:
    channel, role = _member_channel(session, user_id, channel_id)
    if role != "owner":
        raise ChannelOwnerOnly()
    return channel


def _summary(channel: Channel, role: str) -> ChannelSummary:
    return ChannelSummary(
        channel_id=channel.id,
        name=channel.name,
        owner_id=channel.owner_id,
        role=role,  # type: ignore[arg-type]
        created_at=channel.created_at,
    )


def create_channel(user_id: str, name: str) -> ChannelOut:
    with session_scope() as session:
        channel = Channel(owner_id=user_id, name=name)
        session.add(channel)
        session.flush()
        session.add(ChannelMember(channel_id=channel.id, user_id=user_id, role="owner"))
        session.flush()
        return _channel_out(session, channel, "owner")


def _channel_out(session: Session, channel: Channel, role: str) -> ChannelOut:
    members = Channels(session).members(channel.id)
    names = Accounts(session).display_names([m.user_id for m in members])
    return ChannelOut(
        **_summary(channel, role).model_dump(),
        members=[
            ChannelMemberOut(
                user_id=m.user_id,
                display_name=names.get(m.user_id, ""),
                role=m.role,  # type: ignore[arg-type]
                joined_at=m.joined_at,
            )
            for m in members
        ],
    )


def list_channels(user_id: str, cursor: str | None, limit: int) -> ChannelPage:
    after = _time_cursor(cursor)
    with session_scope() as session:
        rows = Channels(session).of_user(user_id, after, limit + 1)
        next_cursor = None
        if len(rows) > limit:
            channel, member = rows[limit - 1]
            next_cursor = encode_cursor({"t": member.joined_at.isoformat(), "id": channel.id})
        return ChannelPage(
            items=[_summary(channel, member.role) for channel, member in rows[:limit]],
            next_cursor=next_cursor,
        )


def get_channel(user_id: str, channel_id: str) -> ChannelOut:
    with session_scope() as session:
        channel, role = _member_channel(session, user_id, channel_id)
        return _channel_out(session, channel, role)


def normalise_email(email: str) -> str:
    """As auth stores ``email_normalized``: trimmed and lower-cased."""
    return email.strip().lower()


def _lock_inviter(session: Session, user_id: str) -> None:
    """One invitation of an owner at a time, so concurrent requests cannot overshoot the limit.

    PostgreSQL: the account row ``FOR UPDATE`` (a share lock taken first and upgraded
    later could deadlock two requests). SQLite: ``lock_active_user``'s no-op write
    takes the database's write lock, which serialises every writer already."""
    if session.get_bind().dialect.name == "sqlite":
        lock_active_user(session, user_id)
        return
    status = session.execute(
        select(USERS.c.status).where(USERS.c.id == user_id).with_for_update()
    ).scalar_one_or_none()
    if status != ACTIVE:
        raise AccountGone()


def _limit_invitations(session: Session, user_id: str) -> None:
    """At most ``invitations_per_window`` invitations sent per sliding window (429 past it).

    Counted from the invitations themselves (``created_at`` is the last time each was
    sent: a re-opened one counts again), so there is no counter to keep in step; the
    ``(invited_by, created_at)`` index reads only the owner's recent ones. Refused
    requests write nothing, so they do not push the wait further."""
    settings = get_diary_settings()
    window = timedelta(seconds=settings.invitation_window_seconds)
    _lock_inviter(session, user_id)
    now = utcnow()
    recent = Channels(session).invitations_sent_since(
        user_id, now - window, settings.invitations_per_window
    )
    if len(recent) < settings.invitations_per_window:
        return
    # The oldest of the last ``limit`` leaves the window first; then one more fits.
    retry_after = max(1, math.ceil((recent[-1] + window - now).total_seconds()))
    logger.info("channel invitations rate limited", extra={"retry_after": retry_after})
    raise TooManyInvitations(retry_after)


def invite(user_id: str, channel_id: str, email: str) -> InvitationSent:
    """Invite an exact email. Nothing in the answer (or its timing: no account is looked
    up) tells whether the email has an account; the invitee sees it when they sign in."""
    address = normalise_email(email)
    with session_scope() as session:
        _owned_channel(session, user_id, channel_id)
        _limit_invitations(session, user_id)
        invitation = Channels(session).invitation_to(channel_id, address)
        if invitation is None:
            session.add(ChannelInvitation(channel_id=channel_id, email=address, invited_by=user_id))
        elif invitation.status == "declined":
            # Asked again after a decline: a fresh invitation. (An accepted one is a
            # current member: leaving or removal deletes it, so asking again starts anew.)
            invitation.status, invitation.answered_at = "pending", None
            invitation.invited_by, invitation.created_at = user_id, utcnow()
    return InvitationSent(channel_id=channel_id, email=address)


def my_invitations(user_id: str, cursor: str | None, limit: int) -> InvitationPage:
    after = _time_cursor(cursor)
    with session_scope() as session:
        email = Accounts(session).email(user_id)
        if email is None:
            return InvitationPage(items=[])
        rows = Channels(session).pending_invitations(email, after, limit + 1)
        last = rows[min(limit, len(rows)) - 1][0] if rows else None
        return InvitationPage(
            items=[
                InvitationOut(
                    invitation_id=invitation.id,
                    channel_id=channel.id,
                    channel_name=channel.name,
                    invited_by=invitation.invited_by,
                    created_at=invitation.created_at,
                )
                for invitation, channel in rows[:limit]
            ],
            next_cursor=None if last is None else _next(rows, limit, last.created_at, last.id),
        )


def answer_invitation(user_id: str, invitation_id: str, accept: bool) -> InvitationAnswer:
    """Accept (join the channel) or decline an invitation addressed to the caller's email.

    Answering the same way twice is a no-op; a declined invitation cannot be accepted
    (the owner invites again)."""
    with session_scope() as session:
        email = Accounts(session).email(user_id)
        channels = Channels(session)
        invitation = None if email is None else channels.invitation_for(email, invitation_id)
        if invitation is None:
            raise InvitationNotFound()
        wanted = "accepted" if accept else "declined"
        if invitation.status not in ("pending", wanted):
            raise InvitationAnswered(f"This invitation was already {invitation.status}.")
        if invitation.status == "pending":
            invitation.status, invitation.answered_at = wanted, utcnow()
            if accept and channels.member(invitation.channel_id, user_id) is None:
                session.add(ChannelMember(channel_id=invitation.channel_id, user_id=user_id))
        return InvitationAnswer(
            invitation_id=invitation.id,
            channel_id=invitation.channel_id,
            status=wanted,  # type: ignore[arg-type]
        )


def leave(user_id: str, channel_id: str) -> None:
    with session_scope() as session:
        channel, role = _member_channel(session, user_id, channel_id)
        if role == "owner":
            raise OwnerCannotLeave()
        _remove(session, channel, user_id)


def remove_member(user_id: str, channel_id: str, member_id: str) -> None:
    with session_scope() as session:
        channel = _owned_channel(session, user_id, channel_id)
        if member_id == user_id:
            raise OwnerCannotLeave()
        _remove(session, channel, member_id)


def _remove(session: Session, channel: Channel, member_id: str) -> None:
    """Access ends with the row. The member's diaries leave the channel with them."""
    member = Channels(session).member(channel.id, member_id)
    if member is None:
        raise MemberNotFound()
    session.delete(member)
    email = Accounts(session).email(member_id)
    if email is not None:
        session.execute(
            delete(ChannelInvitation).where(
                ChannelInvitation.channel_id == channel.id, ChannelInvitation.email == email
            )
        )
    session.execute(
        delete(ChannelDiary).where(
            ChannelDiary.channel_id == channel.id,
            ChannelDiary.diary_id.in_(select(Diary.id).where(Diary.user_id == member_id)),
        )
    )
    logger.info("channel member removed", extra={"channel_id": channel.id})


def share_diary(user_id: str, channel_id: str, diary_id: str) -> ShareOut:
    with session_scope() as session:
        _member_channel(session, user_id, channel_id)
        if Diaries(session).own(user_id, diary_id) is None:
            raise DiaryNotFound()
        channels = Channels(session)
        share = channels.share(channel_id, diary_id)
        if share is None:
            share = ChannelDiary(channel_id=channel_id, diary_id=diary_id)
            session.add(share)
            session.flush()
        return ShareOut(channel_id=channel_id, diary_id=diary_id, shared_at=share.shared_at)


def unshare_diary(user_id: str, channel_id: str, diary_id: str) -> None:
    """The diary's author, or the channel's owner, takes it out of the channel."""
    with session_scope() as session:
        _, role = _member_channel(session, user_id, channel_id)
        share = Channels(session).share(channel_id, diary_id)
        diary = Diaries(session).readable(user_id, diary_id)
        if share is None or diary is None:
            raise DiaryNotFound()
        if diary.user_id != user_id and role != "owner":
            raise ChannelOwnerOnly("Only the diary's author or the channel's owner may do this.")
        session.delete(share)


def channel_diaries(user_id: str, channel_id: str, cursor: str | None, limit: int) -> DiaryPage:
    with session_scope() as session:
        _member_channel(session, user_id, channel_id)
        return service.list_channel_diaries(session, user_id, channel_id, cursor, limit)


# --- comments ----------------------------------------------------------------


def _reader_scope(session: Session, user_id: str, diary_id: str) -> tuple[bool, list[str]]:
    """(is the diary's author, the channels the caller reads it through); 404 if neither."""
    diary = Diaries(session).readable(user_id, diary_id)
    if diary is None:
        raise DiaryNotFound()
    if diary.user_id == user_id:
        return True, []
    return False, [
        channel_id for channel_id, _ in Channels(session).reader_channels(user_id, diary_id)
    ]


def _comment_out(comment: DiaryComment, names: dict[str, str], viewer_id: str) -> CommentOut:
    return CommentOut(
        comment_id=comment.id,
        diary_id=comment.diary_id,
        channel_id=comment.channel_id,
        author_id=comment.author_id,
        author_name=names.get(comment.author_id, ""),
        body=comment.body,
        created_at=comment.created_at,
        updated_at=comment.updated_at,
        mine=comment.author_id == viewer_id,
    )


def list_comments(user_id: str, diary_id: str, cursor: str | None, limit: int) -> CommentPage:
    """The author sees every comment; a member the author's and their channels' comments."""
    after = _time_cursor(cursor)
    with session_scope() as session:
        is_author, channel_ids = _reader_scope(session, user_id, diary_id)
        comments = Comments(session).page(
            diary_id,
            None if is_author else channel_ids,
            after,
            limit + 1,
        )
        names = Accounts(session).display_names([c.author_id for c in comments[:limit]])
        last = comments[min(limit, len(comments)) - 1] if comments else None
        return CommentPage(
            items=[_comment_out(c, names, user_id) for c in comments[:limit]],
            next_cursor=None if last is None else _next(comments, limit, last.created_at, last.id),
        )


def create_comment(user_id: str, diary_id: str, body: str, channel_id: str | None) -> CommentOut:
    with session_scope() as session:
        is_author, channel_ids = _reader_scope(session, user_id, diary_id)
        if is_author:
            channel = None
        elif channel_id is None:
            channel = channel_ids[0]
        elif channel_id in channel_ids:
            channel = channel_id
        else:
            raise ChannelNotFound()
        comment = DiaryComment(diary_id=diary_id, channel_id=channel, author_id=user_id, body=body)
        session.add(comment)
        session.flush()
        names = Accounts(session).display_names([user_id])
        return _comment_out(comment, names, user_id)


def _visible_comment(session: Session, user_id: str, comment_id: str) -> tuple[DiaryComment, bool]:
    """The comment if the caller may read it, and whether they own the channel it is in."""
    comment = Comments(session).get(comment_id)
    if comment is None:
        raise CommentNotFound()
    try:
        is_author, channel_ids = _reader_scope(session, user_id, comment.diary_id)
    except DiaryNotFound as exc:
        raise CommentNotFound() from exc
    if not is_author and comment.channel_id is not None and comment.channel_id not in channel_ids:
        raise CommentNotFound()
    owns_channel = comment.channel_id is not None and any(
        channel_id == comment.channel_id and role == "owner"
        for channel_id, role in Channels(session).reader_channels(user_id, comment.diary_id)
    )
    return comment, owns_channel


def update_comment(user_id: str, comment_id: str, body: str) -> CommentOut:
    with session_scope() as session:
        comment, _ = _visible_comment(session, user_id, comment_id)
        if comment.author_id != user_id:
            raise NotCommentAuthor()
        comment.body, comment.updated_at = body, utcnow()
        session.flush()
        return _comment_out(comment, Accounts(session).display_names([user_id]), user_id)


def delete_comment(user_id: str, comment_id: str) -> None:
    with session_scope() as session:
        comment, owns_channel = _visible_comment(session, user_id, comment_id)
        if comment.author_id != user_id and not owns_channel:
            raise NotCommentAuthor()
        session.delete(comment)
