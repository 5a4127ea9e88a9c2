"""Driving the photos API as the app does: presigned upload, then polling."""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Any

import httpx

from tests.conftest import TestUser, wait_until


def photo_bytes(name: str) -> bytes:
    from cheese_ml.fixtures import fixture_path

    return Path(fixture_path(name)).read_bytes()


def upload(user: TestUser, data: bytes, content_type: str = "image/jpeg") -> str:
    created = user.call(
        "POST",
        "/v1/photos/uploads",
        json_body={
            "content_type": content_type,
            "size_bytes": len(data),
            "sha256": hashlib.sha256(data).hexdigest(),
        },
    )
    assert created.status in (200, 201), created.body
    body = created.json()
    if body["upload"] is not None:
        post = body["upload"]
        response = httpx.post(
            post["url"], data=post["fields"], files={"file": ("photo", data, content_type)}
        )
        assert response.status_code in (200, 201, 204), response.text
    return body["photo_id"]


def wait_status(
    user: TestUser,
    photo_id: str,
    statuses: tuple[str, ...] = ("analyzed", "failed"),
    timeout: float = 90,
) -> dict:
    latest: dict = {}

    def done() -> bool:
        latest.update(user.call("GET", f"/v1/photos/{photo_id}").json())
        return latest.get("status") in statuses

    assert wait_until(done, timeout=timeout, interval=0.3), f"photo stuck in {latest.get('status')}"
    return latest


def consent(user: TestUser, face_grouping: bool = True, expression_analysis: bool = True) -> None:
    response = user.call(
        "PUT",
        "/v1/me/consent",
        json_body={"face_grouping": face_grouping, "expression_analysis": expression_analysis},
    )
    assert response.status == 200, response.body


def multipart(parts: list[tuple[str, str | None, bytes]]) -> tuple[bytes, dict[str, str]]:
    """A multipart/form-data body of (field, filename or None for a plain field, content)."""
    import uuid

    boundary = uuid.uuid4().hex
    body = b""
    for field, filename, content in parts:
        disposition = f'form-data; name="{field}"' + (
            f'; filename="{filename}"' if filename else ""
        )
        kind = "Content-Type: image/jpeg\r\n" if filename else ""
        body += f"--{boundary}\r\nContent-Disposition: {disposition}\r\n{kind}\r\n".encode()
        body += content + b"\r\n"
    body += f"--{boundary}--\r\n".encode()
    return body, {"content-type": f"multipart/form-data; boundary={boundary}"}


def register_person(user: TestUser, names: list[str], name: str | None = None) -> Any:
    """POST /v1/people with the named fixture photos."""
    parts: list[tuple[str, str | None, bytes]] = [
        ("photos", photo_name, photo_bytes(photo_name)) for photo_name in names
    ]
    if name is not None:
        parts.append(("name", None, name.encode()))
    body, headers = multipart(parts)
    return user.call("POST", "/v1/people", body=body, headers=headers)
