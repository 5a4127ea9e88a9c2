"""RFC 9457 problem details: domain errors, the problems they become, and the FastAPI handlers.

Every error a client can cause is answered with ``application/problem+json``
and a stable ``type`` URI the Android app can switch on.

Services never speak HTTP: they raise their function's own
:class:`DomainError` subclasses (``functions/<name>/errors.py``), which say
*what* went wrong (a stable ``slug``, a title, a detail for the user). Each
app says, in one :data:`ProblemMap` given to ``create_app``, which HTTP status
(and headers) each of them is; :func:`problem_for` builds the problem::

    ERRORS: ProblemMap = {PoolNotFound: 404, NotPoolOwner: 403, "capacity-too-large": 422}
    app = create_app("Cheese pools", errors=ERRORS)

``Problem`` itself is for the HTTP edge (token checks in ``cheese_runtime.http``,
request checks in a route) and for the handlers below.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, ClassVar

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


class Unauthorized(Problem):
    def __init__(
        self, detail: str = "A valid bearer token is required.", slug: str = "unauthorized"
    ) -> None:
        super().__init__(
            401, slug, "Authentication required", detail, headers={"WWW-Authenticate": "Bearer"}
        )


class DomainError(Exception):
    """A refusal of a service, in its function's words: no HTTP status here.

    ``slug`` is the stable problem type (``https://cheese.dev/problems/<slug>``),
    ``title`` its short summary, ``detail`` this occurrence's explanation for
    the user (the class default when not given); keyword ``extensions``
    become members of the problem; ``retry_after`` (seconds) says when trying
    again may succeed (the ``Retry-After`` header).
    """

    slug: str
    title: str
    default_detail: ClassVar[str | None] = None

    def __init__(
        self, detail: str | None = None, *, retry_after: int | None = None, **extensions: Any
    ) -> None:
        self.detail = detail or self.default_detail
        super().__init__(self.detail or self.title)
        self.retry_after = retry_after
        self.extensions = extensions


class InvalidCursor(DomainError):
    """A pagination cursor that this list did not hand out (shared by every function)."""

    slug = "invalid-cursor"
    title = "Invalid cursor"
    default_detail = "The pagination cursor is not valid."


class ResourceNotFound(DomainError):
    """Missing, or somebody else's: the two are never told apart (no probing of ids)."""

    slug = "not-found"
    title = "Not found"
    default_detail = "No such resource."


@dataclass(frozen=True)
class HttpStatus:
    """A status with the headers it needs, where a bare status code is not enough."""

    code: int
    headers: Mapping[str, str] = field(default_factory=dict)


# A 401 to a request that authenticates with a bearer token says how to (RFC 9110 §11.6.1).
BEARER_CHALLENGE = {"WWW-Authenticate": "Bearer"}

# Keys: a DomainError class (it and its subclasses) or a slug (for an error
# class with several slugs, such as the import engine's ImportRefused); a slug
# wins over a class.
ProblemMap = Mapping[type[DomainError] | str, int | HttpStatus]

# Errors of the runtime layer, the same in every app (``cheese_runtime.consent``
# raises "consent-required", ``cheese_runtime.accounts`` "account-gone"; by
# slug, as those modules import this one).
COMMON_ERRORS: ProblemMap = {
    InvalidCursor: 400,
    ResourceNotFound: 404,
    "consent-required": 409,
    "account-gone": HttpStatus(401, BEARER_CHALLENGE),
}


def problem_for(error: DomainError, errors: ProblemMap) -> Problem:
    """The problem a client gets for ``error``; LookupError if the app did not map it."""
    mapped = errors.get(error.slug) or next(
        (errors[cls] for cls in type(error).__mro__ if cls in errors), None
    )
    if mapped is None:
        raise LookupError(f"{type(error).__name__} ({error.slug}) has no HTTP status")
    status = mapped if isinstance(mapped, HttpStatus) else HttpStatus(mapped)
    headers = dict(status.headers)
    if error.retry_after is not None:
        headers["Retry-After"] = str(error.retry_after)
    return Problem(
        status.code, error.slug, error.title, error.detail, headers=headers, **error.extensions
    )


def problem_response(problem: Problem, instance: str | None = None) -> JSONResponse:
    return JSONResponse(
        problem.body(instance),
        status_code=problem.status,
        headers=problem.headers,
        media_type=PROBLEM_CONTENT_TYPE,
    )


def install_problem_handlers(app: FastAPI, errors: ProblemMap | None = None) -> None:
    """Answer every error with problem+json: ``errors`` maps the function's domain errors."""
    problems: ProblemMap = {**COMMON_ERRORS, **(errors or {})}

    @app.exception_handler(Problem)
    async def _problem(request: Request, exc: Problem) -> JSONResponse:
        return problem_response(exc, request.url.path)

    @app.exception_handler(DomainError)
    async def _domain(request: Request, exc: DomainError) -> JSONResponse:
        try:
            problem = problem_for(exc, problems)
        except LookupError:
            return await _unexpected(request, exc)
        return problem_response(problem, request.url.path)

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
        if errors and all(err["type"] == "path_id" for err in errors):
            # A path id not of the shape of ids (cheese_runtime.inputs.PathId) names no resource.
            return problem_response(problem_for(ResourceNotFound(), problems), request.url.path)
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
