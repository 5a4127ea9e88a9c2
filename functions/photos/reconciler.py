"""Nothing stays stuck: re-drives photos and anonymised views whose work was lost.

A ``resources.PHOTOS_RECONCILE`` scheduled job (EventBridge Scheduler in AWS;
the local stack runs it at start and then on its rate). Each run takes the
oldest photos left ``pending`` or ``processing`` and views left ``rendering``
past their bound (``RecoverySettings``) and for each one:

- its original is gone: ``failed`` with ``original-missing`` (or
  ``upload-missing`` for a photo whose upload never came before its URL expired);
- re-driven ``max_redrives`` times already: ``failed`` (``analysis-stuck``,
  ``render-stuck``);
- else re-driven: a photo by copying its original onto itself (S3 sends a new
  ``ObjectCreated:Copy`` event, so the analysis runs exactly as for an upload),
  a view by publishing its ``AnonymisedViewRequested`` again.

Every step is idempotent (the analyzer and the renderer are), so a re-drive
racing a late delivery costs one extra no-op.
"""

from __future__ import annotations

from datetime import timedelta

from aws_lambda_powertools.metrics import MetricUnit
from sqlalchemy import select

from cheese_runtime import aws, events
from cheese_runtime.db.session import session_scope
from cheese_runtime.db.types import utcnow
from cheese_runtime.handlers import NoPayload, scheduled_handler
from cheese_runtime.observability import logger, metrics
from cheese_runtime.settings import get_settings
from functions.photos import storage
from functions.photos.models import AnonymisedView, Photo
from functions.photos.recovery_settings import RecoverySettings, get_recovery_settings


def _original_content_type(key: str) -> str | None:
    """The stored Content-Type of an original, or None when it is gone."""
    s3 = aws.client("s3")
    try:
        head = s3.head_object(Bucket=storage.bucket(), Key=key)
    except s3.exceptions.ClientError as exc:
        if exc.response.get("Error", {}).get("Code") in ("404", "NoSuchKey", "NotFound"):
            return None
        raise
    return str(head.get("ContentType") or "binary/octet-stream")


def _redrive_original(key: str, content_type: str, redrive: int) -> None:
    # In place with REPLACE: same bytes and the same stored type (the analyzer checks it), a
    # metadata change S3 requires for a self-copy, and a new ObjectCreated event.
    aws.client("s3").copy_object(
        Bucket=storage.bucket(),
        Key=key,
        CopySource={"Bucket": storage.bucket(), "Key": key},
        MetadataDirective="REPLACE",
        ContentType=content_type,
        Metadata={"cheese-redrive": str(redrive)},
    )


def reconcile_photos(settings: RecoverySettings) -> dict[str, int]:
    now = utcnow()
    bound = now - timedelta(seconds=settings.stuck_after_seconds)
    upload_expired = now - timedelta(seconds=get_settings().upload_url_seconds)
    outcome = {"redriven": 0, "failed": 0}
    with session_scope() as session:
        stuck = list(
            session.scalars(
                select(Photo.id)
                .where(Photo.status.in_(("pending", "processing")), Photo.status_changed_at < bound)
                .order_by(Photo.status_changed_at)
                .limit(settings.batch_size)
            )
        )
    for photo_id in stuck:
        with session_scope() as session:
            photo = session.scalar(select(Photo).where(Photo.id == photo_id).with_for_update())
            if photo is None or photo.status not in ("pending", "processing"):
                continue  # finished meanwhile
            if photo.status_changed_at >= bound:
                continue
            key = storage.original_key(photo.user_id, photo.id)
            content_type = _original_content_type(key)
            if content_type is None:
                if photo.status == "pending" and photo.created_at >= upload_expired:
                    continue  # its upload URL is still valid
                reason = "upload-missing" if photo.status == "pending" else "original-missing"
            elif photo.redrives >= settings.max_redrives:
                reason = "analysis-stuck"
            else:
                reason = None
                photo.redrives += 1
                photo.status_changed_at = now
                redrive = photo.redrives
            if reason is not None:
                photo.move_to("failed", reason)
                outcome["failed"] += 1
                logger.warning("stuck photo failed", extra={"photo_id": photo_id, "reason": reason})
                continue
        assert content_type is not None
        _redrive_original(key, content_type, redrive)
        outcome["redriven"] += 1
        logger.info("stuck photo re-driven", extra={"photo_id": photo_id, "redrive": redrive})
    return outcome


def reconcile_views(settings: RecoverySettings) -> dict[str, int]:
    now = utcnow()
    bound = now - timedelta(seconds=settings.render_stuck_after_seconds)
    outcome = {"redriven": 0, "failed": 0}
    with session_scope() as session:
        stuck = list(
            session.scalars(
                select(AnonymisedView.object_key)
                .where(
                    AnonymisedView.status == "rendering", AnonymisedView.status_changed_at < bound
                )
                .order_by(AnonymisedView.status_changed_at)
                .limit(settings.batch_size)
            )
        )
    for object_key in stuck:
        with session_scope() as session:
            view = session.scalar(
                select(AnonymisedView)
                .where(AnonymisedView.object_key == object_key)
                .with_for_update()
            )
            if view is None or view.status != "rendering" or view.status_changed_at >= bound:
                continue
            if storage.exists(view.object_key):
                session.delete(view)  # rendered; only the row was left behind
                continue
            if not storage.exists(storage.original_key(view.user_id, view.photo_id)):
                reason: str | None = "original-missing"
            elif view.redrives >= settings.max_redrives:
                reason = "render-stuck"
            else:
                reason = None
                view.redrives += 1
                view.status_changed_at = now
            if reason is not None:
                view.status, view.failure_reason, view.status_changed_at = "failed", reason, now
                outcome["failed"] += 1
                logger.warning(
                    "stuck view failed", extra={"photo_id": view.photo_id, "reason": reason}
                )
                continue
            request = events.AnonymisedViewRequested(
                user_id=view.user_id,
                photo_id=view.photo_id,
                keep_person_ids=list(view.keep_person_ids),
                style=view.style,
                object_key=view.object_key,
            )
        events.publish(request)
        outcome["redriven"] += 1
    return outcome


def run(_: NoPayload) -> dict[str, dict[str, int]]:
    settings = get_recovery_settings()
    result = {"photos": reconcile_photos(settings), "views": reconcile_views(settings)}
    for kind, outcome in result.items():
        for what, count in outcome.items():
            metrics.add_metric(
                name=f"Reconciled{kind.title()}{what.title()}", unit=MetricUnit.Count, value=count
            )
    logger.info("reconciled", extra=result)
    return result


handler = scheduled_handler(run, NoPayload)
