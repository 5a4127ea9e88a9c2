"""Crash figure: kill -9 the local stack in the middle of a burst of 30 uploads, restart it.

Goal (issue 10): every photo ends ``analyzed`` exactly once (one set of faces)
and every image URL answers 200.

One user asks for 30 presigned uploads (30 distinct photos made from the real
test photos), then posts them to S3 as an app uploading a gallery does (a new
upload every 0.25 s, up to four at a time); when half of them have been
acknowledged, with analysis running and uploads in flight, the whole process group of ``cheese run`` (s3rver
included) gets SIGKILL. The stack is started again on the same data
directory and ports, and the client does what the app does: it re-posts every
upload that got no answer, with the presigned POST it already has. Then it
waits for all 30 photos to settle and checks each: ``analyzed``, no face
twice (a second analysis that added faces instead of replacing them would
repeat boxes), the original (byte for byte) and the thumbnail answering 200.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import signal
import sqlite3
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from bench.common import ROOT, free_port, log

UPLOADS = 30
KILL_AFTER_ACKNOWLEDGED = 15
CONCURRENCY = 4
# An app uploading a gallery: a new upload starts every this many seconds.
PACE_SECONDS = 0.25
SETTLE_TIMEOUT_SECONDS = 900
PASSWORD = "correct horse battery staple"
FACE_PHOTOS = (
    "sample1.jpg",
    "sample2.jpg",
    "sample3.jpg",
    "sample4.jpg",
    "sample5.jpg",
    "sample6.jpg",
    "obama.jpg",
    "obama2.jpg",
    "obama3.jpg",
    "biden.jpg",
    "single_face.jpg",
    "multi_face.jpg",
    "0-f1-su-ph.jpg",
    "0-f15-hao-ph.jpg",
    "15-f13-anc-ph.jpg",
)


def distinct_photos(count: int) -> list[bytes]:
    """``count`` different JPEGs: the real photos, each cropped by its own margin."""
    import cv2

    from cheese_ml.fixtures import fixture_path

    photos = []
    for i in range(count):
        bgr = cv2.imread(str(fixture_path(FACE_PHOTOS[i % len(FACE_PHOTOS)])))
        margin = 2 * (i // len(FACE_PHOTOS) + 1)
        ok, encoded = cv2.imencode(
            ".jpg", bgr[margin:-margin, margin:-margin], [cv2.IMWRITE_JPEG_QUALITY, 92]
        )
        assert ok
        photos.append(encoded.tobytes())
    assert len({hashlib.sha256(p).digest() for p in photos}) == count
    return photos


class Stack:
    """``cheese run`` in its own process group, on fixed ports and one data directory."""

    def __init__(self, data_dir: Path) -> None:
        self.data_dir = data_dir
        self.port, self.s3_port = free_port(), free_port()
        self.log_path = data_dir.parent / "stack.log"
        self.process: subprocess.Popen | None = None

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> float:
        env = {
            k: v
            for k, v in os.environ.items()
            if not k.startswith(("AWS_ENDPOINT_URL", "CHEESE_")) and k != "DATABASE_URL"
        }
        started = time.monotonic()
        with self.log_path.open("a") as log_file:
            self.process = subprocess.Popen(
                [
                    sys.executable,
                    "-m",
                    "cheese_local.cli",
                    "run",
                    "--port",
                    str(self.port),
                    "--s3-port",
                    str(self.s3_port),
                    "--data-dir",
                    str(self.data_dir),
                ],
                cwd=ROOT,
                env=env,
                stdout=log_file,
                stderr=log_file,
                start_new_session=True,
            )
        deadline = started + 120
        while time.monotonic() < deadline:
            try:
                if httpx.get(f"{self.base}/healthz", timeout=1).status_code == 200:
                    return time.monotonic() - started
            except httpx.HTTPError:
                time.sleep(0.2)
        raise RuntimeError(f"the local stack did not start (see {self.log_path})")

    def kill_9(self) -> None:
        assert self.process is not None
        os.killpg(self.process.pid, signal.SIGKILL)
        self.process.wait(timeout=30)

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGTERM)
            self.process.wait(timeout=30)

    def restored(self) -> dict[str, int]:
        lines = re.findall(
            r"Restored\s+(\d+) queued messages, (\d+) DynamoDB items, (\d+) interrupted",
            self.log_path.read_text(),
        )
        messages, items, notifications = (int(n) for n in lines[-1])
        return {
            "messages": messages,
            "dynamodb_items": items,
            "upload_notifications": notifications,
        }


def post_upload(upload: dict, data: bytes) -> bool:
    try:
        response = httpx.post(
            upload["url"],
            data=upload["fields"],
            files={"file": ("photo.jpg", data, "image/jpeg")},
            timeout=60,
        )
    except httpx.HTTPError:
        return False
    return response.status_code == 204


def main() -> int:
    photos = distinct_photos(UPLOADS)
    with tempfile.TemporaryDirectory(prefix="cheese-crash-") as tmp:
        stack = Stack(Path(tmp) / "data")
        try:
            stack.start()
            api = httpx.Client(base_url=stack.base, timeout=60)
            email = f"crash-{uuid.uuid4().hex[:8]}@example.com"
            signup = api.post(
                "/v1/auth/signup",
                json={"email": email, "password": PASSWORD, "display_name": "Crash"},
            )
            bearer = {"Authorization": f"Bearer {signup.json()['access_token']}"}
            api.put(
                "/v1/me/consent",
                json={"face_grouping": True, "expression_analysis": True},
                headers=bearer,
            ).raise_for_status()
            slots = []
            for data in photos:
                created = api.post(
                    "/v1/photos/uploads",
                    json={"content_type": "image/jpeg", "size_bytes": len(data)},
                    headers=bearer,
                )
                created.raise_for_status()
                slots.append(created.json())

            log(f"burst of {UPLOADS} uploads; kill -9 after {KILL_AFTER_ACKNOWLEDGED} acknowledged")
            acknowledged: set[int] = set()
            lock, enough = threading.Lock(), threading.Event()

            def upload(i: int) -> None:
                if enough.is_set():
                    return
                if post_upload(slots[i]["upload"], photos[i]):
                    with lock:
                        acknowledged.add(i)
                        if len(acknowledged) >= KILL_AFTER_ACKNOWLEDGED:
                            enough.set()

            started: set[int] = set()
            with ThreadPoolExecutor(CONCURRENCY) as pool:
                futures = []
                for i in range(UPLOADS):
                    if enough.wait(PACE_SECONDS):
                        break
                    started.add(i)
                    futures.append(pool.submit(upload, i))
                enough.wait(timeout=300)
                stack.kill_9()
                for future in futures:
                    future.result()
            acknowledged_before_kill = sorted(acknowledged)
            in_flight_at_kill = len(started) - len(acknowledged_before_kill)
            with sqlite3.connect(stack.data_dir / "cheese.db") as db:
                analyzed_before_kill = db.execute(
                    "SELECT count(*) FROM photos WHERE status = 'analyzed'"
                ).fetchone()[0]
            log(f"killed with {len(acknowledged_before_kill)} uploads acknowledged")

            restart_seconds = stack.start()
            restored = stack.restored()
            retried = [i for i in range(UPLOADS) if i not in acknowledged_before_kill]
            retry_failures = [i for i in retried if not post_upload(slots[i]["upload"], photos[i])]
            log(f"restarted in {restart_seconds:.1f} s; re-posted {len(retried)} uploads")

            login = api.post("/v1/auth/login", json={"email": email, "password": PASSWORD})
            bearer = {"Authorization": f"Bearer {login.json()['access_token']}"}
            settle_started = time.monotonic()
            latest: dict[str, dict] = {}
            while time.monotonic() - settle_started < SETTLE_TIMEOUT_SECONDS:
                for slot in slots:
                    photo_id = slot["photo_id"]
                    if latest.get(photo_id, {}).get("status") not in ("analyzed", "failed"):
                        latest[photo_id] = api.get(f"/v1/photos/{photo_id}", headers=bearer).json()
                if all(p.get("status") in ("analyzed", "failed") for p in latest.values()):
                    break
                time.sleep(1)
            settle_seconds = time.monotonic() - settle_started

            analyzed = failed = stuck = twice = images_ok = thumbnails_ok = 0
            faces = 0
            for i, slot in enumerate(slots):
                photo = api.get(f"/v1/photos/{slot['photo_id']}", headers=bearer).json()
                status = photo["status"]
                analyzed += status == "analyzed"
                failed += status == "failed"
                stuck += status not in ("analyzed", "failed")
                boxes = [tuple(sorted(f["box"].items())) for f in photo.get("faces", [])]
                faces += len(boxes)
                twice += len(boxes) != len(set(boxes))
                if photo.get("image_url"):
                    image = httpx.get(photo["image_url"], timeout=30)
                    images_ok += image.status_code == 200 and image.content == photos[i]
                if photo.get("thumbnail_url"):
                    thumbnails_ok += (
                        httpx.get(photo["thumbnail_url"], timeout=30).status_code == 200
                    )
        finally:
            stack.stop()

    load = os.getloadavg()
    result = {
        "figure": "crash",
        "goal": "kill -9 mid-burst of 30 uploads, restart: every photo analyzed once, every image URL 200",
        "uploads": UPLOADS,
        "acknowledged_before_kill": len(acknowledged_before_kill),
        "in_flight_at_kill": in_flight_at_kill,
        "analyzed_before_kill": analyzed_before_kill,
        "restored_at_restart": restored,
        "restart_seconds": round(restart_seconds, 2),
        "reposted_after_restart": len(retried),
        "repost_failures": len(retry_failures),
        "settle_seconds_after_restart": round(settle_seconds, 1),
        "analyzed": analyzed,
        "failed": failed,
        "stuck": stuck,
        "photos_with_a_face_twice": twice,
        "faces": faces,
        "image_urls_200_same_bytes": images_ok,
        "thumbnail_urls_200": thumbnails_ok,
        "goal_met": analyzed == UPLOADS and twice == 0 and images_ok == UPLOADS,
        "environment": {"cpus": os.cpu_count(), "load_average_at_end": [round(x, 1) for x in load]},
    }
    print(json.dumps(result))
    return 0 if result["goal_met"] else 1


if __name__ == "__main__":
    sys.exit(main())
