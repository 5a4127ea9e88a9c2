"""SQS-triggered Lambda handlers: every queue consumer, typed.

- :func:`event_consumer`: EventBridge events (``resources.EVENT_SUBSCRIPTIONS``);
  each detail is validated against its model in ``events.REGISTRY`` and
  handed to the function registered for its type.
- :func:`s3_object_consumer`: S3 object notifications
  (``resources.BUCKET_NOTIFICATIONS``); each object is handed over with its
  key decoded.
- :func:`sqs_batch_handler`: the batch loop both are built on.

Messages are parsed with Powertools' parser models (``SqsRecordModel`` with a
``Json[...]`` body). Powertools' batch processor reports failed records as
partial batch failures (``ReportBatchItemFailures``), so only they are
retried and, after the queue's maxReceiveCount, moved to its DLQ. A message
that does not validate is such a failure (a poison message): it is logged with
where it is wrong and never with its content, which may be personal data.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, Literal
from urllib.parse import unquote_plus

from aws_lambda_powertools.utilities.batch import (
    BatchProcessor,
    EventType,
    process_partial_response,
)
from aws_lambda_powertools.utilities.batch.base import FailureResponse
from aws_lambda_powertools.utilities.batch.exceptions import ExceptionInfo
from aws_lambda_powertools.utilities.batch.types import PartialItemFailureResponse
from aws_lambda_powertools.utilities.parser.models import (
    EventBridgeModel,
    S3Model,
    SqsRecordModel,
)
from aws_lambda_powertools.utilities.typing import LambdaContext
from pydantic import BaseModel, Json, ValidationError

from cheese_runtime import events
from cheese_runtime.handlers import LambdaHandler, observed
from cheese_runtime.observability import logger


class EventBridgeSqsRecord(SqsRecordModel):
    """An SQS message an EventBridge rule sent: the body is the event."""

    body: Json[EventBridgeModel]


class S3TestEvent(BaseModel):
    """The message S3 sends once when a bucket notification is set up."""

    Event: Literal["s3:TestEvent"]


class S3SqsRecord(SqsRecordModel):
    """An SQS message an S3 bucket notification sent."""

    body: Json[S3Model | S3TestEvent]


class UnexpectedEventType(LookupError):
    """An event this consumer does not handle reached its queue (a subscription not wired to it)."""


@dataclass(frozen=True)
class StoredObject:
    """One object of an S3 notification."""

    event_name: str  # "ObjectCreated:Post", ...
    bucket: str
    key: str  # decoded: S3 sends keys URL-encoded ("+" for a space, %xx)
    size: int
    # Deliveries of the SQS message so far (ApproximateReceiveCount); the last is maxReceiveCount.
    receive_count: int


class _Processor(BatchProcessor):
    def failure_handler(self, record: Any, exception: ExceptionInfo) -> FailureResponse:
        error = exception[1]
        message_id = getattr(record, "message_id", None) or getattr(record, "messageId", None)
        if isinstance(error, ValidationError):
            logger.error(
                "invalid message: retried, then dead-lettered",
                extra={
                    "message_id": message_id,
                    "model": error.title,
                    "errors": error.errors(
                        include_url=False, include_input=False, include_context=False
                    ),
                },
            )
        elif isinstance(error, UnexpectedEventType):
            logger.error(
                "unexpected event type: retried, then dead-lettered",
                extra={"message_id": message_id, "detail_type": str(error)},
            )
        else:
            logger.warning(
                "message failed; SQS delivers it again",
                extra={"message_id": message_id, "error": type(error).__name__},
                exc_info=error,
            )
        return super().failure_handler(record, exception)


def sqs_batch_handler(
    record_handler: Callable[[Any], object], model: type[SqsRecordModel] | None = None
) -> LambdaHandler:
    """A Lambda handler running ``record_handler`` on each record, parsed as ``model``.

    A batch whose every record failed is answered, not raised: the answer lists
    them all (the same retry), and an uncaught error would print what the
    records held.
    """
    processor = _Processor(
        event_type=EventType.SQS, model=model, raise_on_entire_batch_failure=False
    )

    def handler(event: dict[str, Any], context: LambdaContext) -> PartialItemFailureResponse:
        return process_partial_response(
            event=event, record_handler=record_handler, processor=processor, context=context
        )

    return observed(handler)


def event_consumer(
    handlers: Mapping[type[events.EventDetail], Callable[[Any], object]],
) -> LambdaHandler:
    """EventBridge events, ``{PhotoDeleted: reverse, ...}``: each handler gets a valid detail."""
    by_type: dict[str, tuple[type[events.EventDetail], Callable[[Any], object]]] = {}
    for model, handle in handlers.items():
        if events.REGISTRY.get(model.detail_type) is not model:
            raise ValueError(f"{model.__name__} is not in events.REGISTRY")
        by_type[model.detail_type] = (model, handle)

    def consume(record: EventBridgeSqsRecord) -> None:
        envelope = record.body
        logger.thread_safe_append_keys(event_id=envelope.id, detail_type=envelope.detail_type)
        if envelope.detail_type not in by_type:
            raise UnexpectedEventType(envelope.detail_type)
        model, handle = by_type[envelope.detail_type]
        if envelope.source != model.source:
            # Only AWS sends aws.* sources; a Cheese event claiming one (or the reverse) is forged.
            raise UnexpectedEventType(f"{envelope.detail_type} from {envelope.source}")
        handle(model.model_validate(envelope.detail))

    return sqs_batch_handler(consume, EventBridgeSqsRecord)


def s3_object_consumer(
    handle: Callable[[StoredObject], object],
) -> LambdaHandler:
    """A consumer of S3 object notifications: ``handle`` gets each object, its key decoded."""

    def consume(record: S3SqsRecord) -> None:
        if isinstance(record.body, S3TestEvent):
            return
        receive_count = int(record.attributes.ApproximateReceiveCount)
        for entry in record.body.Records:
            stored = entry.s3.object
            if stored is None:
                continue
            handle(
                StoredObject(
                    event_name=entry.eventName,
                    bucket=entry.s3.bucket.name,
                    key=unquote_plus(stored.key),
                    size=int(stored.size or 0),
                    receive_count=receive_count,
                )
            )

    return sqs_batch_handler(consume, S3SqsRecord)
