"""Erases a leaving user's photos (``UserDeletionRequested``): objects, rows, face-index entries.

Idempotent and order-independent: objects are found by the user's prefixes,
so it works even when the account row (and with it, by cascade, the photo
rows) is already gone.
"""

from __future__ import annotations

from aws_lambda_powertools.metrics import MetricUnit
from sqlalchemy import delete

from cheese_runtime.consent import Consents
from cheese_runtime.consumers import event_consumer
from cheese_runtime.db.session import session_scope
from cheese_runtime.events import UserDeletionRequested
from cheese_runtime.observability import logger, metrics
from cheese_runtime.resources import PHOTOS_DERIVED_PREFIX, PHOTOS_ORIGINALS_PREFIX
from functions.photos import storage
from functions.photos.face_index import external_index
from functions.photos.models import Person, Photo


def erase_user_photos(user_id: str) -> int:
    index = external_index()
    if index is not None:
        index.delete_user_faces(user_id)
    with session_scope() as session:
        session.execute(delete(Photo).where(Photo.user_id == user_id))  # faces go with them
        session.execute(delete(Person).where(Person.user_id == user_id))
        Consents(session).erase(user_id)
    removed = storage.delete_prefix(f"{PHOTOS_ORIGINALS_PREFIX}{user_id}/")
    removed += storage.delete_prefix(f"{PHOTOS_DERIVED_PREFIX}{user_id}/")
    return removed


def erase(event: UserDeletionRequested) -> None:
    removed = erase_user_photos(event.user_id)
    metrics.add_metric(name="PhotoAccountsErased", unit=MetricUnit.Count, value=1)
    logger.info("photos erased", extra={"user_id": event.user_id, "objects": removed})


handler = event_consumer({UserDeletionRequested: erase})
