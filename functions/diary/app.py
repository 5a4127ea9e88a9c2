"""Routes of the video diary: diaries, calendar, search, channels, invitations, comments."""

from __future__ import annotations

from datetime import date
from typing import Annotated

from fastapi import Query, Response

from cheese_runtime import resources
from cheese_runtime.errors import PROBLEM_CONTENT_TYPE, ProblemMap
from cheese_runtime.http import CurrentPrincipal, create_app, declared_routes
from cheese_runtime.inputs import Text
from functions.diary import service, sharing
from functions.diary.errors import (
    ChannelOwnerOnly,
    InvitationAnswered,
    NotCommentAuthor,
    OwnerCannotLeave,
    TooManyInvitations,
    VideoTooLarge,
)
from functions.diary.schemas import (
    CalendarOut,
    ChannelIn,
    ChannelOut,
    ChannelPage,
    CommentIn,
    CommentOut,
    CommentPage,
    CommentPatch,
    DiaryCreated,
    DiaryIn,
    DiaryOut,
    DiaryPage,
    DiaryPatch,
    InvitationAnswer,
    InvitationIn,
    InvitationPage,
    InvitationSent,
    ShareIn,
    ShareOut,
)

# Every refusal of the diary service, as the HTTP status the client gets
# (DiaryNotFound, ChannelNotFound, ... are ResourceNotFound: 404, COMMON_ERRORS).
ERRORS: ProblemMap = {
    VideoTooLarge: 413,
    ChannelOwnerOnly: 403,
    NotCommentAuthor: 403,
    OwnerCannotLeave: 409,
    InvitationAnswered: 409,
    TooManyInvitations: 429,
}

app = create_app(
    "Cheese video diary",
    "Video diaries with their emotion timeline (emotion analysis needs your consent), "
    "transcript, key sentences and tags; a calendar; private channels with invited friends "
    "and comments.",
    errors=ERRORS,
)
route = declared_routes(app, resources.DIARY)

PROBLEMS = {
    code: {"description": text, "content": {PROBLEM_CONTENT_TYPE: {}}}
    for code, text in {
        400: "Bad request",
        401: "Not authenticated",
        403: "Not allowed to a member of this channel",
        404: "Not found (or not yours, or not a channel you are a member of)",
        409: "Conflict",
        413: "Too large",
        422: "Validation failed",
        429: "Too many invitations (see Retry-After)",
    }.items()
}
Limit = Annotated[int, Query(ge=1, le=100)]
Cursor = Annotated[str | None, Query(max_length=512)]


@route(
    "createDiary",
    status_code=201,
    response_model=DiaryCreated,
    responses=PROBLEMS,
    tags=["diaries"],
)
async def create_diary(body: DiaryIn, principal: CurrentPrincipal) -> DiaryCreated:
    return service.create_diary(principal.user_id, body)


@route("listDiaries", response_model=DiaryPage, responses=PROBLEMS, tags=["diaries"])
async def list_diaries(
    principal: CurrentPrincipal,
    recorded_from: Annotated[date | None, Query(alias="from")] = None,
    recorded_to: Annotated[date | None, Query(alias="to")] = None,
    tag: Annotated[Text | None, Query(min_length=1, max_length=64)] = None,
    q: Annotated[Text | None, Query(min_length=1, max_length=200)] = None,
    cursor: Cursor = None,
    limit: Limit = 30,
) -> DiaryPage:
    return service.list_diaries(
        principal.user_id,
        recorded_from=recorded_from,
        recorded_to=recorded_to,
        tag=tag,
        q=q,
        cursor=cursor,
        limit=limit,
    )


@route("getDiaryCalendar", response_model=CalendarOut, responses=PROBLEMS, tags=["diaries"])
async def get_calendar(
    principal: CurrentPrincipal, year: Annotated[int, Query(ge=1900, le=9999)]
) -> CalendarOut:
    return service.calendar(principal.user_id, year)


@route("getDiary", response_model=DiaryOut, responses=PROBLEMS, tags=["diaries"])
async def get_diary(diary_id: str, principal: CurrentPrincipal) -> DiaryOut:
    return service.get_diary(principal.user_id, diary_id)


@route("updateDiary", response_model=DiaryOut, responses=PROBLEMS, tags=["diaries"])
async def update_diary(diary_id: str, body: DiaryPatch, principal: CurrentPrincipal) -> DiaryOut:
    return service.update_diary(principal.user_id, diary_id, body)


@route("deleteDiary", status_code=204, responses=PROBLEMS, tags=["diaries"])
async def delete_diary(diary_id: str, principal: CurrentPrincipal) -> Response:
    service.delete_diary(principal.user_id, diary_id)
    return Response(status_code=204)


@route("listDiaryComments", response_model=CommentPage, responses=PROBLEMS, tags=["comments"])
async def list_comments(
    diary_id: str, principal: CurrentPrincipal, cursor: Cursor = None, limit: Limit = 50
) -> CommentPage:
    return sharing.list_comments(principal.user_id, diary_id, cursor, limit)


@route(
    "createDiaryComment",
    status_code=201,
    response_model=CommentOut,
    responses=PROBLEMS,
    tags=["comments"],
)
async def create_comment(diary_id: str, body: CommentIn, principal: CurrentPrincipal) -> CommentOut:
    return sharing.create_comment(principal.user_id, diary_id, body.body, body.channel_id)


@route("updateComment", response_model=CommentOut, responses=PROBLEMS, tags=["comments"])
async def update_comment(
    comment_id: str, body: CommentPatch, principal: CurrentPrincipal
) -> CommentOut:
    return sharing.update_comment(principal.user_id, comment_id, body.body)


@route("deleteComment", status_code=204, responses=PROBLEMS, tags=["comments"])
async def delete_comment(comment_id: str, principal: CurrentPrincipal) -> Response:
    sharing.delete_comment(principal.user_id, comment_id)
    return Response(status_code=204)


@route(
    "createChannel",
    status_code=201,
    response_model=ChannelOut,
    responses=PROBLEMS,
    tags=["channels"],
)
async def create_channel(body: ChannelIn, principal: CurrentPrincipal) -> ChannelOut:
    return sharing.create_channel(principal.user_id, body.name)


@route("listChannels", response_model=ChannelPage, responses=PROBLEMS, tags=["channels"])
async def list_channels(
    principal: CurrentPrincipal, cursor: Cursor = None, limit: Limit = 30
) -> ChannelPage:
    return sharing.list_channels(principal.user_id, cursor, limit)


@route("getChannel", response_model=ChannelOut, responses=PROBLEMS, tags=["channels"])
async def get_channel(channel_id: str, principal: CurrentPrincipal) -> ChannelOut:
    return sharing.get_channel(principal.user_id, channel_id)


@route(
    "inviteToChannel",
    status_code=202,
    response_model=InvitationSent,
    responses=PROBLEMS,
    tags=["channels"],
)
async def invite(
    channel_id: str, body: InvitationIn, principal: CurrentPrincipal
) -> InvitationSent:
    return sharing.invite(principal.user_id, channel_id, str(body.email))


@route("leaveChannel", status_code=204, responses=PROBLEMS, tags=["channels"])
async def leave_channel(channel_id: str, principal: CurrentPrincipal) -> Response:
    sharing.leave(principal.user_id, channel_id)
    return Response(status_code=204)


@route("removeChannelMember", status_code=204, responses=PROBLEMS, tags=["channels"])
async def remove_member(channel_id: str, member_id: str, principal: CurrentPrincipal) -> Response:
    sharing.remove_member(principal.user_id, channel_id, member_id)
    return Response(status_code=204)


@route(
    "shareDiary", status_code=201, response_model=ShareOut, responses=PROBLEMS, tags=["channels"]
)
async def share_diary(channel_id: str, body: ShareIn, principal: CurrentPrincipal) -> ShareOut:
    return sharing.share_diary(principal.user_id, channel_id, body.diary_id)


@route("listChannelDiaries", response_model=DiaryPage, responses=PROBLEMS, tags=["channels"])
async def list_channel_diaries(
    channel_id: str, principal: CurrentPrincipal, cursor: Cursor = None, limit: Limit = 30
) -> DiaryPage:
    return sharing.channel_diaries(principal.user_id, channel_id, cursor, limit)


@route("unshareDiary", status_code=204, responses=PROBLEMS, tags=["channels"])
async def unshare_diary(channel_id: str, diary_id: str, principal: CurrentPrincipal) -> Response:
    sharing.unshare_diary(principal.user_id, channel_id, diary_id)
    return Response(status_code=204)


@route("listMyInvitations", response_model=InvitationPage, responses=PROBLEMS, tags=["channels"])
async def my_invitations(
    principal: CurrentPrincipal, cursor: Cursor = None, limit: Limit = 30
) -> InvitationPage:
    return sharing.my_invitations(principal.user_id, cursor, limit)


@route("acceptInvitation", response_model=InvitationAnswer, responses=PROBLEMS, tags=["channels"])
async def accept(invitation_id: str, principal: CurrentPrincipal) -> InvitationAnswer:
    return sharing.answer_invitation(principal.user_id, invitation_id, accept=True)


@route("declineInvitation", response_model=InvitationAnswer, responses=PROBLEMS, tags=["channels"])
async def decline(invitation_id: str, principal: CurrentPrincipal) -> InvitationAnswer:
    return sharing.answer_invitation(principal.user_id, invitation_id, accept=False)
