"""RFC 9457 problem details: one exception type and the FastAPI handlers for it.

Every error a client can cause is answered with ``application/problem+json``
and a stable ``type`` URI the Android app can switch on.
"""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from cheese_runtime.observability import logger

PROBLEM_BASE = "https://cheese.dev/problems/"
PROBLEM_CONTENT_TYPE = "application/problem+json"

_HTTP_TITLES = {
    400: ("bad-request", "Bad request"),
    401: ("unauthorized", "Authentication required"),
    403: ("forbidden", "Forbidden"),
    404: ("not-found", "Not found"),
    405: ("method-not-allowed", "Method not allowed"),
    409: ("conflict", "Conflict"),
    413: ("payload-too-large", "Payload too large"),
    415: ("unsupported-media-type", "Unsupported media type"),
    422: ("validation-error", "Request validation failed"),
    429: ("too-many-requests", "Too many requests"),
}


class Problem(Exception):
    """An error meant for the client. ``slug`` becomes the stable problem type."""

    def __init__(
        self,
        status: int,
        slug: str,
        title: str,
        detail: str | None = None,
        *,
        headers: dict[str, str] | None = None,
        **extensions: Any,
    ) -> None:
        super().__init__(detail or title)
        self.status = status
        self.slug = slug
        self.title = title
        self.detail = detail
        self.headers = headers or {}
        self.extensions = extensions

    def body(self, instance: str | None = None) -> dict[str, Any]:
        body: dict[str, Any] = {
            "type": PROBLEM_BASE + self.slug,
            "title": self.title,
            "status": self.status,
        }
        if self.detail:
            body["detail"] = self.detail
        if instance:
            body["instance"] = instance
        body.update(self.extensions)
        return body


class ClientError(Exception):
    """A service's error that the client caused; every app answers it with ``to_problem()``.

    Services raise these (not HTTP problems) and stay usable outside HTTP.
    """

    def to_problem(self) -> Problem:
        raise NotImplementedError


class NotFound(Problem):
    def __init__(self, what: str = "resource") -> None:
        super().__init__(404, "not-found", "Not found", f"No such {what}.")


class Unauthorized(Problem):
    def __init__(
        self, detail: str = "A valid bearer token is required.", slug: str = "unauthorized"
    ) -> None:
        super().__init__(
            401, slug, "Authentication required", detail, headers={"WWW-Authenticate": "Bearer"}
        )


class Forbidden(Problem):
    def __init__(self, detail: str = "You may not do this.") -> None:
        super().__init__(403, "forbidden", "Forbidden", detail)


class Conflict(Problem):
    def __init__(self, slug: str, detail: str) -> None:
        super().__init__(409, slug, "Conflict", detail)


def problem_response(problem: Problem, instance: str | None = None) -> JSONResponse:
    return JSONResponse(
        problem.body(instance),
        status_code=problem.status,
        headers=problem.headers,
        media_type=PROBLEM_CONTENT_TYPE,
    )


def install_problem_handlers(app: FastAPI) -> None:
    @app.exception_handler(Problem)
    async def _problem(request: Request, exc: Problem) -> JSONResponse:
        return problem_response(exc, request.url.path)

    @app.exception_handler(ClientError)
    async def _client_error(request: Request, exc: ClientError) -> JSONResponse:
        return problem_response(exc.to_problem(), request.url.path)

    @app.exception_handler(RequestValidationError)
    async def _validation(request: Request, exc: RequestValidationError) -> JSONResponse:
        errors = [
            {
                "loc": [str(part) for part in err.get("loc", ())],
                "msg": err.get("msg", ""),
                "type": err.get("type", ""),
            }
            for err in exc.errors()
        ]
        problem = Problem(
            422,
            "validation-error",
            "Request validation failed",
            "The request body or parameters are invalid.",
            errors=errors,
        )
        return problem_response(problem, request.url.path)

    @app.exception_handler(StarletteHTTPException)
    async def _http(request: Request, exc: StarletteHTTPException) -> JSONResponse:
        slug, title = _HTTP_TITLES.get(exc.status_code, ("http-error", "HTTP error"))
        detail = exc.detail if isinstance(exc.detail, str) and exc.detail != title else None
        problem = Problem(exc.status_code, slug, title, detail, headers=dict(exc.headers or {}))
        return problem_response(problem, request.url.path)

    @app.exception_handler(Exception)
    async def _unexpected(request: Request, exc: Exception) -> JSONResponse:
        logger.exception("unhandled error", extra={"path": request.url.path})
        problem = Problem(
            500, "internal-error", "Internal server error", "Something went wrong on our side."
        )
        return problem_response(problem, request.url.path)
