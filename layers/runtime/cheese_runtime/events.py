"""Domain events on the EventBridge bus, and the consumer side of them.

Producers call :func:`publish`; consumers subscribe through an SQS queue
(declared in ``resources.EVENT_SUBSCRIPTIONS``), so a failing consumer retries
and finally parks the event in its dead-letter queue instead of losing it.
"""

from __future__ import annotations

import json
from typing import Any

from pydantic import BaseModel

from cheese_runtime import aws, resources
from cheese_runtime.observability import logger
from cheese_runtime.settings import get_settings


class PublishError(RuntimeError):
    pass


def publish(detail_type: str, detail: BaseModel) -> None:
    response = aws.client("events").put_events(
        Entries=[
            {
                "Source": resources.EVENT_SOURCE,
                "DetailType": detail_type,
                "Detail": detail.model_dump_json(),
                "EventBusName": get_settings().event_bus_name,
            }
        ]
    )
    if response.get("FailedEntryCount"):
        raise PublishError(f"EventBridge refused {detail_type}: {response['Entries']}")
    logger.info("event published", extra={"detail_type": detail_type})


def eventbridge_detail(sqs_body: str) -> tuple[str, dict[str, Any]]:
    """The (detail-type, detail) of an EventBridge event delivered as an SQS message body."""
    envelope = json.loads(sqs_body)
    return envelope["detail-type"], envelope["detail"]


class UserDeletionRequested(BaseModel):
    user_id: str
    requested_at: str


class AnalyzedFace(BaseModel):
    """A face of an analysed photo, as other functions see it (no embedding: biometric data stays in photos)."""

    face_id: str
    # 0–100; None when the owner has not consented to expression analysis.
    smile: float | None
    person_id: str | None
    # The face belongs to the person the owner marked as "me".
    is_me: bool
    # Large and sharp enough to count (see cheese_ml quality).
    usable: bool


class PhotoAnalyzed(BaseModel):
    photo_id: str
    user_id: str
    sha256: str
    # 64-bit difference hash of the image, hex: near-duplicates differ in few bits.
    perceptual_hash: str
    analyzed_at: str
    faces: list[AnalyzedFace]


class PhotoDeleted(BaseModel):
    photo_id: str
    user_id: str
    deleted_at: str


class MeFacesChanged(BaseModel):
    """The faces of the person the owner marked as "me" changed (marked, merged, reassigned)."""

    user_id: str
    # Every face of the "me" person now; empty when no person is "me".
    face_ids: list[str]
    changed_at: str


class ReclusterRequested(BaseModel):
    user_id: str


class AnonymisedViewRequested(BaseModel):
    user_id: str
    photo_id: str
    # Person ids whose faces stay visible; every other face is hidden.
    keep_person_ids: list[str]
    style: str
    # Where the rendered JPEG is cached.
    object_key: str


class EmojiTaskRequested(BaseModel):
    task_id: str
    user_id: str
