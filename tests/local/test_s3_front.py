"""The local S3 endpoint refuses POST uploads that break their presigned policy, as S3 does,
and notifies the objects a crash left without their event."""

from __future__ import annotations

import base64
import json
import os
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from xml.etree import ElementTree

import boto3
import httpx
import pytest

from cheese_local.s3_front import NotificationTarget, PendingWrites, S3Front

JPEG = b"\xff\xd8\xff\xe0" + b"photo bytes " * 100


@pytest.fixture(scope="module")
def front(backend: Any) -> Iterator[httpx.Client]:
    """An HTTP client of the S3 front (served by uvicorn on loopback) before the suite's moto."""
    import threading

    import uvicorn

    from tests.conftest import free_port, wait_until

    port = free_port()
    server = uvicorn.Server(
        uvicorn.Config(
            S3Front(os.environ["AWS_ENDPOINT_URL"]),
            host="127.0.0.1",
            port=port,
            log_level="warning",
            lifespan="off",
        )
    )
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    assert wait_until(lambda: server.started, timeout=20)
    with httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=30) as client:
        yield client
    server.should_exit = True
    thread.join(timeout=10)


def presigned(key: str, size: int, content_type: str = "image/jpeg") -> dict[str, Any]:
    """The app's own presigned POST for a photo of ``size`` bytes (photos' upload spec)."""
    from cheese_runtime.storage import presigned_upload
    from functions.photos import storage

    upload = presigned_upload(storage.bucket(), storage.upload_spec(key, content_type, size))
    return {"url": upload.url, "fields": upload.fields}


def post(
    front: httpx.Client, fields: dict[str, str], data: bytes, content_type: str = "image/jpeg"
) -> httpx.Response:
    from cheese_runtime.settings import get_settings

    return front.post(
        f"/{get_settings().photos_bucket}",
        data=fields,
        files={"file": ("photo.jpg", data, content_type)},
    )


def error_of(response: httpx.Response) -> tuple[int, str, str]:
    root = ElementTree.fromstring(response.content)
    assert response.headers["content-type"].startswith("application/xml")
    return response.status_code, root.findtext("Code") or "", root.findtext("Message") or ""


def stored(key: str) -> bytes | None:
    from cheese_runtime.settings import get_settings

    s3 = boto3.client("s3")
    try:
        return s3.get_object(Bucket=get_settings().photos_bucket, Key=key)["Body"].read()
    except s3.exceptions.NoSuchKey:
        return None


def test_an_upload_that_keeps_to_its_policy_is_stored(front: httpx.Client) -> None:
    key = f"policy-test/{uuid.uuid4()}"
    fields = presigned(key, len(JPEG))["fields"]
    response = post(front, fields, JPEG)
    assert response.status_code == 204, response.text
    assert stored(key) == JPEG


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        ("bigger", (400, "EntityTooLarge")),
        ("smaller", (400, "EntityTooSmall")),
        ("content-type", (403, "AccessDenied")),
        ("key", (403, "AccessDenied")),
        ("extra-field", (403, "AccessDenied")),
        ("policy-rewritten", (403, "SignatureDoesNotMatch")),
        ("no-policy", (403, "AccessDenied")),
    ],
)
def test_an_upload_that_breaks_its_policy_is_refused_with_s3s_error(
    front: httpx.Client, change: str, expected: tuple[int, str]
) -> None:
    key = f"policy-test/{uuid.uuid4()}"
    fields = dict(presigned(key, len(JPEG))["fields"])
    data = JPEG
    if change == "bigger":
        data = JPEG + b"more"
    elif change == "smaller":
        data = JPEG[:-1]
    elif change == "content-type":
        fields["Content-Type"] = "image/png"
    elif change == "key":
        key = f"policy-test/{uuid.uuid4()}"
        fields["key"] = key
    elif change == "extra-field":
        fields["x-amz-meta-owner"] = "someone"
    elif change == "policy-rewritten":
        policy = json.loads(base64.b64decode(fields["policy"]))
        policy["conditions"] = [
            ["content-length-range", 0, 10**9] if isinstance(c, list) else c
            for c in policy["conditions"]
        ]
        fields["policy"] = base64.b64encode(json.dumps(policy).encode()).decode()
        data = JPEG * 3
    elif change == "no-policy":
        fields.pop("policy")
    status, code, message = error_of(post(front, fields, data))
    assert (status, code) == expected, message
    if change in ("content-type", "key"):
        assert message.startswith("Invalid according to Policy: Policy Condition failed")
    assert stored(key) is None


def test_an_expired_policy_is_refused(front: httpx.Client) -> None:
    from cheese_runtime.settings import get_settings

    key = f"policy-test/{uuid.uuid4()}"
    fields = boto3.client("s3").generate_presigned_post(
        Bucket=get_settings().photos_bucket,
        Key=key,
        Fields={"Content-Type": "image/jpeg"},
        Conditions=[{"Content-Type": "image/jpeg"}],
        ExpiresIn=-1,
    )["fields"]
    status, code, message = error_of(post(front, fields, JPEG))
    assert (status, code, message) == (
        403,
        "AccessDenied",
        "Invalid according to Policy: Policy expired.",
    )
    assert stored(key) is None


def test_a_write_interrupted_before_its_event_is_notified_at_start(
    backend: Any, tmp_path: Path
) -> None:
    from cheese_runtime.settings import get_settings

    sqs = boto3.client("sqs")
    queue_url = sqs.create_queue(QueueName=f"front-test-{uuid.uuid4().hex[:8]}")["QueueUrl"]
    bucket = get_settings().photos_bucket
    arrived, lost = f"notify-test/{uuid.uuid4()}", f"notify-test/{uuid.uuid4()}"
    boto3.client("s3").put_object(Bucket=bucket, Key=arrived, Body=JPEG)
    pending = PendingWrites(tmp_path / "pending.sqlite3")
    # As left by a crash: both writes forwarded, neither notified; only one object arrived.
    pending.add(bucket, arrived, "ObjectCreated:Post", "10.0.0.7")
    pending.add(bucket, lost, "ObjectCreated:Post", "10.0.0.7")
    target = NotificationTarget("photos-analysis", bucket, "notify-test/", queue_url)
    app = S3Front(os.environ["AWS_ENDPOINT_URL"], targets=[target], pending=pending)

    assert app.redrive_pending() == 1
    assert pending.all() == []
    messages = sqs.receive_message(QueueUrl=queue_url, MaxNumberOfMessages=10)["Messages"]
    assert len(messages) == 1
    (record,) = json.loads(messages[0]["Body"])["Records"]
    assert record["eventSource"] == "aws:s3"
    assert record["eventName"] == "ObjectCreated:Post"
    assert record["s3"]["bucket"]["name"] == bucket
    assert record["s3"]["object"]["key"] == arrived
    assert record["s3"]["object"]["size"] == len(JPEG)
    pending.close()
