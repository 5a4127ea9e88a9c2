"""FastAPI apps behind API Gateway: app factory, declared routes, auth dependency, Lambda handler.

Each API function builds its app with :func:`create_app`, registers every
handler through :func:`declared_routes` and exposes
``handler = lambda_handler(app)``; Lambda, the local stack and the tests all
invoke that handler with API Gateway HTTP API (v2) events::

    app = create_app("Cheese photos", "Photos, their faces, and the people in them.")
    route = declared_routes(app, resources.PHOTOS)

    @route("getPhoto", response_model=PhotoOut, responses=PROBLEMS, tags=["photos"])
    async def get_photo(photo_id: PhotoId, principal: CurrentPrincipal) -> PhotoOut: ...

The method, path and authorization come from the function's declaration in
``cheese_runtime.resources`` (what API Gateway is deployed with), so an app
cannot serve a route that is not deployed, nor under another path.

A declared route is built (FastAPI's ``APIRoute``: its dependency tree, a
pydantic field per parameter, its response model's validator) when a request
first reaches its path, not at import: a function declares up to 24 routes,
building one costs 1–5 ms, and a Lambda's cold start serves one of them.
:func:`built_routes` builds them all (the OpenAPI document and the route
tests need every one).
"""

from __future__ import annotations

import threading
import warnings
from collections.abc import Callable, Iterator
from typing import Annotated, Any

from aws_lambda_powertools.logging import correlation_paths
from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.typing import LambdaContext
from fastapi import Depends, FastAPI, Header
from fastapi.dependencies.models import Dependant
from fastapi.routing import APIRoute
from mangum import Mangum
from pydantic.warnings import UnsupportedFieldAttributeWarning
from starlette._utils import get_route_path
from starlette.routing import BaseRoute, Match, compile_path
from starlette.types import Receive, Scope, Send

from cheese_runtime import resources
from cheese_runtime.auth.verify import InvalidToken, Principal, bearer_token, get_verifier
from cheese_runtime.errors import Problem, ProblemMap, Unauthorized, install_problem_handlers
from cheese_runtime.handlers import observed
from cheese_runtime.inputs import reject_control_characters
from cheese_runtime.observability import logger, metrics
from cheese_runtime.parameters import ParameterUnavailable
from cheese_runtime.settings import Settings, get_settings


def create_app(title: str, description: str = "", errors: ProblemMap | None = None) -> FastAPI:
    """A FastAPI app with problem+json errors; ``errors`` maps the function's domain errors.

    Every route obeys the input policy (``cheese_runtime.inputs``): no control
    character in any path or query value.

    Routes and dependencies may be ``async def`` even when they block: a
    Lambda invocation serves one request on its own event loop, and running
    sync code inline saves the thread-pool hand-off FastAPI makes for
    ``def`` routes (half of a warm request's time under Mangum).
    """
    app = FastAPI(
        title=title,
        description=description,
        version="1.0.0",
        docs_url=None,
        redoc_url=None,
        dependencies=[Depends(reject_control_characters)],
        # A trailing slash is a 404 problem, not a 307 to a URL the app cannot know
        # (behind API Gateway, its scheme and host are the gateway's).
        redirect_slashes=False,
    )
    install_problem_handlers(app, errors)
    _publish_bearer_scheme(app)
    return app


BEARER_SCHEME = {"type": "http", "scheme": "bearer", "bearerFormat": "JWT"}


def _publish_bearer_scheme(app: FastAPI) -> None:
    """Name the ``bearer`` security scheme that authorized operations refer to."""
    generate = app.openapi

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            built_routes(app)
            schema = generate()
            schema.setdefault("components", {}).setdefault("securitySchemes", {})["bearer"] = (
                BEARER_SCHEME
            )
        return app.openapi_schema  # type: ignore[return-value]

    app.openapi = openapi  # type: ignore[method-assign]


async def current_settings() -> Settings:
    """The shared settings, as a dependency of routes and of their services' dependencies.

    ``async`` like every dependency here: FastAPI hands a sync dependency to a
    worker thread, a cost on every request (see :func:`create_app`).
    """
    return get_settings()


CurrentSettings = Annotated[Settings, Depends(current_settings)]


async def _principal(
    authorization: Annotated[str | None, Header(include_in_schema=False)] = None,
) -> Principal:
    try:
        principal = get_verifier().verify(bearer_token(authorization))
    except InvalidToken as exc:
        metrics.add_metric(name="RejectedTokens", unit=MetricUnit.Count, value=1)
        slug = "token-expired" if exc.expired else "session-revoked" if exc.revoked else None
        raise Unauthorized(exc.reason, slug=slug or "invalid-token") from exc
    except ParameterUnavailable as exc:
        # The public keys could not be read (extension or SSM down): not the client's fault.
        logger.exception("the JWKS could not be read")
        raise Problem(
            503,
            "keys-unavailable",
            "Service unavailable",
            "The token could not be checked just now; try again shortly.",
            headers={"Retry-After": "5"},
        ) from exc
    logger.thread_safe_append_keys(user_id=principal.user_id)
    return principal


CurrentPrincipal = Annotated[Principal, Depends(_principal)]


async def _admin(principal: CurrentPrincipal) -> Principal:
    if not principal.is_admin:
        raise Problem(403, "admin-required", "Forbidden", "This operation needs the admin role.")
    return principal


AdminPrincipal = Annotated[Principal, Depends(_admin)]

Endpoint = Callable[..., Any]


def declared_routes(
    app: FastAPI, function: resources.ApiFunction
) -> Callable[..., Callable[[Endpoint], Endpoint]]:
    """A decorator factory registering ``app``'s handlers for ``function``'s declared routes.

    ``route(operation_id, **options)`` registers the decorated handler under
    the declared method and path, with that operationId; ``options`` are
    FastAPI's (``response_model``, ``status_code``, ``responses``, ``tags``...).
    An authorized route checks the bearer token before anything else (so an
    anonymous request is a 401 whatever else is wrong with it) and carries the
    bearer ``security`` in the OpenAPI document. Registration fails, at import,
    for an undeclared or already registered operation; building the route fails
    for a handler whose path parameters are not the route's variables and for a
    public route whose handler asks for the principal (``tests/runtime/test_routes.py``
    builds every app's routes).
    """
    registered: set[str] = set()

    def route(operation_id: str, **options: Any) -> Callable[[Endpoint], Endpoint]:
        declared = function.route(operation_id)
        if operation_id in registered:
            raise LookupError(f"{operation_id!r} is registered twice")
        registered.add(operation_id)

        def register(endpoint: Endpoint) -> Endpoint:
            if declared.authorized:
                options["dependencies"] = [Depends(_principal), *options.get("dependencies", ())]
                options["openapi_extra"] = {"security": [{"bearer": []}]} | options.get(
                    "openapi_extra", {}
                )

            def build() -> None:
                app.add_api_route(
                    declared.path,
                    endpoint,
                    methods=[declared.method],
                    operation_id=operation_id,
                    **options,
                )

            app.router.routes.append(DeclaredRoute(app, declared, build))
            return endpoint

        return register

    return route


# FastAPI wraps a request body's model in a field aliased "body"; when the model's
# schema was deferred (cheese_runtime.coldstart), pydantic builds it inside that field's
# adapter and warns that the alias has no effect there. It has none either way (FastAPI
# names the body in errors itself): the OpenAPI document and every 422 are the same.
warnings.filterwarnings(
    "ignore",
    message="The 'alias' attribute with value 'body' was provided",
    category=UnsupportedFieldAttributeWarning,
)

_BUILDING = threading.Lock()  # the local stack may serve an app from several threads


class DeclaredRoute(BaseRoute):
    """A declared route in its app's route list, built into its ``APIRoute`` on first use.

    It keeps its place in the list (Starlette tries routes in order), answers
    no match without building for a path that is not its own, and replaces
    itself with the built route, so that later requests never see it.
    """

    def __init__(self, app: FastAPI, declared: resources.Route, build: Callable[[], None]) -> None:
        self.declared = declared
        self.path = declared.path
        self.path_regex, self.path_format, _ = compile_path(declared.path)
        self._app = app
        self._build = build
        self._route: APIRoute | None = None

    def built(self) -> APIRoute:
        with _BUILDING:
            if self._route is None:
                routes = self._app.router.routes
                self._build()
                route = routes.pop()
                assert isinstance(route, APIRoute)
                _check_handler(route, self.declared)
                routes[routes.index(self)] = route
                self._route = route
        return self._route

    def matches(self, scope: Scope) -> tuple[Match, Scope]:
        if scope["type"] != "http" or not self.path_regex.match(get_route_path(scope)):
            return Match.NONE, {}
        return self.built().matches(scope)

    async def handle(self, scope: Scope, receive: Receive, send: Send) -> None:
        await self.built().handle(scope, receive, send)

    def url_path_for(self, name: str, /, **path_params: Any) -> Any:
        return self.built().url_path_for(name, **path_params)


def built_routes(app: FastAPI) -> list[BaseRoute]:
    """``app``'s routes with every declared route built."""
    for route in list(app.router.routes):
        if isinstance(route, DeclaredRoute):
            route.built()
    return app.router.routes


def _check_handler(api_route: APIRoute, declared: resources.Route) -> None:
    path_params = set(_path_params(api_route.dependant))
    if path_params != set(declared.variables):
        raise TypeError(
            f"{declared.operation_id}: the handler's path parameters {sorted(path_params)} "
            f"are not the variables of {declared.path}"
        )
    if not declared.authorized and _asks_for_principal(api_route.dependant):
        raise TypeError(f"{declared.operation_id} is public but its handler needs a principal")


def _path_params(dependant: Dependant) -> Iterator[str]:
    yield from (param.alias for param in dependant.path_params)
    for sub in dependant.dependencies:
        yield from _path_params(sub)


def _asks_for_principal(dependant: Dependant) -> bool:
    return any(sub.call is _principal or _asks_for_principal(sub) for sub in dependant.dependencies)


def lambda_handler(app: FastAPI) -> Callable[[dict[str, Any], LambdaContext], dict[str, Any]]:
    """Wrap an app in Mangum, observed as every handler is (``cheese_runtime.handlers``)."""
    asgi = Mangum(app, lifespan="off", api_gateway_base_path="/")

    def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
        # Mangum's LambdaContext protocol declares settable attributes; Powertools'
        # declares the same context's attributes as read-only properties.
        return asgi(event, context)  # type: ignore[arg-type]

    return observed(handler, correlation_id_path=correlation_paths.API_GATEWAY_HTTP)
