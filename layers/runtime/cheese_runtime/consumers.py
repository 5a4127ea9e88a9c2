"""SQS-triggered Lambda handlers: one shape for every queue consumer.

Powertools' batch processor reports failed records as partial batch failures
(``ReportBatchItemFailures``), so only they are retried and, after the
queue's maxReceiveCount, moved to its DLQ; Logger, Tracer and Metrics wrap
the invocation as they do for the HTTP functions.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from aws_lambda_powertools.utilities.batch import (
    BatchProcessor,
    EventType,
    process_partial_response,
)
from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord
from aws_lambda_powertools.utilities.typing import LambdaContext

from cheese_runtime.observability import logger, metrics, tracer


def sqs_batch_handler(
    record_handler: Callable[[SQSRecord], Any],
) -> Callable[[dict[str, Any], LambdaContext], dict[str, Any]]:
    """A Lambda handler that runs ``record_handler`` on each record of an SQS batch."""
    processor = BatchProcessor(event_type=EventType.SQS)

    @logger.inject_lambda_context(clear_state=True)
    @tracer.capture_lambda_handler(capture_response=False)
    @metrics.log_metrics
    def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
        return process_partial_response(
            event=event, record_handler=record_handler, processor=processor, context=context
        )

    return handler
