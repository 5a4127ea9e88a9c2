"""Renders anonymised views (``AnonymisedViewRequested``) into the S3 cache.

Every face not kept is hidden with the chosen style; idempotent: a view
already in the cache is not rendered again.
"""
from __future__ import annotations

from typing import Any

from aws_lambda_powertools.utilities.batch import BatchProcessor, EventType, process_partial_response
from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord
from aws_lambda_powertools.utilities.typing import LambdaContext

from cheese_ml.analysis import Box, Face as MlFace, FaceQuality
from cheese_ml.anonymise import anonymise
from cheese_ml.images import decode_image, encode_jpeg
from cheese_runtime import aws, events
from cheese_runtime.db.session import session_scope
from cheese_runtime.observability import logger, metrics, tracer
from functions.photos import storage
from functions.photos.dal import FaceRepository, PhotoRepository

processor = BatchProcessor(event_type=EventType.SQS)


def render(request: events.AnonymisedViewRequested) -> None:
    if storage.exists(request.object_key):
        return
    with session_scope() as session:
        if PhotoRepository(session).owned(request.user_id, request.photo_id) is None:
            logger.info("photo gone before its view was rendered")
            return
        rows = FaceRepository(session).for_photo(request.photo_id)
        faces = [MlFace(box=Box(r.box_x, r.box_y, r.box_w, r.box_h),
                        landmarks=tuple(tuple(p) for p in r.landmarks), detection_score=r.detection_score,
                        quality=FaceQuality(face_size=r.quality.get("face_size", 0),
                                            sharpness=r.quality.get("sharpness", 0.0), yaw=r.quality.get("yaw", 0.0),
                                            pitch=r.quality.get("pitch", 0.0), roll=r.quality.get("roll", 0.0),
                                            usable_for_clustering=r.usable),
                        embedding=None, expression=None, smile=None) for r in rows]
        keep = {i for i, r in enumerate(rows) if r.person_id in set(request.keep_person_ids)}
    original = aws.client("s3").get_object(
        Bucket=storage.bucket(), Key=storage.original_key(request.user_id, request.photo_id))["Body"].read()
    rendered = anonymise(decode_image(original), faces, keep=keep, style=request.style)
    storage.put_jpeg(request.object_key, encode_jpeg(rendered, 88))
    logger.info("anonymised view rendered", extra={"faces": len(faces), "kept": len(keep)})


def handle_record(record: SQSRecord) -> None:
    _, detail = events.eventbridge_detail(record.body)
    render(events.AnonymisedViewRequested.model_validate(detail))


@logger.inject_lambda_context(clear_state=True)
@tracer.capture_lambda_handler(capture_response=False)
@metrics.log_metrics
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return process_partial_response(event=event, record_handler=handle_record, processor=processor, context=context)
