"""Renders anonymised views (``AnonymisedViewRequested``) into the S3 cache.

Every face not kept is hidden with the chosen style; idempotent: a view
already in the cache is not rendered again. A rendered view's
``anonymised_views`` row is removed; a view whose original is gone is marked
``failed`` (``original-missing``) at once, so the API stops answering
"rendering" (functions/photos/reconciler.py re-drives lost requests).
"""

from __future__ import annotations

from cheese_ml.analysis import Box, FaceQuality
from cheese_ml.analysis import Face as MlFace
from cheese_ml.anonymise import anonymise
from cheese_ml.images import decode_image, encode_jpeg
from cheese_runtime import aws, events
from cheese_runtime.consumers import event_consumer
from cheese_runtime.db.session import session_scope
from cheese_runtime.db.types import utcnow
from cheese_runtime.observability import logger
from functions.photos import storage
from functions.photos.dal import FaceRepository, PhotoRepository
from functions.photos.models import AnonymisedView


def _view_done(object_key: str, failure_reason: str | None = None) -> None:
    with session_scope() as session:
        view = session.get(AnonymisedView, object_key)
        if view is None:
            return
        if failure_reason is None:
            session.delete(view)
        else:
            view.status, view.failure_reason, view.status_changed_at = (
                "failed",
                failure_reason,
                utcnow(),
            )


def _original(user_id: str, photo_id: str) -> bytes | None:
    s3 = aws.client("s3")
    try:
        response = s3.get_object(
            Bucket=storage.bucket(), Key=storage.original_key(user_id, photo_id)
        )
    except s3.exceptions.NoSuchKey:
        return None
    body: bytes = response["Body"].read()
    return body


def render(request: events.AnonymisedViewRequested) -> None:
    if storage.exists(request.object_key):
        _view_done(request.object_key)
        return
    with session_scope() as session:
        if PhotoRepository(session).owned(request.user_id, request.photo_id) is None:
            logger.info("photo gone before its view was rendered")
            return
        rows = FaceRepository(session).for_photo(request.photo_id)
        faces = [
            MlFace(
                box=Box(r.box_x, r.box_y, r.box_w, r.box_h),
                landmarks=tuple((x, y) for x, y in r.landmarks),
                detection_score=r.detection_score,
                quality=FaceQuality(
                    face_size=r.quality.get("face_size", 0),
                    sharpness=r.quality.get("sharpness", 0.0),
                    yaw=r.quality.get("yaw", 0.0),
                    pitch=r.quality.get("pitch", 0.0),
                    roll=r.quality.get("roll", 0.0),
                    usable_for_clustering=r.usable,
                ),
                embedding=None,
                expression=None,
                smile=None,
            )
            for r in rows
        ]
        keep = {i for i, r in enumerate(rows) if r.person_id in set(request.keep_person_ids)}
    original = _original(request.user_id, request.photo_id)
    if original is None:
        _view_done(request.object_key, "original-missing")
        logger.warning("anonymised view failed: original missing")
        return
    rendered = anonymise(decode_image(original), faces, keep=keep, style=request.style)
    storage.put_jpeg(request.object_key, encode_jpeg(rendered, 88))
    _view_done(request.object_key)
    logger.info("anonymised view rendered", extra={"faces": len(faces), "kept": len(keep)})


handler = event_consumer({events.AnonymisedViewRequested: render})
