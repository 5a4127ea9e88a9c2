"""Routes of the emoji-face function: templates, tasks, ranking, my pages, pool avatars."""

from __future__ import annotations

from typing import Annotated

from fastapi import File, Query, Response, UploadFile

from cheese_runtime import resources
from cheese_runtime.errors import PROBLEM_CONTENT_TYPE, HttpStatus, ProblemMap
from cheese_runtime.http import CurrentPrincipal, create_app, declared_routes
from functions.emotion import service
from functions.emotion.errors import (
    BuiltinTemplateReadOnly,
    EmotionConsentRequired,
    FrameNotJpeg,
    FrameTooLarge,
    FrameUnreadable,
    NotInPool,
    PhotoNotReady,
    TaskQueueUnavailable,
    TemplateNotReady,
)
from functions.emotion.schemas import (
    AvatarChoiceIn,
    AvatarChoiceOut,
    AvatarFrameOut,
    RankingOut,
    RankingPeriod,
    TaskAccepted,
    TaskIn,
    TaskOut,
    TaskPage,
    TemplateCreated,
    TemplateIn,
    TemplateOut,
    TemplatePage,
    TemplatePatch,
    TemplateSort,
)

# Every refusal of the emoji-face service, as the HTTP status the client gets.
ERRORS: ProblemMap = {
    # TemplateNotFound, TaskNotFound, PhotoNotFound are ResourceNotFound: 404 (COMMON_ERRORS).
    EmotionConsentRequired: 409,
    TemplateNotReady: 409,
    PhotoNotReady: 409,
    BuiltinTemplateReadOnly: 403,
    TaskQueueUnavailable: HttpStatus(503),
    NotInPool: 409,
    FrameTooLarge: 413,
    FrameNotJpeg: 415,
    FrameUnreadable: 422,
}

app = create_app(
    "Cheese emoji faces",
    "Emoji templates, emoji-face tasks on your photos, rankings, and pool avatars drawn from "
    "webcam frames. Emotion analysis needs your consent and is never used to judge anyone "
    "at work or school.",
    errors=ERRORS,
)
route = declared_routes(app, resources.EMOTION)


PROBLEMS = {
    code: {"description": text, "content": {PROBLEM_CONTENT_TYPE: {}}}
    for code, text in {
        400: "Bad request",
        401: "Not authenticated",
        403: "Built-in templates cannot be changed",
        404: "Not found (or not yours)",
        409: "Conflict (consent, readiness, membership)",
        413: "Too large",
        422: "Validation failed",
    }.items()
}
Limit = Annotated[int, Query(ge=1, le=100)]
Cursor = Annotated[str | None, Query(max_length=512)]
# Until a task is done the client polls; this is how long it should wait between polls.
POLL_AFTER_SECONDS = "1"


@route(
    "createEmojiTemplate",
    status_code=201,
    response_model=TemplateCreated,
    responses=PROBLEMS,
    tags=["emoji"],
)
async def create_template(body: TemplateIn, principal: CurrentPrincipal) -> TemplateCreated:
    return service.create_template(principal.user_id, body)


@route("listEmojiTemplates", response_model=TemplatePage, responses=PROBLEMS, tags=["emoji"])
async def list_templates(
    principal: CurrentPrincipal,
    sort: TemplateSort = "popular",
    cursor: Cursor = None,
    limit: Limit = 30,
) -> TemplatePage:
    return service.list_templates(principal.user_id, sort=sort, cursor=cursor, limit=limit)


@route("getEmojiTemplate", response_model=TemplateOut, responses=PROBLEMS, tags=["emoji"])
async def get_template(template_id: str, principal: CurrentPrincipal) -> TemplateOut:
    return service.get_template(principal.user_id, template_id)


@route("updateEmojiTemplate", response_model=TemplateOut, responses=PROBLEMS, tags=["emoji"])
async def update_template(
    template_id: str, body: TemplatePatch, principal: CurrentPrincipal
) -> TemplateOut:
    return service.update_template(principal.user_id, template_id, body)


@route("deleteEmojiTemplate", status_code=204, responses=PROBLEMS, tags=["emoji"])
async def delete_template(template_id: str, principal: CurrentPrincipal) -> Response:
    service.delete_template(principal.user_id, template_id)
    return Response(status_code=204)


@route(
    "createEmojiTask",
    status_code=202,
    response_model=TaskAccepted,
    responses=PROBLEMS,
    tags=["emoji"],
)
async def create_task(body: TaskIn, principal: CurrentPrincipal) -> TaskAccepted:
    return service.create_task(principal.user_id, body.photo_id, body.template_id)


@route("getEmojiTask", response_model=TaskOut, responses=PROBLEMS, tags=["emoji"])
async def get_task(task_id: str, principal: CurrentPrincipal, response: Response) -> TaskOut:
    task = service.get_task(principal.user_id, task_id)
    if task.status in ("queued", "processing"):
        response.headers["Retry-After"] = POLL_AFTER_SECONDS
    return task


@route("getEmojiRanking", response_model=RankingOut, responses=PROBLEMS, tags=["emoji"])
async def get_ranking(principal: CurrentPrincipal, period: RankingPeriod = "week") -> RankingOut:
    return service.ranking(period)


@route("listMyEmojiResults", response_model=TaskPage, responses=PROBLEMS, tags=["emoji"])
async def list_my_results(
    principal: CurrentPrincipal, cursor: Cursor = None, limit: Limit = 30
) -> TaskPage:
    return service.list_results(principal.user_id, cursor, limit)


@route("listMyEmojiTemplates", response_model=TemplatePage, responses=PROBLEMS, tags=["emoji"])
async def list_my_templates(
    principal: CurrentPrincipal, cursor: Cursor = None, limit: Limit = 30
) -> TemplatePage:
    return service.list_templates(
        principal.user_id, sort="new", cursor=cursor, limit=limit, only_mine=True
    )


@route("chooseMyAvatar", response_model=AvatarChoiceOut, responses=PROBLEMS, tags=["emoji"])
async def choose_avatar(body: AvatarChoiceIn, principal: CurrentPrincipal) -> AvatarChoiceOut:
    return service.choose_avatar(principal.user_id, body.template_id)


@route(
    "postPoolAvatarFrame",
    response_model=AvatarFrameOut,
    responses=PROBLEMS,
    tags=["emoji", "pools"],
)
async def post_avatar_frame(
    pool_id: str,
    principal: CurrentPrincipal,
    frame: Annotated[UploadFile, File(description="One JPEG webcam frame, at most 256 KB")],
) -> dict[str, object]:
    from functions.emotion import avatars

    return avatars.frame_arrived(
        principal.user_id, pool_id, frame.file.read(avatars.MAX_FRAME_BYTES + 1)
    ).model_dump()
