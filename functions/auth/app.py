"""Routes of the auth function (mounted by API Gateway under the same paths)."""

from __future__ import annotations

from functools import lru_cache
from typing import Annotated

from fastapi import Depends, Request, Response, status

from cheese_runtime import resources
from cheese_runtime.errors import BEARER_CHALLENGE, PROBLEM_CONTENT_TYPE, HttpStatus, ProblemMap
from cheese_runtime.http import CurrentPrincipal, CurrentSettings, create_app, declared_routes
from cheese_runtime.settings import Settings
from functions.auth.config import AuthSettings, get_auth_settings
from functions.auth.errors import (
    AccountExists,
    AccountGone,
    DeletionNotQueued,
    InvalidCredentials,
    InvalidRefreshToken,
    LogoutNotRecorded,
    RefreshTokenReused,
    TooManyAttempts,
    WeakPassword,
)
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

# Every refusal of the auth service, as the HTTP status a client gets.
ERRORS: ProblemMap = {
    WeakPassword: 422,
    AccountExists: 409,
    TooManyAttempts: 429,
    # Wrong email or password: the client asks the user again, no bearer challenge.
    InvalidCredentials: 401,
    InvalidRefreshToken: HttpStatus(401, BEARER_CHALLENGE),
    RefreshTokenReused: HttpStatus(401, BEARER_CHALLENGE),
    AccountGone: HttpStatus(401, BEARER_CHALLENGE),
    DeletionNotQueued: 503,
    LogoutNotRecorded: 503,
}

app = create_app("Cheese auth", "Accounts and tokens.", errors=ERRORS)
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


@lru_cache(maxsize=1)
def _service_for(settings: Settings, auth_settings: AuthSettings) -> AuthService:
    # Keyed on the (frozen, hashable) settings: reloaded settings build a new service.
    return AuthService(settings, auth_settings)


async def current_auth_settings() -> AuthSettings:
    return get_auth_settings()


async def auth_service(
    settings: CurrentSettings,
    auth_settings: Annotated[AuthSettings, Depends(current_auth_settings)],
) -> AuthService:
    return _service_for(settings, auth_settings)


Service = Annotated[AuthService, Depends(auth_service)]


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
async def signup(body: SignupRequest, service: Service) -> TokenResponse:
    return service.signup(body)


@route("logIn", response_model=TokenResponse, responses=PROBLEMS, tags=["auth"])
async def login(body: LoginRequest, request: Request, service: Service) -> TokenResponse:
    return service.login(body, client_ip(request))


@route("refreshTokens", response_model=TokenResponse, responses=PROBLEMS, tags=["auth"])
async def refresh(body: RefreshRequest, service: Service) -> TokenResponse:
    return service.refresh(body.refresh_token)


@route("logOut", status_code=status.HTTP_204_NO_CONTENT, responses=PROBLEMS, tags=["auth"])
async def logout(body: LogoutRequest, service: Service) -> Response:
    service.logout(body.refresh_token)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@route("getMe", response_model=UserOut, responses=PROBLEMS, tags=["auth"])
async def me(principal: CurrentPrincipal, service: Service) -> UserOut:
    return service.me(principal.user_id)


@route(
    "deleteMe",
    status_code=status.HTTP_202_ACCEPTED,
    response_model=DeletionAccepted,
    responses=PROBLEMS,
    tags=["auth"],
)
async def delete_me(principal: CurrentPrincipal, service: Service) -> DeletionAccepted:
    service.request_deletion(principal.user_id)
    return DeletionAccepted()


@route("getJwks", tags=["auth"])
async def jwks(response: Response) -> dict[str, list[dict[str, str]]]:
    response.headers["Cache-Control"] = "public, max-age=300"
    return load_key_set().jwks()
