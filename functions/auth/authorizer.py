"""Lambda REQUEST authorizer for the WebSocket ``$connect`` route.

The access token comes in the ``token`` query parameter or as the
``Sec-WebSocket-Protocol`` value ``bearer, <token>`` (browsers cannot set an
Authorization header on a WebSocket). Built on the shared verifier, which
refuses revoked sessions; the session id goes on in the context so that the
WebSocket handler refuses the connection's frames once it is revoked.
"""

from __future__ import annotations

from aws_lambda_powertools.utilities.data_classes.api_gateway_authorizer_event import (
    APIGatewayAuthorizerRequestEvent,
)

from cheese_runtime.auth.verify import InvalidToken, get_verifier
from cheese_runtime.handlers import Grant, authorizer_handler
from cheese_runtime.observability import logger


def token_from_request(event: APIGatewayAuthorizerRequestEvent) -> str | None:
    query = event.query_string_parameters or {}
    if query.get("token"):
        return query["token"]
    protocol = event.headers.get("sec-websocket-protocol") or event.headers.get(
        "Sec-WebSocket-Protocol"
    )
    if protocol:
        parts = [p.strip() for p in protocol.split(",")]
        if len(parts) == 2 and parts[0].lower() == "bearer":
            return parts[1]
    return None


def authorize(event: APIGatewayAuthorizerRequestEvent) -> Grant | None:
    token = token_from_request(event)
    try:
        if token is None:
            raise InvalidToken("missing token")
        principal = get_verifier().verify(token)
    except InvalidToken as exc:
        logger.info("websocket connect denied", extra={"reason": exc.reason})
        return None
    return Grant(
        principal.user_id,
        {
            "user_id": principal.user_id,
            "session_id": principal.session_id,
            "token_issued_at": principal.issued_at,
            "token_expires_at": principal.expires_at,
        },
    )


handler = authorizer_handler(authorize)
