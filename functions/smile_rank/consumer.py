"""Consumer of PhotoAnalyzed, PhotoDeleted, MeFacesChanged and UserDeletionRequested (SQS, partial batch failures).

Idempotent: a photo earns once (its id is the key of ``smile_photos``), a
deletion reverses once (the photo's status), an erasure finds nothing the
second time. A malformed event fails (retrying cannot fix it: it ends in the
dead-letter queue, logged without its content); a database error fails the
record too, which SQS redelivers and finally parks in the dead-letter queue.
"""

from __future__ import annotations

from functools import cache

from cheese_runtime.consumers import event_consumer
from cheese_runtime.events import MeFacesChanged, PhotoAnalyzed, PhotoDeleted, UserDeletionRequested
from cheese_runtime.observability import logger
from functions.smile_rank.config import get_smile_settings
from functions.smile_rank.service import SmileService


@cache
def service() -> SmileService:
    return SmileService(get_smile_settings())


def award(event: PhotoAnalyzed) -> None:
    photo = service().award(event)
    logger.info(
        "photo scored",
        extra={"photo_id": photo.photo_id, "status": photo.status, "points": photo.points},
    )


def reverse(event: PhotoDeleted) -> None:
    status = service().reverse(event)
    logger.info("photo deletion applied", extra={"photo_id": event.photo_id, "status": status})


def mark_me(event: MeFacesChanged) -> None:
    changed = service().mark_me(event)
    logger.info("me faces applied", extra={"photos": changed})


def erase(event: UserDeletionRequested) -> None:
    erased = service().erase_user(event.user_id)
    logger.info("smile records erased", extra={"user_id": event.user_id, "photos": erased})


handler = event_consumer(
    {
        PhotoAnalyzed: award,
        PhotoDeleted: reverse,
        MeFacesChanged: mark_me,
        UserDeletionRequested: erase,
    }
)
