"""Full re-clustering of one user's faces (``ReclusterRequested``)."""
from __future__ import annotations

from typing import Any

from aws_lambda_powertools.utilities.batch import BatchProcessor, EventType, process_partial_response
from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord
from aws_lambda_powertools.utilities.typing import LambdaContext

from cheese_runtime import events
from cheese_runtime.db.session import session_scope
from cheese_runtime.observability import logger, metrics, tracer
from functions.photos.dal import ConsentRepository
from functions.photos.grouping import recluster_user

processor = BatchProcessor(event_type=EventType.SQS)


def handle_record(record: SQSRecord) -> None:
    _, detail = events.eventbridge_detail(record.body)
    request = events.ReclusterRequested.model_validate(detail)
    with session_scope() as session:
        if not ConsentRepository(session).get(request.user_id).face_grouping:
            logger.info("recluster skipped: no face grouping consent")
            return
        recluster_user(session, request.user_id)


@logger.inject_lambda_context(clear_state=True)
@tracer.capture_lambda_handler(capture_response=False)
@metrics.log_metrics
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return process_partial_response(event=event, record_handler=handle_record, processor=processor, context=context)
