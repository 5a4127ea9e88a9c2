"""The emoji-face service: templates, tasks, rankings and my pages (plain functions).

Routes call these; they raise ``functions.emotion.errors`` exceptions, never HTTP ones.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Any

from cheese_runtime import events
from cheese_runtime.db.session import session_scope
from cheese_runtime.errors import InvalidCursor
from cheese_runtime.pagination import decode_cursor, encode_cursor
from functions.emotion import storage
from functions.emotion.dal import (
    AvatarChoiceRepository,
    OtherFunctions,
    RankingRepository,
    TaskRepository,
    TemplateRepository,
)
from functions.emotion.errors import (
    BuiltinTemplateReadOnly,
    EmotionConsentRequired,
    PhotoNotFound,
    PhotoNotReady,
    TaskNotFound,
    TaskQueueUnavailable,
    TemplateNotFound,
    TemplateNotReady,
)
from functions.emotion.models import EmojiTask, EmojiTemplate, EmojiTemplateImage
from functions.emotion.schemas import (
    AvatarChoiceOut,
    FaceBox,
    RankedExpression,
    RankedTemplate,
    RankingOut,
    TaskAccepted,
    TaskFace,
    TaskOut,
    TaskPage,
    TemplateCreated,
    TemplateImageOut,
    TemplateIn,
    TemplateOut,
    TemplatePage,
    TemplatePatch,
)

EXPRESSIONS = ("angry", "disgust", "fear", "happy", "sad", "surprise", "neutral")
RANKING_SIZE = 10


# --- templates ------------------------------------------------------------------


def _template_out(
    template: EmojiTemplate, images: list[EmojiTemplateImage], user_id: str, with_urls: bool
) -> TemplateOut:
    by_expression = {image.expression: image for image in images}
    image_views = []
    for expression in EXPRESSIONS:
        image = by_expression.get(expression)
        if template.builtin_set is not None:
            image_views.append(TemplateImageOut(expression=expression, status="ready"))  # type: ignore[arg-type]
            continue
        ready = image is not None and image.status == "ready"
        image_views.append(
            TemplateImageOut(
                expression=expression,  # type: ignore[arg-type]
                status=image.status if image is not None else "pending",  # type: ignore[arg-type]
                failure_reason=image.failure_reason if image is not None else None,
                url=storage.presigned_get(
                    storage.template_image_key(str(template.owner_id), template.id, expression)
                )
                if with_urls and ready
                else None,
            )
        )
    return TemplateOut(
        template_id=template.id,
        name=template.name,
        public=template.public,
        builtin=template.builtin_set is not None,
        mine=template.owner_id == user_id,
        status=template.status,  # type: ignore[arg-type]
        failure_reason=template.failure_reason,
        use_count=template.use_count,
        attribution=template.attribution,
        created_at=template.created_at,
        images=image_views,
    )


def create_template(user_id: str, body: TemplateIn) -> TemplateCreated:
    with session_scope() as session:
        template = EmojiTemplate(owner_id=user_id, name=body.name, public=body.public)
        session.add(template)
        session.flush()
        images = [EmojiTemplateImage(template_id=template.id, expression=e) for e in EXPRESSIONS]
        session.add_all(images)
        session.flush()
        out = _template_out(template, images, user_id, with_urls=False)
    uploads = [
        storage.presigned_image_upload(
            storage.template_image_key(user_id, out.template_id, expression), expression
        )
        for expression in EXPRESSIONS
    ]
    return TemplateCreated(**out.model_dump(), uploads=uploads)


def get_template(user_id: str, template_id: str) -> TemplateOut:
    with session_scope() as session:
        repo = TemplateRepository(session)
        template = repo.visible_to(user_id, template_id)
        if template is None:
            raise TemplateNotFound()
        return _template_out(template, repo.images([template.id])[template.id], user_id, True)


def _owned_template(repo: TemplateRepository, user_id: str, template_id: str) -> EmojiTemplate:
    template = repo.visible_to(user_id, template_id)
    if template is None or (template.owner_id != user_id and template.builtin_set is None):
        raise TemplateNotFound()
    if template.builtin_set is not None:
        raise BuiltinTemplateReadOnly()
    return template


def update_template(user_id: str, template_id: str, patch: TemplatePatch) -> TemplateOut:
    with session_scope() as session:
        repo = TemplateRepository(session)
        template = _owned_template(repo, user_id, template_id)
        if patch.name is not None:
            template.name = patch.name
        if patch.public is not None:
            template.public = patch.public
        session.flush()
        return _template_out(template, repo.images([template.id])[template.id], user_id, True)


def delete_template(user_id: str, template_id: str) -> None:
    """Delete a template and its images; tasks made with it keep their results."""
    with session_scope() as session:
        repo = TemplateRepository(session)
        template = _owned_template(repo, user_id, template_id)
        session.delete(template)
    storage.delete_prefix(storage.template_prefix(user_id, template_id))


def _cursor_position(cursor: str | None, sort: str) -> tuple[Any, str] | None:
    position = decode_cursor(cursor)
    if position is None:
        return None
    try:
        value = int(position["v"]) if sort == "popular" else datetime.fromisoformat(position["v"])
        return value, str(position["id"])
    except (KeyError, TypeError, ValueError) as exc:
        raise InvalidCursor() from exc


def list_templates(
    user_id: str, *, sort: str, cursor: str | None, limit: int, only_mine: bool = False
) -> TemplatePage:
    after = _cursor_position(cursor, sort)
    with session_scope() as session:
        repo = TemplateRepository(session)
        rows = repo.page(user_id, sort=sort, after=after, limit=limit + 1, only_mine=only_mine)
        page, more = rows[:limit], len(rows) > limit
        images = repo.images([t.id for t in page])
        items = [_template_out(t, images[t.id], user_id, with_urls=False) for t in page]
        next_cursor = None
        if more:
            last = page[-1]
            value = last.use_count if sort == "popular" else last.created_at.isoformat()
            next_cursor = encode_cursor({"v": value, "id": last.id})
    return TemplatePage(items=items, next_cursor=next_cursor)


# --- tasks ------------------------------------------------------------------------


def _not_ready(template: EmojiTemplate) -> TemplateNotReady:
    if template.status == "failed":
        return TemplateNotReady(
            f"This template failed its checks: {template.failure_reason}",
            template_status="failed",
        )
    return TemplateNotReady(template_status=template.status)


def create_task(user_id: str, photo_id: str, template_id: str) -> TaskAccepted:
    with session_scope() as session:
        others = OtherFunctions(session)
        if not others.expression_consent(user_id):
            raise EmotionConsentRequired()
        photo_status = others.photo_status(user_id, photo_id)
        if photo_status is None:
            raise PhotoNotFound()
        if photo_status in ("pending", "failed"):
            raise PhotoNotReady(photo_status=photo_status)
        template = TemplateRepository(session).visible_to(user_id, template_id)
        if template is None:
            raise TemplateNotFound()
        if template.status != "ready":
            raise _not_ready(template)
        task = EmojiTask(
            user_id=user_id,
            photo_id=photo_id,
            template_id=template.id,
            template_name=template.name,
        )
        session.add(task)
        session.flush()
        task_id = task.id
    try:
        events.publish(events.EmojiTaskRequested(task_id=task_id, user_id=user_id))
    except Exception as exc:
        with session_scope() as session:
            failed = TaskRepository(session).get_for_update(task_id)
            if failed is not None and failed.status == "queued":
                failed.status, failed.failure_reason = "failed", "queue-unavailable"
        raise TaskQueueUnavailable(retry_after=5) from exc
    return TaskAccepted(task_id=task_id)


def _task_out(task: EmojiTask) -> TaskOut:
    faces = [
        TaskFace(
            box=FaceBox(**face["box"]),
            expression=face["expression"],
            dominant=face["dominant"],
            emoji=face["emoji"],
        )
        for face in task.faces or []
    ]
    return TaskOut(
        task_id=task.id,
        status=task.status,  # type: ignore[arg-type]
        failure_reason=task.failure_reason,
        result_url=storage.presigned_get(task.result_key)
        if task.status == "done" and task.result_key
        else None,
        faces=faces,
        photo_id=task.photo_id,
        template_id=task.template_id,
        template_name=task.template_name,
        created_at=task.created_at,
        finished_at=task.finished_at,
    )


def get_task(user_id: str, task_id: str) -> TaskOut:
    with session_scope() as session:
        task = TaskRepository(session).owned(user_id, task_id)
        if task is None:
            raise TaskNotFound()
        return _task_out(task)


def list_results(user_id: str, cursor: str | None, limit: int) -> TaskPage:
    after = _cursor_position(cursor, "new")
    with session_scope() as session:
        rows = TaskRepository(session).page(user_id, after, limit + 1)
        page, more = rows[:limit], len(rows) > limit
        items = [_task_out(task) for task in page]
        next_cursor = (
            encode_cursor({"v": page[-1].created_at.isoformat(), "id": page[-1].id})
            if more
            else None
        )
    return TaskPage(items=items, next_cursor=next_cursor)


# --- ranking ----------------------------------------------------------------------


def period_start(period: str, today: date) -> date | None:
    """First UTC day of the period: today, this ISO week (from Monday), or None for all time."""
    if period == "day":
        return today
    if period == "week":
        return today - timedelta(days=today.weekday())
    return None


def ranking(period: str, today: date | None = None) -> RankingOut:
    since = period_start(period, today or datetime.now(UTC).date())
    with session_scope() as session:
        repo = RankingRepository(session)
        templates = [
            RankedTemplate(
                template_id=template.id,
                name=template.name,
                builtin=template.builtin_set is not None,
                uses=uses,
            )
            for template, uses in repo.top_templates(since, RANKING_SIZE)
        ]
        expressions = [
            RankedExpression(expression=expression, faces=faces)  # type: ignore[arg-type]
            for expression, faces in repo.expressions(since)
        ]
    return RankingOut(period=period, since=since, templates=templates, expressions=expressions)  # type: ignore[arg-type]


# --- avatars ----------------------------------------------------------------------


def choose_avatar(user_id: str, template_id: str) -> AvatarChoiceOut:
    with session_scope() as session:
        template = TemplateRepository(session).visible_to(user_id, template_id)
        if template is None:
            raise TemplateNotFound()
        if template.status != "ready":
            raise _not_ready(template)
        choice = AvatarChoiceRepository(session).choose(user_id, template.id)
        return AvatarChoiceOut(template_id=choice.template_id, chosen_at=choice.chosen_at)
