"""Consumer of PhotoAnalyzed, PhotoDeleted, MeFacesChanged and UserDeletionRequested (SQS, partial batch failures).

Idempotent: a photo earns once (its id is the key of ``smile_photos``), a
deletion reverses once (the photo's status), an erasure finds nothing the
second time. A malformed event is logged and dropped (retrying cannot fix
it); a database error fails the record, which SQS redelivers and finally
parks in the dead-letter queue.
"""

from __future__ import annotations

from functools import cache

from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord
from pydantic import ValidationError

from cheese_runtime.consumers import sqs_batch_handler
from cheese_runtime.events import (
    MeFacesChanged,
    PhotoAnalyzed,
    PhotoDeleted,
    UserDeletionRequested,
    eventbridge_detail,
)
from cheese_runtime.observability import logger
from cheese_runtime.resources import (
    ME_FACES_CHANGED,
    PHOTO_ANALYZED,
    PHOTO_DELETED,
    USER_DELETION_REQUESTED,
)
from functions.smile_rank.config import get_smile_settings
from functions.smile_rank.service import SmileService


@cache
def service() -> SmileService:
    return SmileService(get_smile_settings())


def consume(record: SQSRecord) -> None:
    detail_type, detail = eventbridge_detail(record.body)
    try:
        if detail_type == PHOTO_ANALYZED:
            photo = service().award(PhotoAnalyzed.model_validate(detail))
            logger.info(
                "photo scored",
                extra={"photo_id": photo.photo_id, "status": photo.status, "points": photo.points},
            )
        elif detail_type == PHOTO_DELETED:
            event = PhotoDeleted.model_validate(detail)
            status = service().reverse(event)
            logger.info(
                "photo deletion applied", extra={"photo_id": event.photo_id, "status": status}
            )
        elif detail_type == ME_FACES_CHANGED:
            changed = service().mark_me(MeFacesChanged.model_validate(detail))
            logger.info("me faces applied", extra={"photos": changed})
        elif detail_type == USER_DELETION_REQUESTED:
            event = UserDeletionRequested.model_validate(detail)
            erased = service().erase_user(event.user_id)
            logger.info("smile records erased", extra={"user_id": event.user_id, "photos": erased})
        else:
            logger.warning("ignoring unexpected event", extra={"detail_type": detail_type})
    except ValidationError as exc:
        logger.error(
            "malformed event dropped",
            extra={
                "detail_type": detail_type,
                "errors": exc.errors(include_url=False, include_input=False),
            },
        )


handler = sqs_batch_handler(consume)
