"""Builders of real AWS event shapes for local invocation and tests.

API Gateway HTTP API v2, SQS batches and the messages in them, EventBridge
events (domain events and schedules), S3 object notifications: each as AWS
documents and sends it, so handlers parse the same shapes everywhere.
"""

from __future__ import annotations

import base64
import hashlib
import json
import time
import uuid
from datetime import UTC, datetime
from typing import Any
from urllib.parse import parse_qsl, quote_plus

from cheese_runtime.events import EVENT_SOURCE

ACCOUNT = "000000000000"
REGION = "us-east-1"

TEXT_TYPES = (
    "application/json",
    "application/problem+json",
    "text/",
    "application/x-www-form-urlencoded",
)


def http_api_event(
    method: str,
    path: str,
    *,
    route_key: str,
    path_parameters: dict[str, str] | None = None,
    query_string: str = "",
    headers: dict[str, str] | None = None,
    body: bytes = b"",
    source_ip: str = "127.0.0.1",
    domain_name: str = "127.0.0.1:8000",
) -> dict[str, Any]:
    """An API Gateway HTTP API payload v2.0 event, as API Gateway sends it to Lambda."""
    headers = {k.lower(): v for k, v in (headers or {}).items()}
    content_type = headers.get("content-type", "")
    is_text = not body or any(content_type.startswith(t) for t in TEXT_TYPES)
    if is_text:
        try:
            text_body = body.decode()
        except UnicodeDecodeError:
            # Not valid text whatever its content type says: API Gateway passes it base64-encoded.
            is_text = False
    now = datetime.now(UTC)
    query: dict[str, str] = {}
    for key, value in parse_qsl(query_string, keep_blank_values=True):
        # API Gateway joins repeated parameters with commas.
        query[key] = f"{query[key]},{value}" if key in query else value
    event: dict[str, Any] = {
        "version": "2.0",
        "routeKey": route_key,
        "rawPath": path,
        "rawQueryString": query_string,
        "headers": headers,
        "requestContext": {
            "accountId": "000000000000",
            "apiId": "local",
            "domainName": domain_name,
            "domainPrefix": domain_name.split(".")[0],
            "http": {
                "method": method.upper(),
                "path": path,
                "protocol": "HTTP/1.1",
                "sourceIp": source_ip,
                "userAgent": headers.get("user-agent", ""),
            },
            "requestId": str(uuid.uuid4()),
            "routeKey": route_key,
            "stage": "$default",
            "time": now.strftime("%d/%b/%Y:%H:%M:%S +0000"),
            "timeEpoch": int(now.timestamp() * 1000),
        },
        "isBase64Encoded": not is_text,
    }
    if "cookie" in headers:
        event["cookies"] = [c.strip() for c in headers.pop("cookie").split(";")]
    if query:
        event["queryStringParameters"] = query
    if path_parameters:
        event["pathParameters"] = path_parameters
    if body:
        event["body"] = text_body if is_text else base64.b64encode(body).decode()
    return event


def sqs_event(messages: list[dict[str, Any]], queue_arn: str) -> dict[str, Any]:
    """An SQS event from messages returned by ReceiveMessage (AttributeNames=All)."""
    region = queue_arn.split(":")[3]
    return {
        "Records": [
            {
                "messageId": m["MessageId"],
                "receiptHandle": m["ReceiptHandle"],
                "body": m["Body"],
                "attributes": m.get("Attributes", {}),
                "messageAttributes": m.get("MessageAttributes", {}),
                "md5OfBody": m["MD5OfBody"],
                "eventSource": "aws:sqs",
                "eventSourceARN": queue_arn,
                "awsRegion": region,
            }
            for m in messages
        ]
    }


def received_message(body: str, receive_count: int = 1) -> dict[str, Any]:
    """A message as ReceiveMessage (AttributeNames=All) returns it, for :func:`sqs_event`."""
    now_ms = str(int(time.time() * 1000))
    return {
        "MessageId": str(uuid.uuid4()),
        "ReceiptHandle": uuid.uuid4().hex,
        "MD5OfBody": hashlib.md5(body.encode()).hexdigest(),
        "Body": body,
        "Attributes": {
            "SenderId": "AIDAIENQZJOLO23YVJ4VO",
            "SentTimestamp": now_ms,
            "ApproximateReceiveCount": str(receive_count),
            "ApproximateFirstReceiveTimestamp": now_ms,
        },
    }


def eventbridge_event(
    detail_type: str, detail: dict[str, Any], *, source: str = EVENT_SOURCE
) -> dict[str, Any]:
    """An EventBridge event as a rule delivers it to its target."""
    return {
        "version": "0",
        "id": str(uuid.uuid4()),
        "detail-type": detail_type,
        "source": source,
        "account": ACCOUNT,
        "time": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "region": REGION,
        "resources": [],
        "detail": detail,
    }


def scheduled_event(rule_name: str) -> dict[str, Any]:
    """What an EventBridge schedule rule sends its target."""
    event = eventbridge_event("Scheduled Event", {}, source="aws.events")
    event["resources"] = [f"arn:aws:events:{REGION}:{ACCOUNT}:rule/{rule_name}"]
    return event


def s3_notification_record(
    bucket: str, key: str, size: int, event_name: str = "ObjectCreated:Post"
) -> dict[str, Any]:
    """One record of an S3 event notification; S3 URL-encodes the key (space → ``+``)."""
    return {
        "eventVersion": "2.1",
        "eventSource": "aws:s3",
        "awsRegion": REGION,
        "eventTime": datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z"),
        "eventName": event_name,
        "userIdentity": {"principalId": f"AWS:{ACCOUNT}"},
        "requestParameters": {"sourceIPAddress": "127.0.0.1"},
        "responseElements": {
            "x-amz-request-id": uuid.uuid4().hex[:16].upper(),
            "x-amz-id-2": base64.b64encode(uuid.uuid4().bytes).decode(),
        },
        "s3": {
            "s3SchemaVersion": "1.0",
            "configurationId": "local",
            "bucket": {
                "name": bucket,
                "ownerIdentity": {"principalId": ACCOUNT},
                "arn": f"arn:aws:s3:::{bucket}",
            },
            "object": {
                "key": quote_plus(key, safe="/"),
                "size": size,
                "eTag": hashlib.md5(key.encode()).hexdigest(),
                "sequencer": f"{time.time_ns():X}",
            },
        },
    }


def s3_notification(*records: dict[str, Any]) -> str:
    """The SQS message body S3 sends for ``records`` (see :func:`s3_notification_record`)."""
    return json.dumps({"Records": list(records)})
