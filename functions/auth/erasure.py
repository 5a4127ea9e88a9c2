"""Consumer of ``UserDeletionRequested``: erases the account row and its tokens.

Subscribed through an SQS queue (EventBridge rule target); failed records are
reported as partial batch failures and end in the queue's DLQ after retries.
Erasing is idempotent: a second delivery finds nothing left to erase.
"""
from __future__ import annotations

from typing import Any

from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.batch import BatchProcessor, EventType, process_partial_response
from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord
from aws_lambda_powertools.utilities.typing import LambdaContext

from cheese_runtime.events import eventbridge_detail
from cheese_runtime.observability import logger, metrics, tracer
from cheese_runtime.resources import USER_DELETION_REQUESTED
from functions.auth.service import erase_user

processor = BatchProcessor(event_type=EventType.SQS)


def erase(record: SQSRecord) -> None:
    detail_type, detail = eventbridge_detail(record.body)
    if detail_type != USER_DELETION_REQUESTED:
        logger.warning("ignoring unexpected event", extra={"detail_type": detail_type})
        return
    if erase_user(detail["user_id"]):
        metrics.add_metric(name="AccountsErased", unit=MetricUnit.Count, value=1)
        logger.info("account erased", extra={"user_id": detail["user_id"]})


@logger.inject_lambda_context(clear_state=True)
@tracer.capture_lambda_handler(capture_response=False)
@metrics.log_metrics
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return process_partial_response(event=event, record_handler=erase, processor=processor, context=context)
