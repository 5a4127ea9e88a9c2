"""Lambda handler of the pool WebSocket API (every route: $connect, $disconnect, $default, actions).

API Gateway invokes it with WebSocket proxy events; the REQUEST authorizer
(``functions.auth.authorizer``) has run on ``$connect`` and its context
(``user_id``, ``token_expires_at``) comes with every later event of the
connection. Replies and broadcasts go out through the @connections API;
the return value only matters for ``$connect`` (status, subprotocol).
"""

from __future__ import annotations

import base64
import binascii
import json
import time
from typing import Any

from aws_lambda_powertools.metrics import MetricUnit
from pydantic import ValidationError

from cheese_runtime.auth.revocation import get_revocations
from cheese_runtime.handlers import websocket_handler
from cheese_runtime.observability import logger, metrics
from functions.pool.connections import Caller
from functions.pool.presence import ClientError, Presence, current_presence
from functions.pool.protocol import FRAMES, Enter, Focus, error_frame

OK = {"statusCode": 200}


def _authorizer(event: dict[str, Any]) -> dict[str, Any]:
    return event.get("requestContext", {}).get("authorizer") or {}


def _caller(event: dict[str, Any]) -> Caller | None:
    context = _authorizer(event)
    user_id = context.get("user_id") or context.get("principalId")
    if not user_id:
        return None
    try:
        expires = int(float(context.get("token_expires_at", 0)))
        issued = int(float(context.get("token_issued_at", 0)))
    except (TypeError, ValueError):
        expires = issued = 0
    return Caller(
        event["requestContext"]["connectionId"],
        str(user_id),
        expires,
        str(context.get("session_id") or ""),
        issued,
    )


def connect(event: dict[str, Any], caller: Caller | None) -> dict[str, Any]:
    if caller is None:
        return {"statusCode": 401}
    current_presence().connections.open(caller, time.time())
    metrics.add_metric(name="WebSocketConnects", unit=MetricUnit.Count, value=1)
    headers = {k.lower(): v for k, v in (event.get("headers") or {}).items()}
    protocols = [x.strip().lower() for x in headers.get("sec-websocket-protocol", "").split(",")]
    if "bearer" in protocols:
        # The client offered "bearer, <token>": agree on "bearer" or browsers drop the socket.
        return {"statusCode": 200, "headers": {"Sec-WebSocket-Protocol": "bearer"}}
    return OK


def _body(event: dict[str, Any]) -> bytes:
    body = event.get("body") or ""
    if event.get("isBase64Encoded"):
        try:
            return base64.b64decode(body)
        except (binascii.Error, ValueError):
            return b""
    return body.encode() if isinstance(body, str) else body


def message(event: dict[str, Any], caller: Caller) -> None:
    p = current_presence()
    s = p.pool_settings
    reply = p.broadcaster.send_one
    raw = _body(event)
    if len(raw) > s.max_message_bytes:
        reply(
            caller.connection_id,
            error_frame(
                "message_too_large",
                f"Frames are limited to {s.max_message_bytes} bytes.",
                limit=s.max_message_bytes,
            ),
        )
        return
    now = time.time()
    if caller.token_expires_at and now >= caller.token_expires_at:
        # The token this connection was opened with has expired: say so, then close.
        metrics.add_metric(name="WebSocketTokenExpired", unit=MetricUnit.Count, value=1)
        reply(
            caller.connection_id,
            error_frame("token_expired", "Your access token expired; reconnect with a new one."),
        )
        p.broadcaster.close(caller.connection_id)
        return
    if not caller.session_id or get_revocations().is_revoked(
        caller.session_id, caller.user_id, caller.token_issued_at
    ):
        # Logged out, its login revoked or the account deleted since $connect.
        metrics.add_metric(name="WebSocketSessionRevoked", unit=MetricUnit.Count, value=1)
        reply(
            caller.connection_id,
            error_frame("session_revoked", "This session has ended; sign in again."),
        )
        p.broadcaster.close(caller.connection_id)
        return
    try:
        data = json.loads(raw)
    except (UnicodeDecodeError, ValueError):
        data = None
    ref = data.get("ref") if isinstance(data, dict) and isinstance(data.get("ref"), str) else None
    if not isinstance(data, dict) or not isinstance(data.get("action"), str):
        _frame_limit(p, caller, now) or reply(
            caller.connection_id,
            error_frame("malformed", "Frames are JSON objects with an action.", ref),
        )
        return
    action = data["action"]
    model = FRAMES.get(action)
    if model is None:
        _frame_limit(p, caller, now) or reply(
            caller.connection_id,
            error_frame(
                "unknown_action",
                f"Unknown action; use one of {sorted(FRAMES)}.",
                ref,
                action=action[:32],
            ),
        )
        return
    try:
        frame = model.model_validate(data)
    except ValidationError as exc:
        errors = [{"loc": [str(x) for x in e["loc"]], "msg": e["msg"]} for e in exc.errors()][:5]
        reply(
            caller.connection_id,
            error_frame(
                "invalid_message", "The frame is not valid.", ref, action=action, errors=errors
            ),
        )
        return
    if action != "focus" and _frame_limit(p, caller, now, ref):
        return
    try:
        if isinstance(frame, Enter):
            p.enter(caller, frame.pool_id)
        elif isinstance(frame, Focus):
            p.focus(caller, frame.score, frame.pool_id)
        elif action == "away":
            p.away(caller)
        elif action == "back":
            p.back(caller)
        elif action == "exit":
            p.exit(caller)
        elif action == "ping":
            reply(caller.connection_id, {"type": "pong", "ref": ref, "at": round(now, 3)})
    except ClientError as exc:
        reply(
            caller.connection_id,
            error_frame(exc.code, exc.message, ref, action=action, **exc.extra),
        )


def _frame_limit(p: Presence, caller: Caller, now: float, ref: str | None = None) -> bool:
    wait = p.connections.rate_limited(caller, now)
    if wait is None:
        return False
    metrics.add_metric(name="WebSocketRateLimited", unit=MetricUnit.Count, value=1)
    p.broadcaster.send_one(
        caller.connection_id,
        error_frame("rate_limited", "Too many frames; slow down.", ref, retry_after=wait),
    )
    return True


def handle_event(event: dict[str, Any]) -> dict[str, Any]:
    route = event.get("requestContext", {}).get("routeKey")
    caller = _caller(event)
    if route == "$connect":
        return connect(event, caller)
    if caller is None:
        logger.warning("event without authorizer context", extra={"route": route})
        return {"statusCode": 401}
    logger.thread_safe_append_keys(user_id=caller.user_id)
    if route == "$disconnect":
        current_presence().disconnected(caller)
        return OK
    try:
        message(event, caller)
    except Exception:
        # Never drop the connection over our own failure: tell the client and keep going.
        logger.exception("pool frame failed")
        try:
            current_presence().broadcaster.send_one(
                caller.connection_id,
                error_frame("internal_error", "Something went wrong; try again."),
            )
        except Exception:
            logger.exception("could not report the failure")
    return OK


handler = websocket_handler(handle_event)
