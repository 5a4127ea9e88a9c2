"""Routes of the video function: recorded videos and their anonymisations (issue 12)."""

from __future__ import annotations

from typing import Annotated

from fastapi import Path, Query, Response

from cheese_runtime import resources
from cheese_runtime.errors import PROBLEM_CONTENT_TYPE, HttpStatus, ProblemMap
from cheese_runtime.http import CurrentPrincipal, create_app, declared_routes
from functions.video import live, service
from functions.video.errors import (
    LiveStreamEnded,
    QueueUnavailable,
    SegmentNotUploaded,
    UnknownPeople,
    VideoNotUploaded,
)
from functions.video.schemas import (
    AnonymisationAccepted,
    AnonymisationIn,
    LiveSegmentIn,
    LiveSegmentOut,
    LiveSegmentUpload,
    LiveStreamCreated,
    LiveStreamIn,
    LiveStreamOut,
    VideoCreated,
    VideoIn,
    VideoOut,
    VideoPage,
)
from functions.video.storage import MAX_LIVE_SEGMENTS

# Every refusal of the video service, as the HTTP status the client gets
# (VideoNotFound is a ResourceNotFound: 404; ConsentRequired: 409, COMMON_ERRORS).
ERRORS: ProblemMap = {
    VideoNotUploaded: 409,
    SegmentNotUploaded: 409,
    LiveStreamEnded: 409,
    UnknownPeople: 422,
    QueueUnavailable: HttpStatus(503),
}

app = create_app(
    "Cheese videos",
    "Upload a video and get it back with every face hidden except the people you keep.",
    errors=ERRORS,
)
route = declared_routes(app, resources.VIDEO)

PROBLEMS = {
    code: {"description": text, "content": {PROBLEM_CONTENT_TYPE: {}}}
    for code, text in {
        400: "Bad request",
        401: "Not authenticated",
        404: "Not found (or not yours)",
        409: "Conflict (not uploaded, consent)",
        422: "Validation failed",
        503: "Try again",
    }.items()
}
Limit = Annotated[int, Query(ge=1, le=100)]
Cursor = Annotated[str | None, Query(max_length=512)]
POLL_AFTER_SECONDS = "2"


@route(
    "createVideo", status_code=201, response_model=VideoCreated, responses=PROBLEMS, tags=["videos"]
)
async def create_video(body: VideoIn, principal: CurrentPrincipal) -> VideoCreated:
    return service.create_video(principal.user_id, body)


@route("listVideos", response_model=VideoPage, responses=PROBLEMS, tags=["videos"])
async def list_videos(
    principal: CurrentPrincipal, cursor: Cursor = None, limit: Limit = 30
) -> VideoPage:
    return service.list_videos(principal.user_id, cursor, limit)


@route("getVideo", response_model=VideoOut, responses=PROBLEMS, tags=["videos"])
async def get_video(video_id: str, principal: CurrentPrincipal, response: Response) -> VideoOut:
    video = service.get_video(principal.user_id, video_id)
    if any(a.status in ("queued", "processing") for a in video.anonymisations):
        response.headers["Retry-After"] = POLL_AFTER_SECONDS
    return video


@route("deleteVideo", status_code=204, responses=PROBLEMS, tags=["videos"])
async def delete_video(video_id: str, principal: CurrentPrincipal) -> Response:
    service.delete_video(principal.user_id, video_id)
    return Response(status_code=204)


@route(
    "createVideoAnonymisation",
    status_code=202,
    response_model=AnonymisationAccepted,
    responses=PROBLEMS,
    tags=["videos"],
)
async def create_anonymisation(
    video_id: str, body: AnonymisationIn, principal: CurrentPrincipal
) -> AnonymisationAccepted:
    return service.create_anonymisation(principal.user_id, video_id, body)


Sequence = Annotated[int, Path(ge=0, le=MAX_LIVE_SEGMENTS - 1)]
HLS_CONTENT_TYPE = "application/vnd.apple.mpegurl"


@route(
    "createLiveStream",
    status_code=201,
    response_model=LiveStreamCreated,
    responses=PROBLEMS,
    tags=["live"],
)
async def create_live_stream(body: LiveStreamIn, principal: CurrentPrincipal) -> LiveStreamCreated:
    return live.create_stream(principal.user_id, body)


@route("getLiveStream", response_model=LiveStreamOut, responses=PROBLEMS, tags=["live"])
async def get_live_stream(stream_id: str, principal: CurrentPrincipal) -> LiveStreamOut:
    return live.get_stream(principal.user_id, stream_id)


@route(
    "createLiveSegment",
    status_code=201,
    response_model=LiveSegmentUpload,
    responses=PROBLEMS,
    tags=["live"],
)
async def create_live_segment(
    stream_id: str, body: LiveSegmentIn, principal: CurrentPrincipal
) -> LiveSegmentUpload:
    return live.create_segment(principal.user_id, stream_id, body)


@route(
    "announceLiveSegment",
    status_code=202,
    response_model=LiveSegmentOut,
    responses=PROBLEMS,
    tags=["live"],
)
async def announce_live_segment(
    stream_id: str, sequence: Sequence, principal: CurrentPrincipal
) -> LiveSegmentOut:
    return live.announce_segment(principal.user_id, stream_id, sequence)


@route(
    "getLivePlaylist",
    responses={200: {"content": {HLS_CONTENT_TYPE: {}}}, **PROBLEMS},
    response_class=Response,
    tags=["live"],
)
async def get_live_playlist(stream_id: str, principal: CurrentPrincipal) -> Response:
    return Response(
        live.playlist(principal.user_id, stream_id),
        media_type=HLS_CONTENT_TYPE,
        headers={"Cache-Control": "no-store"},
    )


@route("endLiveStream", response_model=LiveStreamOut, responses=PROBLEMS, tags=["live"])
async def end_live_stream(stream_id: str, principal: CurrentPrincipal) -> LiveStreamOut:
    return live.end_stream(principal.user_id, stream_id)
