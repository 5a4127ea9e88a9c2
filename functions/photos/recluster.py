"""Full re-clustering of one user's faces (``ReclusterRequested``)."""

from __future__ import annotations

from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord

from cheese_runtime import events
from cheese_runtime.consent import FACE_GROUPING, Consents
from cheese_runtime.consumers import sqs_batch_handler
from cheese_runtime.db.session import session_scope
from cheese_runtime.observability import logger
from functions.photos.grouping import recluster_user
from functions.photos.service import publish_me_faces


def handle_record(record: SQSRecord) -> None:
    _, detail = events.eventbridge_detail(record.body)
    request = events.ReclusterRequested.model_validate(detail)
    with session_scope() as session:
        if not Consents(session).granted(request.user_id, FACE_GROUPING):
            logger.info("recluster skipped: no face grouping consent")
            return
        recluster_user(session, request.user_id)
    # Re-clustering may have given the "me" person more faces.
    publish_me_faces(request.user_id)


handler = sqs_batch_handler(handle_record)
