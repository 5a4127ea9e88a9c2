"""Domain events on the EventBridge bus: each one's detail type and model, in one registry.

An event type is a model (its ``detail_type`` beside its fields) and one line
in :data:`REGISTRY`. Producers call :func:`publish`, which sends only
registered, valid details; consumers subscribe through an SQS queue
(``resources.EVENT_SUBSCRIPTIONS``, whose detail types name these models)
and are built with ``cheese_runtime.consumers.event_consumer``, which
validates every event against the same model, so a failing or malformed event
retries and finally parks in the consumer's dead-letter queue instead of
being lost or half applied.

This module imports nothing of the runtime but logging at load time:
``resources`` (and so the settings) names its detail types.
"""

from __future__ import annotations

from typing import ClassVar, Literal

from pydantic import BaseModel

from cheese_runtime.observability import logger

EVENT_SOURCE = "cheese"


class EventDetail(BaseModel):
    """The ``detail`` of an event. Fields a consumer does not know are ignored."""

    detail_type: ClassVar[str]
    # Who sends it: Cheese on its own bus, or an AWS service on the account's default bus.
    source: ClassVar[str] = EVENT_SOURCE


class UserDeletionRequested(EventDetail):
    detail_type: ClassVar[str] = "UserDeletionRequested"

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


class PhotoAnalyzed(EventDetail):
    detail_type: ClassVar[str] = "PhotoAnalyzed"

    photo_id: str
    user_id: str
    sha256: str
    # 64-bit difference hash of the image, hex: near-duplicates differ in few bits.
    perceptual_hash: str
    analyzed_at: str
    faces: list[AnalyzedFace]


class PhotoDeleted(EventDetail):
    detail_type: ClassVar[str] = "PhotoDeleted"

    photo_id: str
    user_id: str
    deleted_at: str


class MeFacesChanged(EventDetail):
    """The faces of the person the owner marked as "me" changed (marked, merged, reassigned)."""

    detail_type: ClassVar[str] = "MeFacesChanged"

    user_id: str
    # Every face of the "me" person now; empty when no person is "me".
    face_ids: list[str]
    changed_at: str


class ReclusterRequested(EventDetail):
    detail_type: ClassVar[str] = "ReclusterRequested"

    user_id: str


class AnonymisedViewRequested(EventDetail):
    detail_type: ClassVar[str] = "AnonymisedViewRequested"

    user_id: str
    photo_id: str
    # Person ids whose faces stay visible; every other face is hidden.
    keep_person_ids: list[str]
    style: Literal["mosaic", "blur", "cartoon"]
    # Where the rendered JPEG is cached.
    object_key: str


class EmojiTaskRequested(EventDetail):
    detail_type: ClassVar[str] = "EmojiTaskRequested"

    task_id: str
    user_id: str


class VideoAnonymisationRequested(EventDetail):
    detail_type: ClassVar[str] = "VideoAnonymisationRequested"

    anonymisation_id: str
    video_id: str
    user_id: str


class VideoChunkRequested(EventDetail):
    """One chunk of a long video's anonymisation: detect its faces, or encode it by its plan."""

    detail_type: ClassVar[str] = "VideoChunkRequested"

    anonymisation_id: str
    user_id: str
    chunk: int
    stage: Literal["detect", "encode"]


class LiveSegmentAnnounced(EventDetail):
    """A live stream's segment arrived (or the stream ended): anonymise what is next in order."""

    detail_type: ClassVar[str] = "LiveSegmentAnnounced"

    stream_id: str
    user_id: str
    sequence: int


class TranscribeJobStateChange(EventDetail):
    """Amazon Transcribe finished a job (sent by AWS to the default bus, never published by us).

    The diary's Transcribe engine starts jobs named ``resources.TRANSCRIBE_JOB_PREFIX`` + the
    diary id; the completion consumer ignores every other job of the account.
    """

    detail_type: ClassVar[str] = "Transcribe Job State Change"
    source: ClassVar[str] = "aws.transcribe"

    TranscriptionJobName: str
    TranscriptionJobStatus: Literal["COMPLETED", "FAILED"]
    FailureReason: str | None = None


def _registry(*models: type[EventDetail]) -> dict[str, type[EventDetail]]:
    registry = {model.detail_type: model for model in models}
    if len(registry) != len(models):
        raise ValueError("two event models share a detail type")
    return registry


# Every event type on the bus.
REGISTRY: dict[str, type[EventDetail]] = _registry(
    UserDeletionRequested,
    PhotoAnalyzed,
    PhotoDeleted,
    MeFacesChanged,
    ReclusterRequested,
    AnonymisedViewRequested,
    EmojiTaskRequested,
    VideoAnonymisationRequested,
    VideoChunkRequested,
    LiveSegmentAnnounced,
    TranscribeJobStateChange,
)


class UnknownEventType(LookupError):
    pass


class PublishError(RuntimeError):
    pass


def model_of(detail_type: str) -> type[EventDetail]:
    try:
        return REGISTRY[detail_type]
    except KeyError:
        raise UnknownEventType(detail_type) from None


def publish(detail: EventDetail) -> None:
    """Put one event on the bus; its detail is checked against its registered model first."""
    # Imported here: resources (which the settings and the AWS clients read) imports this module.
    from cheese_runtime import aws
    from cheese_runtime.settings import get_settings

    model = model_of(detail.detail_type)
    if type(detail) is not model:
        raise TypeError(f"{type(detail).__name__} is not the model of {detail.detail_type}")
    if model.source != EVENT_SOURCE:
        raise TypeError(f"{detail.detail_type} is sent by {model.source}, not published by Cheese")
    body = model.model_validate(detail.model_dump()).model_dump_json()
    response = aws.client("events").put_events(
        Entries=[
            {
                "Source": EVENT_SOURCE,
                "DetailType": detail.detail_type,
                "Detail": body,
                "EventBusName": get_settings().event_bus_name,
            }
        ]
    )
    if response.get("FailedEntryCount"):
        raise PublishError(f"EventBridge refused {detail.detail_type}: {response['Entries']}")
    logger.info("event published", extra={"detail_type": detail.detail_type})
