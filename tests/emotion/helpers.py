"""Driving the emoji-face API as the app does: templates with seven uploads, tasks polled."""

from __future__ import annotations

import io

import cv2
import httpx
import numpy as np
from PIL import Image

from tests.conftest import TestUser, wait_until

EXPRESSIONS = ("angry", "disgust", "fear", "happy", "sad", "surprise", "neutral")


def emoji_png(expression: str, side: int = 256) -> bytes:
    """A drawn emoji: an opaque yellow disc with eyes and a mouth that differs per expression."""
    rgba = np.zeros((side, side, 4), dtype=np.uint8)
    centre, radius = side // 2, int(side * 0.45)
    cv2.circle(rgba, (centre, centre), radius, (255, 204, 77, 255), -1, cv2.LINE_AA)
    for dx in (-side // 6, side // 6):
        cv2.circle(rgba, (centre + dx, centre - side // 10), side // 20, (60, 40, 0, 255), -1)
    mouth = EXPRESSIONS.index(expression)
    cv2.ellipse(
        rgba,
        (centre, centre + side // 6),
        (side // 6, side // 14 + mouth * side // 60),
        0,
        0,
        180 if expression != "sad" else -180,
        (60, 40, 0, 255),
        side // 40,
    )
    buffer = io.BytesIO()
    Image.fromarray(rgba, "RGBA").save(buffer, format="PNG")
    return buffer.getvalue()


def post_upload(upload: dict, data: bytes, content_type: str = "image/png") -> int:
    fields = dict(upload["fields"]) | {"Content-Type": content_type}
    response = httpx.post(upload["url"], data=fields, files={"file": ("emoji", data, content_type)})
    return response.status_code


def make_template(
    user: TestUser,
    name: str = "Mine",
    public: bool = False,
    images: dict[str, bytes] | None = None,
) -> dict:
    created = user.call("POST", "/v1/emoji/templates", json_body={"name": name, "public": public})
    assert created.status == 201, created.body
    body = created.json()
    for upload in body["uploads"]:
        data = (images or {}).get(upload["expression"]) or emoji_png(upload["expression"])
        assert post_upload(upload, data) in (200, 201, 204)
    return body


def wait_template(user: TestUser, template_id: str, timeout: float = 60) -> dict:
    latest: dict = {}

    def settled() -> bool:
        latest.update(user.call("GET", f"/v1/emoji/templates/{template_id}").json())
        return latest.get("status") in ("ready", "failed")

    assert wait_until(settled, timeout=timeout, interval=0.2), f"template stuck: {latest}"
    return latest


def wait_task(user: TestUser, task_id: str, timeout: float = 90) -> dict:
    latest: dict = {}

    def settled() -> bool:
        response = user.call("GET", f"/v1/emoji/tasks/{task_id}")
        latest.clear()
        latest.update(response.json())
        if latest.get("status") in ("queued", "processing"):
            assert response.headers.get("retry-after") == "1"
        else:
            assert "retry-after" not in response.headers
        return latest.get("status") in ("done", "failed")

    assert wait_until(settled, timeout=timeout, interval=0.2), f"task stuck: {latest}"
    return latest
