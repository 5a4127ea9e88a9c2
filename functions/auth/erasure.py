"""Consumer of ``UserDeletionRequested``: erases the account row and its tokens.

Subscribed through an SQS queue (EventBridge rule target); failed records are
reported as partial batch failures and end in the queue's DLQ after retries.
Erasing is idempotent: a second delivery finds nothing left to erase.
"""

from __future__ import annotations

from aws_lambda_powertools.metrics import MetricUnit

from cheese_runtime.consumers import event_consumer
from cheese_runtime.events import UserDeletionRequested
from cheese_runtime.observability import logger, metrics
from functions.auth.service import erase_user


def erase(event: UserDeletionRequested) -> None:
    if erase_user(event.user_id):
        metrics.add_metric(name="AccountsErased", unit=MetricUnit.Count, value=1)
        logger.info("account erased", extra={"user_id": event.user_id})


handler = event_consumer({UserDeletionRequested: erase})
