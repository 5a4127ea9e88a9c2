"""Routes of the pool REST API (mounted by API Gateway under the same paths)."""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import Depends, Path, Query, status

from cheese_runtime import resources
from cheese_runtime.errors import PROBLEM_CONTENT_TYPE, ProblemMap
from cheese_runtime.http import CurrentPrincipal, CurrentSettings, create_app, declared_routes
from cheese_runtime.pagination import Page
from functions.pool.config import PoolSettings, get_pool_settings
from functions.pool.errors import CapacityTooLarge, NotInPool, NotPoolOwner
from functions.pool.schemas import (
    AvatarUpload,
    AvatarUploadRequest,
    FocusSession,
    InviteOut,
    InviteRequest,
    Leaderboard,
    LeaderboardPeriod,
    PoolCreate,
    PoolDetail,
    PoolOut,
)
from functions.pool.service import PoolService, service_for

# Every refusal of the pool service, as the HTTP status a client gets
# (PoolNotFound is a ResourceNotFound: 404 for every function).
ERRORS: ProblemMap = {NotPoolOwner: 403, CapacityTooLarge: 422, NotInPool: 409}

app = create_app(
    "Cheese pools",
    "Focus pools: rooms, presence snapshots, leaderboards, focus history, avatars. "
    "Live presence is on the WebSocket API (functions/pool/README.md).",
    errors=ERRORS,
)
route = declared_routes(app, resources.POOL)

PROBLEMS = {
    code: {"description": description, "content": {PROBLEM_CONTENT_TYPE: {}}}
    for code, description in {
        400: "Invalid cursor",
        401: "Not authenticated",
        403: "Not allowed",
        404: "No such pool (or not visible)",
        409: "Conflict",
        422: "Validation failed",
    }.items()
}
PoolId = Annotated[str, Path(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9_-]+$")]
Limit = Annotated[int, Query(ge=1, le=100)]
Cursor = Annotated[str | None, Query(max_length=512)]


async def current_pool_settings() -> PoolSettings:
    return get_pool_settings()


async def pool_service(
    settings: CurrentSettings,
    pool_settings: Annotated[PoolSettings, Depends(current_pool_settings)],
) -> PoolService:
    return service_for(settings, pool_settings)


Service = Annotated[PoolService, Depends(pool_service)]


# Routes are ``async def`` although they block (see ``cheese_runtime.http.create_app``): a
# Lambda serves one request at a time, and a sync route costs a worker thread per request.
@route("listPools", response_model=Page[PoolOut], responses=PROBLEMS, tags=["pools"])
async def list_pools(
    principal: CurrentPrincipal,
    service: Service,
    scope: Literal["public", "mine"] = "public",
    limit: Limit = 20,
    cursor: Cursor = None,
) -> Page[PoolOut]:
    """Public pools (newest first), or the pools I own or was invited to, with live member counts."""
    if scope == "mine":
        return service.list_mine(principal.user_id, limit, cursor)
    return service.list_public(limit, cursor)


@route(
    "createPool",
    status_code=status.HTTP_201_CREATED,
    response_model=PoolOut,
    responses=PROBLEMS,
    tags=["pools"],
)
async def create_pool(body: PoolCreate, principal: CurrentPrincipal, service: Service) -> PoolOut:
    return service.create(principal.user_id, body)


@route("getPool", response_model=PoolDetail, responses=PROBLEMS, tags=["pools"])
async def get_pool(pool_id: PoolId, principal: CurrentPrincipal, service: Service) -> PoolDetail:
    """Members, status, focus and avatar URLs, with the sequence number to re-sync the event stream."""
    return service.detail(principal.user_id, pool_id)


@route(
    "invitePoolMember",
    status_code=status.HTTP_201_CREATED,
    response_model=InviteOut,
    responses=PROBLEMS,
    tags=["pools"],
)
async def invite(
    pool_id: PoolId, body: InviteRequest, principal: CurrentPrincipal, service: Service
) -> InviteOut:
    """Let a user see and enter a private pool (owner only)."""
    return service.invite(principal.user_id, pool_id, body.user_id)


@route(
    "getPoolLeaderboard",
    response_model=Leaderboard,
    responses=PROBLEMS,
    tags=["pools"],
)
async def leaderboard(
    pool_id: PoolId,
    principal: CurrentPrincipal,
    service: Service,
    period: LeaderboardPeriod = "day",
) -> Leaderboard:
    """Focused minutes per member, from the heartbeats: today, or this ISO week (UTC)."""
    return service.leaderboard(principal.user_id, pool_id, period)


@route(
    "createPoolAvatarUpload",
    status_code=status.HTTP_201_CREATED,
    response_model=AvatarUpload,
    responses=PROBLEMS,
    tags=["pools"],
)
async def avatar_upload(
    pool_id: PoolId,
    principal: CurrentPrincipal,
    service: Service,
    body: AvatarUploadRequest | None = None,
) -> AvatarUpload:
    """A presigned S3 POST for my avatar thumbnail in this pool; its arrival broadcasts avatar_updated."""
    content_type = body.content_type if body else "image/jpeg"
    return service.avatar_upload(principal.user_id, pool_id, content_type)


@route("listMyFocus", response_model=Page[FocusSession], responses=PROBLEMS, tags=["pools"])
async def my_focus(
    principal: CurrentPrincipal, service: Service, limit: Limit = 20, cursor: Cursor = None
) -> Page[FocusSession]:
    """My focus sessions, newest first (the one in progress first)."""
    return service.my_focus(principal.user_id, limit, cursor)
