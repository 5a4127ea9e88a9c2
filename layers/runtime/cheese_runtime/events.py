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
