"""Erases a leaving user's diary data (``UserDeletionRequested`` → SQS → here).

Their diaries (rows: transcripts, timelines, tags; shares and every comment on
them cascade), their videos and everything derived from them (thumbnails,
extracted audio, Transcribe outputs: all under the user's prefixes), the
channels they own (with their members, invitations, shares and comments),
their memberships, and their comments on other people's diaries. Idempotent:
a second delivery finds nothing left.
"""

from __future__ import annotations

from sqlalchemy import delete

from cheese_runtime.consumers import event_consumer
from cheese_runtime.db.session import session_scope
from cheese_runtime.events import UserDeletionRequested
from cheese_runtime.observability import logger
from functions.diary import storage
from functions.diary.models import Channel, ChannelInvitation, ChannelMember, Diary, DiaryComment


def erase_user(user_id: str) -> None:
    with session_scope() as session:
        session.execute(delete(DiaryComment).where(DiaryComment.author_id == user_id))
        session.execute(delete(ChannelMember).where(ChannelMember.user_id == user_id))
        session.execute(delete(ChannelInvitation).where(ChannelInvitation.invited_by == user_id))
        session.execute(delete(Channel).where(Channel.owner_id == user_id))
        session.execute(delete(Diary).where(Diary.user_id == user_id))
    objects = storage.delete_user_objects(user_id)
    logger.info("diary data erased", extra={"objects": objects})


def erase(event: UserDeletionRequested) -> None:
    erase_user(event.user_id)


handler = event_consumer({UserDeletionRequested: erase})
