"""Erases a leaving user's videos (``UserDeletionRequested`` → SQS → here).

Videos, anonymisations, originals and results; live streams, their segments, results and
engine states (DynamoDB). Idempotent: a second delivery finds nothing left.
"""

from __future__ import annotations

from cheese_runtime import storage as runtime_storage
from cheese_runtime.consumers import event_consumer
from cheese_runtime.db.session import session_scope
from cheese_runtime.events import UserDeletionRequested
from cheese_runtime.observability import logger
from functions.video import storage
from functions.video.dal import VideoRepository
from functions.video.live_state import LiveStateStore


def erase_user(user_id: str) -> None:
    with session_scope() as session:
        VideoRepository(session).delete_user(user_id)
    objects = runtime_storage.delete_prefix(storage.bucket(), storage.original_prefix(user_id))
    objects += runtime_storage.delete_prefix(storage.bucket(), storage.result_prefix(user_id))
    objects += runtime_storage.delete_prefix(storage.bucket(), storage.live_prefix(user_id))
    objects += runtime_storage.delete_prefix(storage.bucket(), storage.live_result_prefix(user_id))
    states = LiveStateStore().erase_user(user_id)
    logger.info("video data erased", extra={"objects": objects, "live_states": states})


def erase(event: UserDeletionRequested) -> None:
    erase_user(event.user_id)


handler = event_consumer({UserDeletionRequested: erase})
