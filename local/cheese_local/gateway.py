"""An API Gateway stand-in: HTTP requests become HTTP API v2 events for the real handlers."""

from __future__ import annotations

import asyncio
import base64
import importlib
import threading
from collections.abc import Callable
from contextlib import AbstractContextManager, ExitStack
from typing import Any

import anyio
from fastapi.openapi.docs import get_swagger_ui_html
from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from cheese_local.events import http_api_event
from cheese_local.lambda_context import LocalLambdaContext
from cheese_runtime import resources
from cheese_runtime.errors import PROBLEM_BASE, PROBLEM_CONTENT_TYPE
from cheese_runtime.http import BEARER_SCHEME

# API Gateway's own payload limit.
MAX_PAYLOAD_BYTES = 10 * 1024 * 1024

_thread_state = threading.local()

InvocationObserver = Callable[[dict[str, Any], str], AbstractContextManager[object]]
_observers: list[InvocationObserver] = []


def observe_invocations(observer: InvocationObserver) -> None:
    """Enter ``observer(event, function_name)`` around every handler this process invokes.

    HTTP, WebSocket and worker invocations all go through ``invoke``; the pool
    benchmark uses this to attribute DynamoDB calls to the route that made them.
    """
    _observers.append(observer)


LambdaHandler = Callable[[dict[str, Any], Any], dict[str, Any]]


def invoke(handler: LambdaHandler, event: dict[str, Any], function_name: str) -> dict[str, Any]:
    """Call a Lambda handler in this thread, giving it the event loop Mangum expects."""
    if getattr(_thread_state, "loop", None) is None:
        _thread_state.loop = asyncio.new_event_loop()
        asyncio.set_event_loop(_thread_state.loop)
    with ExitStack() as observed:
        for observer in _observers:
            observed.enter_context(observer(event, function_name))
        return handler(event, LocalLambdaContext(function_name=function_name))


def _problem(status: int, slug: str, title: str, detail: str) -> JSONResponse:
    return JSONResponse(
        {"type": PROBLEM_BASE + slug, "title": title, "status": status, "detail": detail},
        status_code=status,
        media_type=PROBLEM_CONTENT_TYPE,
    )


class HttpGateway:
    def __init__(self) -> None:
        self._handlers: dict[str, LambdaHandler] = {}

    def handler(self, function: resources.ApiFunction) -> LambdaHandler:
        if function.name not in self._handlers:
            self._handlers[function.name] = importlib.import_module(function.module).handler
        return self._handlers[function.name]

    async def __call__(self, request: Request) -> Response:
        match = resources.match_route(request.method, request.url.path)
        if match is None:
            return _problem(404, "not-found", "Not found", "No route matches this method and path.")
        function, route, params = match
        declared = request.headers.get("content-length")
        if declared is not None and declared.isdigit() and int(declared) > MAX_PAYLOAD_BYTES:
            return _problem(
                413, "payload-too-large", "Payload too large", "Requests are limited to 10 MB."
            )
        body = b""
        async for chunk in request.stream():
            body += chunk
            if len(body) > MAX_PAYLOAD_BYTES:
                return _problem(
                    413, "payload-too-large", "Payload too large", "Requests are limited to 10 MB."
                )
        headers: dict[str, str] = {}
        for key, value in request.headers.items():
            headers[key] = f"{headers[key]},{value}" if key in headers else value
        event = http_api_event(
            request.method,
            request.url.path,
            route_key=f"{route.method} {route.path}",
            path_parameters=params,
            query_string=request.url.query,
            headers=headers,
            body=body,
            source_ip=request.client.host if request.client else "127.0.0.1",
            domain_name=request.headers.get("host", "127.0.0.1"),
        )
        result = await anyio.to_thread.run_sync(
            invoke, self.handler(function), event, function.name
        )
        return lambda_result_to_response(result)


def lambda_result_to_response(result: dict[str, Any]) -> Response:
    body = result.get("body") or ""
    content = base64.b64decode(body) if result.get("isBase64Encoded") else body.encode()
    response = Response(content=content, status_code=int(result.get("statusCode", 200)))
    for key, value in (result.get("headers") or {}).items():
        response.headers[key] = value
    for key, values in (result.get("multiValueHeaders") or {}).items():
        for value in values:
            response.headers.append(key, value)
    for cookie in result.get("cookies") or []:
        response.headers.append("set-cookie", cookie)
    return response


def merged_openapi() -> dict[str, Any]:
    """One OpenAPI document from every API function's app.

    Operation ids and the bearer ``security`` of authorized operations come
    from the route declarations (``cheese_runtime.http.declared_routes``).
    Two functions may share a component schema only if it is the same schema.
    """
    spec: dict[str, Any] = {
        "openapi": "3.1.0",
        "info": {
            "title": "Cheese API",
            "version": "1.0.0",
            "description": "Every route of every Cheese function, as API Gateway serves them.",
        },
        "paths": {},
        "components": {"schemas": {}, "securitySchemes": {"bearer": BEARER_SCHEME}},
    }
    schemas = spec["components"]["schemas"]
    for function in resources.API_FUNCTIONS:
        part = importlib.import_module(function.module).app.openapi()
        for path, operations in part.get("paths", {}).items():
            spec["paths"].setdefault(path, {}).update(operations)
        for name, schema in part.get("components", {}).get("schemas", {}).items():
            if schemas.setdefault(name, schema) != schema:
                raise ValueError(f"two functions define different schemas named {name!r}")
    return spec


def docs_html() -> Response:
    return get_swagger_ui_html(openapi_url="/openapi.json", title="Cheese API")
