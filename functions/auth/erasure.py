"""Consumer of ``UserDeletionRequested``: erases the account row and its tokens.

Subscribed through an SQS queue (EventBridge rule target); failed records are
reported as partial batch failures and end in the queue's DLQ after retries.
Erasing is idempotent: a second delivery finds nothing left to erase.
"""

from __future__ import annotations

from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord

from cheese_runtime.consumers import sqs_batch_handler
from cheese_runtime.events import eventbridge_detail
from cheese_runtime.observability import logger, metrics
from cheese_runtime.resources import USER_DELETION_REQUESTED
from functions.auth.service import erase_user


def erase(record: SQSRecord) -> None:
    detail_type, detail = eventbridge_detail(record.body)
    if detail_type != USER_DELETION_REQUESTED:
        logger.warning("ignoring unexpected event", extra={"detail_type": detail_type})
        return
    if erase_user(detail["user_id"]):
        metrics.add_metric(name="AccountsErased", unit=MetricUnit.Count, value=1)
        logger.info("account erased", extra={"user_id": detail["user_id"]})


handler = sqs_batch_handler(erase)
