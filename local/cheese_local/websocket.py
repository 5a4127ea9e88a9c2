"""An API Gateway WebSocket API stand-in: real sockets, the same Lambda handlers, @connections.

Per connection, as API Gateway does it:
- ``$connect``: the REQUEST authorizer runs first (Deny → HTTP 403, no
  token source → 401, authorizer failure → 500, before the handshake is
  accepted), then the ``$connect`` route; a non-2xx answer refuses the
  handshake with that status, a ``Sec-WebSocket-Protocol`` header in the
  answer selects the subprotocol.
- every frame: the route is chosen by the selection expression
  (``$request.body.action``: a JSON body's ``action`` if it names a route,
  else ``$default``) and the handler gets a MESSAGE event with the
  authorizer context of the connection; frames over 128 KB close the
  connection with 1009, like API Gateway.
- closing: a DISCONNECT event (best effort, as in AWS).
- ``POST/GET/DELETE /@connections/{id}``: the management API that boto3's
  ``apigatewaymanagementapi`` client calls (its ``endpoint_url`` being the
  local stack's base URL); unknown or closed connections answer 410 Gone.
  As in AWS (IAM authorization, ``execute-api:ManageConnections``), only
  SigV4-signed requests are served, here signed with the local stack's
  credentials; unsigned or wrongly signed ones answer 403.

Not emulated: the 10-minute idle timeout and the 2-hour connection limit.
"""

from __future__ import annotations

import base64
import contextlib
import importlib
import json
import os
import time
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import anyio
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.websockets import WebSocket, WebSocketDisconnect

from cheese_local.gateway import invoke
from cheese_local.sigv4 import SignatureRefused, local_credentials, verify_header_signature
from cheese_runtime import resources
from cheese_runtime.observability import logger

MAX_MESSAGE_BYTES = 128 * 1024
ACCOUNT = "000000000000"


def new_connection_id() -> str:
    # API Gateway's ids look like "L0SM9cOFvHcCIhw=": 11 random bytes in base64.
    return base64.b64encode(os.urandom(11), altchars=b"-_").decode()


def _request_time(now: float) -> str:
    return datetime.fromtimestamp(now, UTC).strftime("%d/%b/%Y:%H:%M:%S +0000")


@dataclass
class LocalConnection:
    connection_id: str
    websocket: WebSocket
    connected_at: float
    source_ip: str
    user_agent: str
    authorizer: dict[str, Any]
    last_active: float = field(default_factory=time.time)
    open: bool = True


class WebSocketGateway:
    def __init__(
        self,
        api: resources.WebSocketApi,
        *,
        domain_name: str = "127.0.0.1",
        api_id: str = "local",
        stage: str = "local",
        concurrency: int = 32,
    ) -> None:
        self.api = api
        self.api_id = api_id
        self.stage = stage
        self.domain_name = domain_name
        self.connections: dict[str, LocalConnection] = {}
        self._modules: dict[str, Any] = {}
        self._limiter: anyio.CapacityLimiter | None = None
        self._concurrency = concurrency

    # --- Lambda invocation ---------------------------------------------------------
    def _handler(self, module: str) -> Any:
        if module not in self._modules:
            self._modules[module] = importlib.import_module(module).handler
        return self._modules[module]

    async def _invoke(self, module: str, event: dict[str, Any], name: str) -> dict[str, Any]:
        if self._limiter is None:
            self._limiter = anyio.CapacityLimiter(self._concurrency)
        return await anyio.to_thread.run_sync(
            invoke, self._handler(module), event, name, limiter=self._limiter
        )

    def _context(
        self,
        route_key: str,
        event_type: str,
        connection_id: str,
        now: float,
        connected_at: float,
        source_ip: str,
        user_agent: str,
        domain: str,
    ) -> dict[str, Any]:
        return {
            "routeKey": route_key,
            "eventType": event_type,
            "extendedRequestId": uuid.uuid4().hex[:16] + "=",
            "requestTime": _request_time(now),
            "messageDirection": "IN",
            "stage": self.stage,
            "connectedAt": int(connected_at * 1000),
            "requestTimeEpoch": int(now * 1000),
            "identity": {"sourceIp": source_ip, "userAgent": user_agent},
            "requestId": uuid.uuid4().hex[:16] + "=",
            "domainName": domain,
            "connectionId": connection_id,
            "apiId": self.api_id,
        }

    # --- the socket ------------------------------------------------------------------------
    async def endpoint(self, websocket: WebSocket) -> None:
        now = time.time()
        connection_id = new_connection_id()
        headers: dict[str, str] = {}
        multi_headers: dict[str, list[str]] = {}
        for key, value in websocket.headers.items():
            # API Gateway passes the client's header names; ASGI gives them lower-cased.
            multi_headers.setdefault(key, []).append(value)
            headers[key] = ",".join(multi_headers[key])
        query: dict[str, str] = {}
        multi_query: dict[str, list[str]] = {}
        for key, value in websocket.query_params.multi_items():
            multi_query.setdefault(key, []).append(value)
            query[key] = value
        source_ip = websocket.client.host if websocket.client else "127.0.0.1"
        user_agent = headers.get("user-agent", "")
        domain = headers.get("host", self.domain_name)
        context = self._context(
            "$connect", "CONNECT", connection_id, now, now, source_ip, user_agent, domain
        )

        auth_event = {
            "type": "REQUEST",
            "methodArn": f"arn:aws:execute-api:us-east-1:{ACCOUNT}:{self.api_id}/{self.stage}/$connect",
            "headers": headers,
            "multiValueHeaders": multi_headers,
            "queryStringParameters": query or None,
            "multiValueQueryStringParameters": multi_query or None,
            "stageVariables": {},
            "requestContext": context,
        }
        try:
            policy = await self._invoke(
                self.api.authorizer_module, auth_event, resources.WEBSOCKET_AUTHORIZER_FUNCTION
            )
        except Exception:
            logger.exception("websocket authorizer failed")
            await self._refuse(websocket, 500)
            return
        if not _allows(policy):
            await self._refuse(websocket, 403)
            return
        authorizer = {k: _stringify(v) for k, v in (policy.get("context") or {}).items()}
        authorizer["principalId"] = policy.get("principalId")
        authorizer["integrationLatency"] = 0
        connect_event = {
            "headers": headers,
            "multiValueHeaders": multi_headers,
            "queryStringParameters": query or None,
            "multiValueQueryStringParameters": multi_query or None,
            "requestContext": {**context, "authorizer": authorizer},
            "isBase64Encoded": False,
        }
        try:
            result = (
                await self._invoke(self.api.module, connect_event, self.api.function_name) or {}
            )
        except Exception:
            logger.exception("$connect handler failed")
            await self._refuse(websocket, 500)
            return
        status = int(result.get("statusCode", 200))
        if not 200 <= status < 300:
            await self._refuse(websocket, status)
            return
        answer = {k.lower(): v for k, v in (result.get("headers") or {}).items()}
        await websocket.accept(subprotocol=answer.get("sec-websocket-protocol"))
        connection = LocalConnection(
            connection_id, websocket, now, source_ip, user_agent, authorizer
        )
        self.connections[connection_id] = connection
        code, reason = 1005, "Client closed"
        try:
            while True:
                message = await websocket.receive()
                if message["type"] == "websocket.disconnect":
                    code = message.get("code", 1005)
                    reason = message.get("reason") or "Client closed"
                    break
                text, data = message.get("text"), message.get("bytes")
                size = len(text.encode()) if text is not None else len(data or b"")
                connection.last_active = time.time()
                if size > MAX_MESSAGE_BYTES:
                    code, reason = 1009, "Message too big"
                    await self._close(connection, 1009, "Message too big")
                    break
                await self._message(connection, text, data, domain)
        except (WebSocketDisconnect, RuntimeError):
            code, reason = 1006, "Going away"
        finally:
            connection.open = False
            self.connections.pop(connection_id, None)
            await self._disconnect(connection, code, reason, domain)

    async def _message(
        self, connection: LocalConnection, text: str | None, data: bytes | None, domain: str
    ) -> None:
        now = time.time()
        body = text if text is not None else base64.b64encode(data or b"").decode()
        route = "$default"
        if text is not None:
            try:
                parsed = json.loads(text)
            except ValueError:
                parsed = None
            action = parsed.get("action") if isinstance(parsed, dict) else None
            if isinstance(action, str) and action in self.api.routes:
                route = action
        context = self._context(
            route,
            "MESSAGE",
            connection.connection_id,
            now,
            connection.connected_at,
            connection.source_ip,
            connection.user_agent,
            domain,
        )
        context["messageId"] = uuid.uuid4().hex[:16] + "="
        context["authorizer"] = connection.authorizer
        event = {"requestContext": context, "body": body, "isBase64Encoded": text is None}
        try:
            await self._invoke(self.api.module, event, self.api.function_name)
        except Exception:
            # API Gateway answers an integration failure with an error frame and keeps the socket.
            logger.exception("websocket route handler failed")
            await self._send(
                connection,
                json.dumps(
                    {"message": "Internal server error", "connectionId": connection.connection_id}
                ),
            )

    async def _disconnect(
        self, connection: LocalConnection, code: int, reason: str, domain: str
    ) -> None:
        now = time.time()
        context = self._context(
            "$disconnect",
            "DISCONNECT",
            connection.connection_id,
            now,
            connection.connected_at,
            connection.source_ip,
            connection.user_agent,
            domain,
        )
        context.update(
            {
                "disconnectStatusCode": code,
                "disconnectReason": reason,
                "authorizer": connection.authorizer,
            }
        )
        event = {
            "headers": {"Host": domain, "x-api-key": "", "X-Forwarded-For": "", "x-restapi": ""},
            "multiValueHeaders": {},
            "requestContext": context,
            "isBase64Encoded": False,
        }
        try:
            await self._invoke(self.api.module, event, self.api.function_name)
        except Exception:
            logger.exception("$disconnect handler failed")

    async def _refuse(self, websocket: WebSocket, status: int) -> None:
        if "websocket.http.response" in websocket.scope.get("extensions", {}):
            await websocket.send_denial_response(Response(status_code=status))
        else:
            await websocket.close(code=1008)  # the server answers the handshake with 403

    async def _send(self, connection: LocalConnection, payload: str | bytes) -> bool:
        if not connection.open:
            return False
        try:
            if isinstance(payload, bytes):
                await connection.websocket.send_bytes(payload)
            else:
                await connection.websocket.send_text(payload)
            return True
        except Exception:
            logger.debug("send to a closing socket failed", exc_info=True)
            connection.open = False
            return False

    async def _close(self, connection: LocalConnection, code: int = 1000, reason: str = "") -> None:
        if not connection.open:
            return
        connection.open = False
        with contextlib.suppress(Exception):
            await connection.websocket.close(code=code, reason=reason)

    # --- @connections -------------------------------------------------------------------------
    async def management(self, request: Request) -> Response:
        body = await request.body()
        raw_path = request.scope.get("raw_path", request.url.path.encode()).decode()
        query = request.scope.get("query_string", b"").decode()
        url = f"{request.url.scheme}://{request.headers.get('host', '')}{raw_path}"
        try:
            verify_header_signature(
                request.method,
                url + (f"?{query}" if query else ""),
                dict(request.headers),
                body,
                service="execute-api",
                credentials=local_credentials(),
            )
        except SignatureRefused as refused:
            logger.warning(
                "unsigned or wrongly signed @connections request", extra={"code": refused.code}
            )
            return JSONResponse(
                {"message": refused.message},
                status_code=403,
                headers={"x-amzn-ErrorType": refused.code},
            )
        connection = self.connections.get(request.path_params["connection_id"])
        if connection is None or not connection.open:
            return _gone()
        if request.method == "POST":
            data = body
            if len(data) > MAX_MESSAGE_BYTES:
                return JSONResponse(
                    {"message": "Payload too large"},
                    status_code=413,
                    headers={"x-amzn-ErrorType": "PayloadTooLargeException"},
                )
            try:
                payload: str | bytes = data.decode()
            except UnicodeDecodeError:
                payload = data
            if not await self._send(connection, payload):
                self.connections.pop(connection.connection_id, None)
                return _gone()
            return Response(status_code=200)
        if request.method == "GET":
            return JSONResponse(
                {
                    "connectedAt": _iso(connection.connected_at),
                    "identity": {
                        "sourceIp": connection.source_ip,
                        "userAgent": connection.user_agent,
                    },
                    "lastActiveAt": _iso(connection.last_active),
                }
            )
        await self._close(connection, 1000, "Closed by the server")
        return Response(status_code=204)


def _allows(policy: dict[str, Any] | None) -> bool:
    if not isinstance(policy, dict):
        return False
    statements = (policy.get("policyDocument") or {}).get("Statement") or []
    effects = {str(s.get("Effect", "")).lower() for s in statements if isinstance(s, dict)}
    return bool(effects) and effects == {"allow"}


def _stringify(value: Any) -> Any:
    # API Gateway hands authorizer context values to integrations as strings.
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value) if value is not None else None


def _iso(ts: float) -> str:
    return datetime.fromtimestamp(ts, UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def _gone() -> Response:
    return JSONResponse(
        {"message": None}, status_code=410, headers={"x-amzn-ErrorType": "GoneException"}
    )
