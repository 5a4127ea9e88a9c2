"""The task consumer (``EmojiTaskRequested`` → SQS → this handler, in the ML image).

For one task: the photo's original is analysed (expressions only: no identity
embedding is computed), each face's dominant expression picks the template's
emoji, pasted over the face (``cheese_ml.emoji``), and the result JPEG is
stored; the task turns ``done`` and the ranking counters move in the same
transaction, once. At least once: a task already done or failed is left
alone, so a duplicate message gives one result. A task that cannot be done
(photo unreadable or gone, template gone, consent withdrawn) ends ``failed``
with a reason and its message is reported failed on every delivery until SQS
moves it to the DLQ; any other error is retried, and on the last delivery the
task shows ``failed`` ("processing-error") before the message moves there.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from aws_lambda_powertools.metrics import MetricUnit

from cheese_ml.emoji import emoji_photo
from cheese_ml.images import ImageError, decode_image, encode_jpeg
from cheese_runtime import events, resources
from cheese_runtime.consumers import EventBridgeSqsRecord, sqs_batch_handler
from cheese_runtime.db.session import session_scope
from cheese_runtime.db.types import utcnow
from cheese_runtime.observability import logger, metrics, tracer
from functions.emotion import storage
from functions.emotion.dal import (
    OtherFunctions,
    RankingRepository,
    TaskRepository,
    TemplateRepository,
)
from functions.emotion.templates import drawable

MAX_RECEIVES = next(
    s.max_receive_count for s in resources.EVENT_SUBSCRIPTIONS if s.consumer == "emotion-tasks"
)
RESULT_JPEG_QUALITY = 90


class TaskFailed(Exception):
    """The task cannot be done; its status says why."""


@dataclass(frozen=True)
class Work:
    user_id: str
    photo_id: str
    template_id: str
    owner_id: str | None
    builtin_set: str | None
    template_name: str
    attribution: str | None


def _fail(task_id: str, reason: str) -> None:
    with session_scope() as session:
        task = TaskRepository(session).get_for_update(task_id)
        if task is not None and task.status not in ("done", "failed"):
            task.status, task.failure_reason, task.finished_at = "failed", reason, utcnow()
    metrics.add_metric(name="EmojiTasksFailed", unit=MetricUnit.Count, value=1)
    logger.warning("emoji task failed", extra={"task_id": task_id, "reason": reason})


def _start(task_id: str, user_id: str) -> Work | None:
    """Claim the task (queued → processing); None when there is nothing left to do."""
    with session_scope() as session:
        task = TaskRepository(session).get_for_update(task_id)
        if task is None or task.user_id != user_id:
            logger.info("emoji task gone", extra={"task_id": task_id})
            return None
        if task.status == "done":
            return None
        if task.status == "failed":
            raise TaskFailed(task.failure_reason or "failed")
        others = OtherFunctions(session)
        if not others.expression_consent(user_id):
            reason = "consent-withdrawn"
        elif others.photo_status(user_id, task.photo_id) is None:
            reason = "photo-deleted"
        else:
            reason = None
        template = TemplateRepository(session).get(task.template_id)
        if reason is None and (template is None or template.status != "ready"):
            reason = "template-deleted"
        if reason is not None:
            task.status, task.failure_reason, task.finished_at = "failed", reason, utcnow()
        else:
            assert template is not None
            task.status = "processing"
            work = Work(
                user_id,
                task.photo_id,
                template.id,
                template.owner_id,
                template.builtin_set,
                template.name,
                template.attribution,
            )
    if reason is not None:
        metrics.add_metric(name="EmojiTasksFailed", unit=MetricUnit.Count, value=1)
        raise TaskFailed(reason)
    return work


@tracer.capture_method(capture_response=False)
def run_task(task_id: str, user_id: str) -> None:
    work = _start(task_id, user_id)
    if work is None:
        return
    try:
        rgb = decode_image(storage.read(storage.original_key(user_id, work.photo_id)))
    except ImageError as error:
        _fail(task_id, f"image-{error.code}")
        raise TaskFailed(error.code) from error
    template = drawable(
        work.template_id, work.owner_id, work.builtin_set, work.template_name, work.attribution
    )
    result = emoji_photo(rgb, template)
    key = storage.result_key(user_id, task_id)
    storage.put(key, encode_jpeg(result.image, RESULT_JPEG_QUALITY), "image/jpeg")
    faces: list[dict[str, Any]] = [
        {
            "box": {"x": face.box.x, "y": face.box.y, "w": face.box.w, "h": face.box.h},
            "expression": {k: round(v, 4) for k, v in (face.expression or {}).items()},
            "dominant": placement.expression,
            "emoji": placement.expression,
        }
        for face, placement in zip(result.faces, result.placements, strict=True)
    ]
    with session_scope() as session:
        task = TaskRepository(session).get_for_update(task_id)
        if task is None or task.status in ("done", "failed"):
            return  # erased meanwhile, or a duplicate delivery finished first
        finished = utcnow()
        task.status, task.failure_reason, task.result_key = "done", None, key
        task.faces, task.finished_at = faces, finished
        TemplateRepository(session).count_use(work.template_id, finished.date())
        RankingRepository(session).count_expressions(
            finished.date(), [placement.expression for placement in result.placements]
        )
    metrics.add_metric(name="EmojiTasksDone", unit=MetricUnit.Count, value=1)
    metrics.add_metric(name="EmojiFacesCovered", unit=MetricUnit.Count, value=len(faces))


def handle_record(record: EventBridgeSqsRecord) -> None:
    # The lower-level factory, not event_consumer: the last delivery marks the task failed.
    request = events.EmojiTaskRequested.model_validate(record.body.detail)
    logger.thread_safe_append_keys(task_id=request.task_id)
    try:
        run_task(request.task_id, request.user_id)
    except TaskFailed:
        raise
    except Exception:
        if int(record.attributes.ApproximateReceiveCount) >= MAX_RECEIVES:
            _fail(request.task_id, "processing-error")
        raise


handler = sqs_batch_handler(handle_record, EventBridgeSqsRecord)
