"""Erasure consumer, WebSocket authorizer and key rotation with real event shapes."""

from __future__ import annotations

import json

import pytest

from cheese_local.events import eventbridge_event, received_message, sqs_event
from cheese_local.lambda_context import LocalLambdaContext
from cheese_runtime import aws, events, resources
from tests.conftest import signup, wait_until


def eventbridge_envelope(detail_type: str, detail: dict) -> str:
    return json.dumps(eventbridge_event(detail_type, detail))


def test_erasure_is_idempotent_and_reports_poison_messages(db) -> None:  # noqa: ANN001
    from cheese_runtime.db.session import session_scope
    from cheese_runtime.settings import get_settings
    from functions.auth import erasure
    from functions.auth.models import User
    from functions.auth.service import AuthService

    user = signup("erase")
    with session_scope() as session:
        session.get(User, user.id).status = "deleting"
    good = received_message(
        eventbridge_envelope(
            events.UserDeletionRequested.detail_type, {"user_id": user.id, "requested_at": "now"}
        )
    )
    poison = received_message("this is not an EventBridge event")
    event = sqs_event([good, poison], "arn:aws:sqs:us-east-1:000000000000:cheese-auth-erasure")
    result = erasure.handler(event, LocalLambdaContext("auth-erasure"))
    assert result == {"batchItemFailures": [{"itemIdentifier": poison["MessageId"]}]}
    with session_scope() as session:
        assert session.get(User, user.id) is None
    # At-least-once: the same event again changes nothing and succeeds.
    again = erasure.handler(
        sqs_event([good], "arn:aws:sqs:us-east-1:000000000000:q"), LocalLambdaContext("e")
    )
    assert again == {"batchItemFailures": []}
    assert AuthService(get_settings())  # service still constructible after erasure


def test_an_active_account_is_never_erased_by_a_stray_event(db) -> None:  # noqa: ANN001
    from cheese_runtime.db.session import session_scope
    from functions.auth import erasure
    from functions.auth.models import User

    user = signup("stays")
    message = received_message(
        eventbridge_envelope(
            events.UserDeletionRequested.detail_type, {"user_id": user.id, "requested_at": "now"}
        )
    )
    erasure.handler(
        sqs_event([message], "arn:aws:sqs:us-east-1:000000000000:q"), LocalLambdaContext("e")
    )
    with session_scope() as session:
        assert session.get(User, user.id) is not None


def test_poison_event_lands_in_the_dead_letter_queue(db) -> None:  # noqa: ANN001
    sqs = aws.client("sqs")
    queue = resources.subscription_queue(resources.EVENT_SUBSCRIPTIONS[0])
    dlq_url = sqs.get_queue_url(QueueName=queue.dead_letter_name)["QueueUrl"]
    aws.client("events").put_events(
        Entries=[
            {
                "Source": resources.EVENT_SOURCE,
                "DetailType": events.UserDeletionRequested.detail_type,
                "Detail": json.dumps({"no_user_id": True}),
                "EventBusName": resources.EVENT_BUS,
            }
        ]
    )

    def in_dlq() -> bool:
        messages = sqs.receive_message(QueueUrl=dlq_url, MaxNumberOfMessages=10, WaitTimeSeconds=1)
        return any("no_user_id" in m["Body"] for m in messages.get("Messages", []))

    assert wait_until(in_dlq, timeout=30, interval=0.5)


def authorizer_event(query: dict | None = None, headers: dict | None = None) -> dict:
    return {
        "type": "REQUEST",
        "methodArn": "arn:aws:execute-api:us-east-1:000000000000:abc123/production/$connect",
        "headers": headers or {},
        "multiValueHeaders": {k: [v] for k, v in (headers or {}).items()},
        "queryStringParameters": query,
        "multiValueQueryStringParameters": {k: [v] for k, v in (query or {}).items()},
        "stageVariables": {},
        "requestContext": {
            "routeKey": "$connect",
            "eventType": "CONNECT",
            "extendedRequestId": "x",
            "requestTime": "21/Nov/2026:00:00:00 +0000",
            "messageDirection": "IN",
            "stage": "production",
            "connectedAt": 0,
            "requestTimeEpoch": 0,
            "identity": {"sourceIp": "127.0.0.1"},
            "requestId": "r",
            "domainName": "abc123.execute-api.us-east-1.amazonaws.com",
            "connectionId": "conn=",
            "apiId": "abc123",
        },
    }


@pytest.mark.parametrize("where", ["query", "protocol"])
def test_websocket_authorizer_allows_a_valid_token(db, where: str) -> None:  # noqa: ANN001
    from functions.auth.authorizer import handler

    user = signup("ws")
    event = (
        authorizer_event(query={"token": user.access_token})
        if where == "query"
        else authorizer_event(headers={"Sec-WebSocket-Protocol": f"bearer, {user.access_token}"})
    )
    result = handler(event, LocalLambdaContext("authorizer"))
    assert result["principalId"] == user.id
    assert result["policyDocument"]["Statement"][0]["Effect"] == "Allow"
    assert result["context"]["user_id"] == user.id


@pytest.mark.parametrize(
    "query, headers",
    [(None, None), ({"token": "garbage"}, None), (None, {"Sec-WebSocket-Protocol": "chat"})],
)
def test_websocket_authorizer_denies_bad_tokens(db, query, headers) -> None:  # noqa: ANN001
    from functions.auth.authorizer import handler

    result = handler(
        authorizer_event(query=query, headers=headers), LocalLambdaContext("authorizer")
    )
    assert result["policyDocument"]["Statement"][0]["Effect"] == "Deny"


def test_rotation_publishes_a_new_key_and_old_tokens_keep_working(db) -> None:  # noqa: ANN001
    import jwt

    from cheese_runtime.auth.verify import get_verifier
    from cheese_runtime.settings import get_settings
    from functions.auth import rotation
    from functions.auth.tokens import load_key_set

    user = signup("rotation")
    old_kid = jwt.get_unverified_header(user.access_token)["kid"]
    new_kid = rotation.handler({}, LocalLambdaContext("rotation"))["active_kid"]
    assert new_kid != old_kid
    jwks = json.loads(
        aws.client("ssm").get_parameter(Name=get_settings().jwks_parameter)["Parameter"]["Value"]
    )
    assert {old_kid, new_kid} <= {k["kid"] for k in jwks["keys"]}
    assert get_verifier().verify(user.access_token).user_id == user.id
    load_key_set(force=True)  # the issuer's cache picks the new key up
    fresh = signup("after-rotation")
    assert jwt.get_unverified_header(fresh.access_token)["kid"] == new_kid
    assert get_verifier().verify(fresh.access_token).user_id == fresh.id
