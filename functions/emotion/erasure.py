"""Erases a leaving user's emoji-face data (``UserDeletionRequested`` → SQS → here).

Templates (and their seven images), tasks and their result JPEGs, and the
avatar choice. Idempotent: a second delivery finds nothing left. The ranking's
per-day expression counts are anonymous and stay; the user's templates leave
the template ranking with their rows.
"""

from __future__ import annotations

from sqlalchemy import delete

from cheese_runtime.consumers import event_consumer
from cheese_runtime.db.session import session_scope
from cheese_runtime.events import UserDeletionRequested
from cheese_runtime.observability import logger
from functions.emotion import storage
from functions.emotion.models import EmojiAvatarChoice, EmojiTask, EmojiTemplate


def erase_user(user_id: str) -> None:
    with session_scope() as session:
        session.execute(delete(EmojiTask).where(EmojiTask.user_id == user_id))
        session.execute(delete(EmojiAvatarChoice).where(EmojiAvatarChoice.user_id == user_id))
        session.execute(delete(EmojiTemplate).where(EmojiTemplate.owner_id == user_id))
    objects = storage.delete_prefix(storage.template_prefix(user_id))
    objects += storage.delete_prefix(storage.result_prefix(user_id))
    logger.info("emoji data erased", extra={"objects": objects})


def erase(event: UserDeletionRequested) -> None:
    erase_user(event.user_id)


handler = event_consumer({UserDeletionRequested: erase})
