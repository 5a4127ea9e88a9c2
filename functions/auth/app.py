"""Routes of the auth function (mounted by API Gateway under the same paths)."""

from __future__ import annotations

from functools import cache

from fastapi import Request, Response, status

from cheese_runtime import resources
from cheese_runtime.errors import PROBLEM_CONTENT_TYPE
from cheese_runtime.http import CurrentPrincipal, create_app, declared_routes
from cheese_runtime.settings import get_settings
from functions.auth.schemas import (
    DeletionAccepted,
    LoginRequest,
    LogoutRequest,
    RefreshRequest,
    SignupRequest,
    TokenResponse,
    UserOut,
)
from functions.auth.service import AuthService
from functions.auth.tokens import load_key_set

app = create_app("Cheese auth", "Accounts and tokens.")
route = declared_routes(app, resources.AUTH)

PROBLEMS = {
    code: {"description": description, "content": {PROBLEM_CONTENT_TYPE: {}}}
    for code, description in {
        401: "Not authenticated or credentials invalid",
        409: "Conflict",
        422: "Validation failed",
        429: "Too many attempts (see Retry-After)",
    }.items()
}


@cache
def service() -> AuthService:
    return AuthService(get_settings())


def client_ip(request: Request) -> str:
    event = request.scope.get("aws.event") or {}
    source_ip = event.get("requestContext", {}).get("http", {}).get("sourceIp")
    return source_ip or (request.client.host if request.client else "unknown")


@route(
    "signUp",
    status_code=status.HTTP_201_CREATED,
    response_model=TokenResponse,
    responses=PROBLEMS,
    tags=["auth"],
)
async def signup(body: SignupRequest) -> TokenResponse:
    return service().signup(body)


@route("logIn", response_model=TokenResponse, responses=PROBLEMS, tags=["auth"])
async def login(body: LoginRequest, request: Request) -> TokenResponse:
    return service().login(body, client_ip(request))


@route("refreshTokens", response_model=TokenResponse, responses=PROBLEMS, tags=["auth"])
async def refresh(body: RefreshRequest) -> TokenResponse:
    return service().refresh(body.refresh_token)


@route("logOut", status_code=status.HTTP_204_NO_CONTENT, responses=PROBLEMS, tags=["auth"])
async def logout(body: LogoutRequest) -> Response:
    service().logout(body.refresh_token)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@route("getMe", response_model=UserOut, responses=PROBLEMS, tags=["auth"])
async def me(principal: CurrentPrincipal) -> UserOut:
    return service().me(principal.user_id)


@route(
    "deleteMe",
    status_code=status.HTTP_202_ACCEPTED,
    response_model=DeletionAccepted,
    responses=PROBLEMS,
    tags=["auth"],
)
async def delete_me(principal: CurrentPrincipal) -> DeletionAccepted:
    service().request_deletion(principal.user_id)
    return DeletionAccepted()


@route("getJwks", tags=["auth"])
async def jwks(response: Response) -> dict:
    response.headers["Cache-Control"] = "public, max-age=300"
    return load_key_set().jwks()
