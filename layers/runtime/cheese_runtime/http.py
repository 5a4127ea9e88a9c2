"""FastAPI apps behind API Gateway: app factory, auth dependency, Lambda handler.

Each API function builds its app with :func:`create_app` and exposes
``handler = lambda_handler(app)``; Lambda, the local stack and the tests all
invoke that handler with API Gateway HTTP API (v2) events.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated, Any

from aws_lambda_powertools.logging import correlation_paths
from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.typing import LambdaContext
from fastapi import Depends, FastAPI, Header
from mangum import Mangum

from cheese_runtime.auth.verify import InvalidToken, Principal, bearer_token, get_verifier
from cheese_runtime.errors import Problem, Unauthorized, install_problem_handlers
from cheese_runtime.observability import logger, metrics, tracer


def create_app(title: str, description: str = "") -> FastAPI:
    """A FastAPI app with problem+json errors.

    Routes and dependencies may be ``async def`` even when they block: a
    Lambda invocation serves one request on its own event loop, and running
    sync code inline saves the thread-pool hand-off FastAPI makes for
    ``def`` routes (half of a warm request's time under Mangum).
    """
    app = FastAPI(
        title=title, description=description, version="1.0.0", docs_url=None, redoc_url=None
    )
    install_problem_handlers(app)
    return app


async def _principal(
    authorization: Annotated[str | None, Header(include_in_schema=False)] = None,
) -> Principal:
    try:
        principal = get_verifier().verify(bearer_token(authorization))
    except InvalidToken as exc:
        metrics.add_metric(name="RejectedTokens", unit=MetricUnit.Count, value=1)
        raise Unauthorized(
            exc.reason, slug="token-expired" if exc.expired else "invalid-token"
        ) from exc
    logger.append_keys(user_id=principal.user_id)
    return principal


CurrentPrincipal = Annotated[Principal, Depends(_principal)]


async def _admin(principal: CurrentPrincipal) -> Principal:
    if not principal.is_admin:
        raise Problem(403, "admin-required", "Forbidden", "This operation needs the admin role.")
    return principal


AdminPrincipal = Annotated[Principal, Depends(_admin)]


def lambda_handler(app: FastAPI) -> Callable[[dict[str, Any], LambdaContext], dict[str, Any]]:
    """Wrap an app in Mangum with Powertools logging, tracing and metrics."""
    asgi = Mangum(app, lifespan="off", api_gateway_base_path="/")

    @logger.inject_lambda_context(
        correlation_id_path=correlation_paths.API_GATEWAY_HTTP, clear_state=True
    )
    @tracer.capture_lambda_handler(capture_response=False)
    @metrics.log_metrics
    def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
        return asgi(event, context)

    return handler
