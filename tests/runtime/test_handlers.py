"""Every handler factory with the event shapes AWS sends (no database, no AWS)."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, HTTPServer
from typing import Any, ClassVar

import pytest
from pydantic import BaseModel, ConfigDict, ValidationError

from cheese_local.events import (
    eventbridge_event,
    received_message,
    s3_notification,
    s3_notification_record,
    scheduled_event,
    sqs_event,
)
from cheese_local.lambda_context import LocalLambdaContext
from cheese_runtime import events
from cheese_runtime.consumers import StoredObject, event_consumer, s3_object_consumer
from cheese_runtime.handlers import (
    Grant,
    NoPayload,
    authorizer_handler,
    deploy_step_handler,
    scheduled_handler,
    websocket_handler,
)
from tests.logs import captured_logs

QUEUE_ARN = "arn:aws:sqs:us-east-1:000000000000:cheese-test"


def batch(*bodies: str) -> dict[str, Any]:
    return sqs_event([received_message(body) for body in bodies], QUEUE_ARN)


def failed_ids(result: dict[str, Any]) -> list[str]:
    return [f["itemIdentifier"] for f in result["batchItemFailures"]]


# --- schedules -------------------------------------------------------------------------


class ClosePayload(BaseModel):
    model_config = ConfigDict(extra="forbid")
    period_id: str | None = None


def test_a_scheduled_event_runs_the_job_with_an_empty_payload() -> None:
    seen: list[ClosePayload] = []
    handler = scheduled_handler(lambda p: seen.append(p) or {"ran": True}, ClosePayload)
    event = scheduled_event("smile-period-close")
    assert handler(event, LocalLambdaContext("smile-period-close")) == {"ran": True}
    assert seen == [ClosePayload()]


def test_a_direct_invocation_is_the_payload() -> None:
    seen: list[ClosePayload] = []
    handler = scheduled_handler(lambda p: seen.append(p) or {}, ClosePayload)
    handler({"period_id": "2026-W47"}, LocalLambdaContext("job"))
    handler({}, LocalLambdaContext("job"))  # a CDK Trigger invokes with no payload
    assert seen == [ClosePayload(period_id="2026-W47"), ClosePayload()]


@pytest.mark.parametrize(
    "event",
    [
        {"period": "2026-W47"},  # a typo in a manual run
        eventbridge_event("PhotoDeleted", {"photo_id": "p"}),  # not a schedule
        {**scheduled_event("job"), "time": "yesterday"},  # a malformed envelope
    ],
)
def test_an_event_that_is_neither_schedule_nor_payload_fails(event: dict[str, Any]) -> None:
    ran: list[object] = []
    handler = scheduled_handler(ran.append, ClosePayload)
    with pytest.raises((ValidationError, ValueError)):
        handler(event, LocalLambdaContext("job"))
    assert ran == []


def test_a_job_without_payload_refuses_one() -> None:
    handler = scheduled_handler(lambda _: {"ok": 1}, NoPayload)
    assert handler(scheduled_event("pool-sweep"), LocalLambdaContext("pool-sweep")) == {"ok": 1}
    with pytest.raises(ValidationError):
        handler({"unexpected": True}, LocalLambdaContext("pool-sweep"))


# --- WebSocket -------------------------------------------------------------------------


def websocket_event(route_key: str, event_type: str, **extra: Any) -> dict[str, Any]:
    """An API Gateway WebSocket proxy event, as AWS documents it."""
    context = {
        "routeKey": route_key,
        "eventType": event_type,
        "extendedRequestId": "L0SM9FsoIAMFfRw=",
        "requestTime": "01/Dec/2026:20:00:00 +0000",
        "messageDirection": "IN",
        "stage": "live",
        "connectedAt": 1796155200000,
        "requestTimeEpoch": 1796155200123,
        "identity": {"sourceIp": "203.0.113.7", "userAgent": "okhttp/4.12"},
        "requestId": "L0SM9FsoIAMFfRw=",
        "domainName": "abc123.execute-api.us-east-1.amazonaws.com",
        "connectionId": "L0SM9cOFvHcCIhw=",
        "apiId": "abc123",
        "authorizer": {"principalId": "user-1", "user_id": "user-1", "integrationLatency": 0},
    }
    return {"requestContext": context, "isBase64Encoded": False, **extra}


def test_websocket_routes_get_the_event_and_answer_api_gateway() -> None:
    seen: list[str] = []

    def route(event: dict[str, Any]) -> dict[str, Any]:
        from cheese_runtime.observability import logger

        seen.append(event["requestContext"]["routeKey"])
        logger.info("frame handled")
        return {"statusCode": 200, "headers": {"Sec-WebSocket-Protocol": "bearer"}}

    handler = websocket_handler(route)
    connect = websocket_event(
        "$connect", "CONNECT", headers={"Host": "x"}, multiValueHeaders={"Host": ["x"]}
    )
    message = websocket_event("focus", "MESSAGE", body='{"action":"focus","score":80}')
    message["requestContext"]["messageId"] = "m1"
    with captured_logs() as lines:
        assert handler(connect, LocalLambdaContext("websocket-pool"))["statusCode"] == 200
        handler(message, LocalLambdaContext("websocket-pool"))
    assert seen == ["$connect", "focus"]
    handled = [line for line in lines if line["message"] == "frame handled"]
    assert [line["route"] for line in handled] == ["$connect", "focus"]
    assert {line["service"] for line in handled} == {"websocket-pool"}
    assert {line["connection_id"] for line in handled} == {"L0SM9cOFvHcCIhw="}
    assert {line["correlation_id"] for line in handled} == {"L0SM9FsoIAMFfRw="}


# --- REQUEST authorizer ----------------------------------------------------------------


def authorizer_request(token: str | None) -> dict[str, Any]:
    """A REQUEST authorizer event for a WebSocket $connect, as API Gateway sends it."""
    query = {"token": token} if token else None
    return {
        "type": "REQUEST",
        "methodArn": "arn:aws:execute-api:us-east-1:000000000000:abc123/live/$connect",
        "headers": {"Host": "abc123.execute-api.us-east-1.amazonaws.com"},
        "multiValueHeaders": {"Host": ["abc123.execute-api.us-east-1.amazonaws.com"]},
        "queryStringParameters": query,
        "multiValueQueryStringParameters": {k: [v] for k, v in (query or {}).items()},
        "stageVariables": {},
        "requestContext": websocket_event("$connect", "CONNECT")["requestContext"],
    }


def test_an_authorizer_grant_allows_exactly_the_asked_route_with_its_context() -> None:
    def authorize(event: Any) -> Grant | None:
        token = (event.query_string_parameters or {}).get("token")
        return Grant("user-1", {"user_id": "user-1", "token_expires_at": 99}) if token else None

    handler = authorizer_handler(authorize)
    allowed = handler(authorizer_request("t"), LocalLambdaContext("websocket-authorizer"))
    assert allowed == {
        "principalId": "user-1",
        "policyDocument": {
            "Version": "2012-10-17",
            "Statement": [
                {
                    "Action": "execute-api:Invoke",
                    "Effect": "Allow",
                    "Resource": "arn:aws:execute-api:us-east-1:000000000000:abc123/live/$connect",
                }
            ],
        },
        "context": {"user_id": "user-1", "token_expires_at": 99},
    }
    denied = handler(authorizer_request(None), LocalLambdaContext("websocket-authorizer"))
    assert denied["principalId"] == "anonymous"
    assert denied["policyDocument"]["Statement"][0]["Effect"] == "Deny"
    assert "context" not in denied


# --- deploy steps ----------------------------------------------------------------------


@pytest.fixture
def response_url() -> Iterator[tuple[str, list[dict[str, Any]]]]:
    """A stand-in for CloudFormation's presigned S3 response URL, recording what is PUT."""
    received: list[dict[str, Any]] = []

    class Bucket(BaseHTTPRequestHandler):
        def do_PUT(self) -> None:
            length = int(self.headers["Content-Length"])
            received.append(json.loads(self.rfile.read(length)))
            self.send_response(200)
            self.end_headers()

        def log_message(self, *args: Any) -> None:
            pass

    server = HTTPServer(("127.0.0.1", 0), Bucket)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}/cfn-response?X-Amz-Signature=abc", received
    server.shutdown()


def custom_resource_request(request_type: str, response_url: str) -> dict[str, Any]:
    request: dict[str, Any] = {
        "RequestType": request_type,
        "ServiceToken": "arn:aws:lambda:us-east-1:000000000000:function:migrations",
        "ResponseURL": response_url,
        "StackId": "arn:aws:cloudformation:us-east-1:000000000000:stack/Cheese-dev-Service/1a2b",
        "RequestId": "d9a0f1c2-1111-2222-3333-444455556666",
        "LogicalResourceId": "MigrateDatabase",
        "ResourceType": "Custom::Trigger",
        "ResourceProperties": {"ServiceToken": "arn:aws:lambda:...:migrations"},
    }
    if request_type != "Create":
        request["PhysicalResourceId"] = "MigrateDatabase"
    return request


def test_a_cdk_trigger_runs_the_step() -> None:
    runs: list[int] = []
    handler = deploy_step_handler(lambda: runs.append(1) or {"status": "migrated"})
    assert handler({}, LocalLambdaContext("migrations")) == {"status": "migrated"}
    assert runs == [1]


def test_a_custom_resource_request_runs_and_answers_cloudformation(response_url) -> None:  # noqa: ANN001
    url, received = response_url
    runs: list[int] = []
    handler = deploy_step_handler(lambda: runs.append(1) or {"status": "migrated"})
    handler(custom_resource_request("Create", url), LocalLambdaContext("migrations"))
    handler(custom_resource_request("Delete", url), LocalLambdaContext("migrations"))
    assert runs == [1]  # a Delete changes nothing
    assert [r["Status"] for r in received] == ["SUCCESS", "SUCCESS"]
    assert received[0] == {
        "Status": "SUCCESS",
        "Reason": "SUCCESS",
        "PhysicalResourceId": "MigrateDatabase",
        "StackId": "arn:aws:cloudformation:us-east-1:000000000000:stack/Cheese-dev-Service/1a2b",
        "RequestId": "d9a0f1c2-1111-2222-3333-444455556666",
        "LogicalResourceId": "MigrateDatabase",
        "Data": {"status": "migrated"},
    }


def test_a_failed_step_fails_the_deploy(response_url) -> None:  # noqa: ANN001
    url, received = response_url

    def broken() -> dict[str, str]:
        raise RuntimeError("relation already exists")

    handler = deploy_step_handler(broken)
    with pytest.raises(RuntimeError):
        handler(custom_resource_request("Update", url), LocalLambdaContext("migrations"))
    assert received[0]["Status"] == "FAILED"
    assert "relation already exists" in received[0]["Reason"]
    with pytest.raises(RuntimeError):  # a CDK Trigger sees the function error
        handler({}, LocalLambdaContext("migrations"))


# --- SQS: EventBridge events -----------------------------------------------------------


def deletion(user_id: str) -> str:
    detail = {"user_id": user_id, "requested_at": "2026-12-01T20:00:00Z"}
    return json.dumps(eventbridge_event(events.UserDeletionRequested.detail_type, detail))


def test_an_event_consumer_gets_validated_details_and_fails_poison_messages() -> None:
    erased: list[events.UserDeletionRequested] = []
    handler = event_consumer({events.UserDeletionRequested: erased.append})
    secret = "ann@example.com"
    bodies = [
        deletion("user-1"),
        # The detail misses user_id (and carries personal data that must not be logged).
        json.dumps(eventbridge_event("UserDeletionRequested", {"email": secret})),
        # A registered type this consumer is not subscribed to.
        json.dumps(eventbridge_event("PhotoDeleted", {"photo_id": "p", "user_id": "u"})),
        "not json at all",
        s3_notification(s3_notification_record("bucket", "originals/u/p", 10)),
    ]
    event = batch(*bodies)
    with captured_logs() as lines:
        result = handler(event, LocalLambdaContext("auth-erasure"))
    ids = [r["messageId"] for r in event["Records"]]
    assert failed_ids(result) == ids[1:]
    assert erased == [
        events.UserDeletionRequested(user_id="user-1", requested_at="2026-12-01T20:00:00Z")
    ]
    assert secret not in json.dumps(lines)
    invalid = [line for line in lines if line["message"].startswith("invalid message")]
    assert len(invalid) == 3
    # Where it is wrong, never what it holds.
    assert any(error["loc"][-1] == "user_id" for line in invalid for error in line["errors"])
    assert any(line["message"].startswith("unexpected event type") for line in lines)


def test_a_batch_of_only_poison_is_answered_not_raised() -> None:
    handler = event_consumer({events.UserDeletionRequested: lambda _: None})
    event = batch("{}", "[]")
    result = handler(event, LocalLambdaContext("auth-erasure"))
    assert failed_ids(result) == [r["messageId"] for r in event["Records"]]


def test_only_registered_models_can_be_consumed() -> None:
    class Unregistered(events.EventDetail):
        detail_type: ClassVar[str] = "Unregistered"

    with pytest.raises(ValueError, match="REGISTRY"):
        event_consumer({Unregistered: lambda _: None})


def test_publish_sends_only_valid_registered_details() -> None:
    class Impostor(events.EventDetail):
        detail_type: ClassVar[str] = events.PhotoDeleted.detail_type

    class Unregistered(events.EventDetail):
        detail_type: ClassVar[str] = "Unregistered"

    with pytest.raises(TypeError):
        events.publish(Impostor())
    with pytest.raises(events.UnknownEventType):
        events.publish(Unregistered())
    with pytest.raises(ValidationError):  # built without validation, checked before sending
        events.publish(events.PhotoDeleted.model_construct(photo_id="p"))


def test_every_subscribed_detail_type_has_a_registered_model() -> None:
    from cheese_runtime import resources

    subscribed = {t for s in resources.EVENT_SUBSCRIPTIONS for t in s.detail_types}
    assert subscribed <= set(events.REGISTRY)


# --- SQS: S3 notifications -------------------------------------------------------------


@pytest.mark.parametrize(
    "key",
    ["originals/u1/My Photo (1).jpg", "originals/u1/a+b.jpg", "avatars/p/u/100%-of-me.png"],
)
def test_an_s3_consumer_gets_the_decoded_key(key: str) -> None:
    arrived: list[StoredObject] = []
    handler = s3_object_consumer(arrived.append)
    record = s3_notification_record("cheese-photos", key, 2048)
    # As S3 spells it: a space is "+", "+" and "%" are %xx.
    assert " " not in record["s3"]["object"]["key"]
    result = handler(batch(s3_notification(record)), LocalLambdaContext("photos-analysis"))
    assert result == {"batchItemFailures": []}
    assert arrived == [
        StoredObject(
            event_name="ObjectCreated:Post",
            bucket="cheese-photos",
            key=key,
            size=2048,
            receive_count=1,
        )
    ]


def test_s3_test_events_are_skipped_and_malformed_notifications_fail() -> None:
    arrived: list[StoredObject] = []
    handler = s3_object_consumer(arrived.append)
    test_event = json.dumps(
        {
            "Service": "Amazon S3",
            "Event": "s3:TestEvent",
            "Time": "2026-12-01T20:00:00.000Z",
            "Bucket": "cheese-photos",
            "RequestId": "5582815E1AEA5ADF",
            "HostId": "8cLeGAmw098X5cv4Zkwcmo8vvZa3eH3eKxsPzbB9wrR+YstdA6Knx4Ip8EXAMPLE",
        }
    )
    incomplete = s3_notification_record("cheese-photos", "originals/u/p", 1)
    del incomplete["s3"]["object"]["key"]
    event = batch(test_event, s3_notification(incomplete), deletion("u"))
    result = handler(event, LocalLambdaContext("photos-analysis"))
    assert failed_ids(result) == [r["messageId"] for r in event["Records"]][1:]
    assert arrived == []


def test_the_local_s3_fronts_notifications_are_what_s3_consumers_parse() -> None:
    from cheese_local.s3_front import NotificationTarget, object_created_event

    arrived: list[StoredObject] = []
    target = NotificationTarget("photos-analysis", "cheese-photos", "originals/", "queue-url")
    body = object_created_event(
        target,
        "originals/u1/a b+c.jpg",
        5,
        '"9a0364b9e99bb480dd25e1f0284c8555"',
        "ObjectCreated:Post",
        "127.0.0.1",
    )
    result = s3_object_consumer(arrived.append)(
        batch(json.dumps(body)), LocalLambdaContext("photos-analysis")
    )
    assert result == {"batchItemFailures": []}
    assert [(a.key, a.size) for a in arrived] == [("originals/u1/a b+c.jpg", 5)]
