"""The local stack's S3 endpoint: S3's browser-POST policy checks and bucket notifications,
in front of the server that stores the objects (s3rver in ``cheese run``).

Every S3 request of the stack goes through here (boto3's ``AWS_ENDPOINT_URL_S3``
and the presigned URLs the app gets point at it) and is forwarded unchanged,
Host header included, so the upstream checks the same SigV4 signatures. On the
way:

- **POST uploads** (``POST /{bucket}``, multipart form) are checked against
  their signed policy as S3 checks them: the policy's signature, its
  expiration, every condition (``eq``/exact, ``starts-with``,
  ``content-length-range``) and no form field outside the conditions. A
  refusal is S3's XML error: 403 ``AccessDenied`` ("Invalid according to
  Policy: ...") or ``SignatureDoesNotMatch``, 400 ``EntityTooSmall`` /
  ``EntityTooLarge``.
- **ObjectCreated notifications**: after the upstream stored an object
  (PUT, POST, copy, completed multipart upload) whose key matches a
  notification's prefix, an S3 event record is sent to its queue. The write is
  recorded as pending before it is forwarded and cleared once its event is
  queued, so one interrupted by a crash is notified at the next start if its
  object exists (at least once, as S3 delivers).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import sqlite3
import threading
import time
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import cache
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, quote_plus, unquote
from xml.sax.saxutils import escape

import anyio
import httpx
from starlette.requests import Request
from starlette.responses import Response

from cheese_local.sigv4 import local_credentials, post_policy_signature
from cheese_runtime.observability import logger

# Headers that belong to one hop, not to the message.
HOP_HEADERS = {"connection", "keep-alive", "transfer-encoding", "expect", "te"}
# Form fields S3 does not require a policy condition for.
UNCONDITIONED_FIELDS = {"policy", "x-amz-signature", "file", "awsaccesskeyid", "signature"}


@dataclass(frozen=True)
class NotificationTarget:
    """S3 ObjectCreated events of keys under ``prefix`` in ``bucket`` go to an SQS queue."""

    configuration_id: str
    bucket: str
    prefix: str
    queue_url: str


class PolicyRefused(Exception):
    def __init__(self, status: int, code: str, message: str) -> None:
        super().__init__(message)
        self.status, self.code, self.message = status, code, message


def s3_error(status: int, code: str, message: str, resource: str = "") -> Response:
    request_id = uuid.uuid4().hex[:16].upper()
    body = (
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        f"<Error><Code>{code}</Code><Message>{escape(message)}</Message>"
        f"<Resource>{escape(resource)}</Resource><RequestId>{request_id}</RequestId>"
        f"<HostId>{base64.b64encode(uuid.uuid4().bytes).decode()}</HostId></Error>"
    )
    return Response(body, status_code=status, media_type="application/xml")


# --- the browser POST policy --------------------------------------------------


def check_post_policy(bucket: str, fields: dict[str, str], file_size: int) -> None:
    """Raise PolicyRefused unless the form's policy is signed by us, current, and satisfied."""
    by_name = {name.lower(): value for name, value in fields.items()}
    policy_b64 = by_name.get("policy")
    if policy_b64 is None:
        raise PolicyRefused(403, "AccessDenied", "Access Denied")
    credentials = local_credentials()
    if "x-amz-signature" in by_name:  # SigV4
        scope = by_name.get("x-amz-credential", "")
        if by_name.get("x-amz-algorithm") != "AWS4-HMAC-SHA256" or scope.count("/") != 4:
            raise PolicyRefused(400, "InvalidRequest", "POST requires a valid SigV4 credential.")
        access_key, signature = scope.split("/")[0], by_name["x-amz-signature"]
        expected = post_policy_signature(credentials.secret_key, scope, policy_b64)
    else:  # SigV2, which botocore presigns with for endpoints outside AWS
        access_key, signature = by_name.get("awsaccesskeyid", ""), by_name.get("signature", "")
        expected = base64.b64encode(
            hmac.new(credentials.secret_key.encode(), policy_b64.encode(), hashlib.sha1).digest()
        ).decode()
    if not hmac.compare_digest(access_key, credentials.access_key):
        raise PolicyRefused(
            403,
            "InvalidAccessKeyId",
            "The AWS Access Key Id you provided does not exist in our records.",
        )
    if not hmac.compare_digest(expected, signature):
        raise PolicyRefused(
            403,
            "SignatureDoesNotMatch",
            "The request signature we calculated does not match the signature you provided.",
        )
    try:
        policy = json.loads(base64.b64decode(policy_b64, validate=True))
        expiration = datetime.fromisoformat(policy["expiration"])
        conditions = policy["conditions"]
    except (ValueError, KeyError, TypeError):
        raise PolicyRefused(400, "InvalidPolicyDocument", "Invalid Policy: malformed.") from None
    if expiration <= datetime.now(UTC):
        raise PolicyRefused(403, "AccessDenied", "Invalid according to Policy: Policy expired.")
    values = {**by_name, "bucket": bucket}
    covered = {"bucket"}
    for condition in conditions:
        if isinstance(condition, dict):
            ((name, wanted),) = condition.items()
            condition = ["eq", f"${name}", wanted]
        operator = str(condition[0]).lower()
        if operator == "content-length-range":
            low, high = int(condition[1]), int(condition[2])
            if file_size < low:
                raise PolicyRefused(
                    400,
                    "EntityTooSmall",
                    "Your proposed upload is smaller than the minimum allowed size",
                )
            if file_size > high:
                raise PolicyRefused(
                    400, "EntityTooLarge", "Your proposed upload exceeds the maximum allowed size"
                )
            continue
        name = str(condition[1]).lstrip("$").lower()
        covered.add(name)
        actual, wanted = values.get(name), str(condition[2])
        holds = (
            actual == wanted
            if operator == "eq"
            else (operator == "starts-with" and actual is not None and actual.startswith(wanted))
        )
        if not holds:
            raise PolicyRefused(
                403,
                "AccessDenied",
                "Invalid according to Policy: Policy Condition failed: "
                + json.dumps([operator, f"${condition[1].lstrip('$')}", wanted]),
            )
    extra = sorted(
        n
        for n in by_name
        if n not in covered | UNCONDITIONED_FIELDS and not n.startswith("x-ignore-")
    )
    if extra:
        raise PolicyRefused(
            403,
            "AccessDenied",
            f"Invalid according to Policy: Extra input fields: {', '.join(extra)}",
        )


# --- notifications ------------------------------------------------------------------------


class PendingWrites:
    """Object writes forwarded but not yet notified, in a SQLite file (survives a crash)."""

    def __init__(self, path: Path) -> None:
        self._lock = threading.Lock()
        self._db = sqlite3.connect(path, check_same_thread=False, isolation_level=None)
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute("PRAGMA synchronous=NORMAL")
        self._db.execute(
            "CREATE TABLE IF NOT EXISTS pending_writes (id TEXT PRIMARY KEY, bucket TEXT NOT NULL, "
            "object_key TEXT NOT NULL, event_name TEXT NOT NULL, source_ip TEXT NOT NULL)"
        )

    def add(self, bucket: str, key: str, event_name: str, source_ip: str) -> str:
        write_id = uuid.uuid4().hex
        with self._lock:
            self._db.execute(
                "INSERT INTO pending_writes VALUES (?, ?, ?, ?, ?)",
                (write_id, bucket, key, event_name, source_ip),
            )
        return write_id

    def done(self, write_id: str) -> None:
        with self._lock:
            self._db.execute("DELETE FROM pending_writes WHERE id = ?", (write_id,))

    def all(self) -> list[tuple[str, str, str, str, str]]:
        with self._lock:
            return self._db.execute("SELECT * FROM pending_writes ORDER BY rowid").fetchall()

    def close(self) -> None:
        with self._lock:
            self._db.close()


def object_created_event(
    target: NotificationTarget, key: str, size: int, etag: str, event_name: str, source_ip: str
) -> dict[str, Any]:
    """An S3 event notification message body, as S3 sends it to SQS (event version 2.1)."""
    now = datetime.now(UTC)
    return {
        "Records": [
            {
                "eventVersion": "2.1",
                "eventSource": "aws:s3",
                "awsRegion": "us-east-1",
                "eventTime": now.isoformat(timespec="milliseconds").replace("+00:00", "Z"),
                "eventName": event_name,
                "userIdentity": {"principalId": "AWS:local"},
                "requestParameters": {"sourceIPAddress": source_ip},
                "responseElements": {
                    "x-amz-request-id": uuid.uuid4().hex[:16].upper(),
                    "x-amz-id-2": base64.b64encode(uuid.uuid4().bytes).decode(),
                },
                "s3": {
                    "s3SchemaVersion": "1.0",
                    "configurationId": target.configuration_id,
                    "bucket": {
                        "name": target.bucket,
                        "ownerIdentity": {"principalId": "local"},
                        "arn": f"arn:aws:s3:::{target.bucket}",
                    },
                    "object": {
                        # S3 URL-encodes keys in events (spaces as "+").
                        "key": quote_plus(key, safe="/"),
                        "size": size,
                        "eTag": etag.strip('"'),
                        "sequencer": f"{time.time_ns():X}",
                    },
                },
            }
        ]
    }


class S3Front:
    """An ASGI app: forwards every request to ``upstream`` with the checks and events above."""

    def __init__(
        self,
        upstream: str,
        targets: list[NotificationTarget] | None = None,
        pending: PendingWrites | None = None,
    ) -> None:
        self.upstream = upstream.rstrip("/")
        self.targets = targets or []
        self.pending = pending
        self._client: httpx.AsyncClient | None = None

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] == "lifespan":
            message = await receive()
            if message["type"] == "lifespan.startup":
                await send({"type": "lifespan.startup.complete"})
                message = await receive()
            if self._client is not None:
                await self._client.aclose()
            await send({"type": "lifespan.shutdown.complete"})
            return
        response = await self.handle(Request(scope, receive))
        await response(scope, receive, send)

    async def handle(self, request: Request) -> Response:
        body = await request.body()
        path = request.scope.get("raw_path", request.url.path.encode()).decode()
        segments = [s for s in path.split("/") if s]
        query = parse_qs(request.url.query, keep_blank_values=True)
        bucket = segments[0] if segments else ""
        key = "/".join(segments[1:])
        event_name = None
        if request.method == "POST" and len(segments) == 1 and not request.url.query:
            form = await request.form()
            upload = form.get("file")
            if upload is None or isinstance(upload, str):
                return s3_error(
                    400, "InvalidArgument", "POST requires exactly one file upload per request."
                )
            size = len(await upload.read())
            fields = {k: v for k, v in form.multi_items() if isinstance(v, str)}
            try:
                check_post_policy(bucket, fields, size)
            except PolicyRefused as refused:
                logger.warning("S3 POST refused", extra={"code": refused.code, "bucket": bucket})
                return s3_error(refused.status, refused.code, refused.message, f"/{bucket}")
            key, event_name = fields.get("key", ""), "ObjectCreated:Post"
        elif request.method == "PUT" and key and "uploadId" not in query:
            copy = "x-amz-copy-source" in request.headers
            event_name = "ObjectCreated:Copy" if copy else "ObjectCreated:Put"
        elif request.method == "POST" and key and "uploadId" in query:
            event_name = "ObjectCreated:CompleteMultipartUpload"
        key = unquote(key) if event_name != "ObjectCreated:Post" else key
        targets = [t for t in self.targets if t.bucket == bucket and key.startswith(t.prefix)]
        source_ip = request.client.host if request.client else "127.0.0.1"
        write_id = None
        if event_name and targets and self.pending is not None:
            write_id = self.pending.add(bucket, key, event_name, source_ip)
        status, upstream_headers, content = await self._forward(request, path, body)
        if event_name and targets and 200 <= status < 300:
            await self._notify(targets, key, event_name, source_ip)
        if write_id is not None and self.pending is not None:
            self.pending.done(write_id)
        # The upstream's bytes and headers as they are: Content-Length of a HEAD, Content-Encoding.
        headers = {k: v for k, v in upstream_headers.items() if k.lower() not in HOP_HEADERS}
        return Response(content, status_code=status, headers=headers)

    async def _forward(
        self, request: Request, path: str, body: bytes
    ) -> tuple[int, httpx.Headers, bytes]:
        if self._client is None:
            self._client = httpx.AsyncClient(timeout=60)
        url = self.upstream + path + (f"?{request.url.query}" if request.url.query else "")
        headers = [
            (k, v)
            for k, v in request.headers.items()
            if k.lower() not in HOP_HEADERS and k.lower() != "content-length"
        ]
        async with self._client.stream(request.method, url, headers=headers, content=body) as got:
            content = b"".join([chunk async for chunk in got.aiter_raw()])
            return got.status_code, got.headers, content

    async def _notify(
        self, targets: list[NotificationTarget], key: str, event_name: str, source_ip: str
    ) -> None:
        await anyio.to_thread.run_sync(self.notify, targets, key, event_name, source_ip)

    def notify(
        self, targets: list[NotificationTarget], key: str, event_name: str, source_ip: str
    ) -> bool:
        """Queue the event of an object the upstream holds; False when the object is not there."""
        from cheese_runtime import aws

        s3 = upstream_client(self.upstream)
        try:
            head = s3.head_object(Bucket=targets[0].bucket, Key=key)
        except s3.exceptions.ClientError:
            return False
        sqs = aws.client("sqs")
        for target in targets:
            event = object_created_event(
                target, key, head["ContentLength"], head.get("ETag", ""), event_name, source_ip
            )
            sqs.send_message(QueueUrl=target.queue_url, MessageBody=json.dumps(event))
        return True

    def redrive_pending(self) -> int:
        """At start: notify the writes a crash interrupted whose object did arrive."""
        if self.pending is None:
            return 0
        notified = 0
        for write_id, bucket, key, event_name, source_ip in self.pending.all():
            targets = [t for t in self.targets if t.bucket == bucket and key.startswith(t.prefix)]
            if targets and self.notify(targets, key, event_name, source_ip):
                notified += 1
            self.pending.done(write_id)
        return notified


@cache
def upstream_client(endpoint: str) -> Any:
    """A boto3 S3 client talking to the storing server directly (not through the front)."""
    import boto3

    return boto3.session.Session().client("s3", endpoint_url=endpoint, region_name="us-east-1")
