"""Emoji faces through the local stack (issue 11's end-to-end figures); prints one JSON object.

    .venv/bin/python bench/emotion_bench.py [--tasks 10] [--frames 40] [--ranking-tasks 1000000]

The stack runs in its own process (``cheese run`` on a free port, PostgreSQL
when the machine has one, else SQLite); this process is the app:

- task: ``POST /v1/emoji/tasks`` on an analysed four-face photo → ``GET`` polled
  every 20 ms until ``done`` (the worker runs behind SQS in the stack);
- avatar: two members in one pool over the WebSocket API; one posts webcam
  frames (320×240 JPEG, two faces in turn so that every avatar differs), the
  other times ``avatar_updated`` from the start of the POST;
- ranking: the materialised counters of ``--ranking-tasks`` tasks (1,000 public
  templates over 365 days, seven expressions) are written straight into the
  stack's database, then ``GET /v1/emoji/ranking`` is timed per period. The
  ranking reads only those counters, never the tasks table.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import random
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
import httpx

from bench.common import free_port, log, percentile, scratch_postgres

EXPRESSIONS = ("angry", "disgust", "fear", "happy", "sad", "surprise", "neutral")
GOALS = {"task_done_visible_ms": 1000, "avatar_broadcast_p99_ms": 150, "ranking_p99_ms": 20}


def start_stack(data_dir: Path, database_url: str | None) -> tuple[subprocess.Popen, str]:
    port = free_port()
    env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "AWS_ENDPOINT_URL")}
    if database_url:
        env["DATABASE_URL"] = database_url
    proc = subprocess.Popen(
        [
            *(sys.executable, "-m", "cheese_local.cli", "run"),
            "--port",
            str(port),
            "--data-dir",
            str(data_dir),
        ],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=(data_dir / "server.log").open("w"),
    )
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 90
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"{base}/healthz", timeout=1).status_code == 200:
                return proc, base
        except httpx.HTTPError:
            time.sleep(0.2)
    proc.terminate()
    raise RuntimeError("the local stack did not start")


class App:
    def __init__(self, base: str, name: str) -> None:
        self.base = base
        self.http = httpx.Client(base_url=base, timeout=30)
        email = f"{name}-{uuid.uuid4().hex[:8]}@example.com"
        signed = self.http.post(
            "/v1/auth/signup",
            json={"email": email, "password": "correct horse battery", "display_name": name},
        ).json()
        self.token = signed["access_token"]
        self.http.headers["authorization"] = f"Bearer {self.token}"

    def upload_photo(self, data: bytes) -> str:
        created = self.http.post(
            "/v1/photos/uploads",
            json={
                "content_type": "image/jpeg",
                "size_bytes": len(data),
                "sha256": hashlib.sha256(data).hexdigest(),
            },
        ).json()
        post = created["upload"]
        httpx.post(post["url"], data=post["fields"], files={"file": ("p.jpg", data, "image/jpeg")})
        photo_id = created["photo_id"]
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            if self.http.get(f"/v1/photos/{photo_id}").json()["status"] == "analyzed":
                return photo_id
            time.sleep(0.2)
        raise RuntimeError("the photo was not analysed")


def bench_tasks(app: App, runs: int) -> dict[str, object]:
    from bench.ml_bench import compose_four_cut
    from cheese_ml.analysis import Analyzer
    from cheese_ml.images import encode_jpeg

    app.http.put("/v1/me/consent", json={"face_grouping": False, "expression_analysis": True})
    photo_id = app.upload_photo(encode_jpeg(compose_four_cut(Analyzer(threads=1)), 90))
    latencies, faces = [], 0
    for run in range(runs + 1):  # the first run warms the worker (template rendering)
        start = time.perf_counter()
        task_id = app.http.post(
            "/v1/emoji/tasks", json={"photo_id": photo_id, "template_id": "builtin-twemoji"}
        ).json()["task_id"]
        while True:
            task = app.http.get(f"/v1/emoji/tasks/{task_id}").json()
            if task["status"] in ("done", "failed"):
                break
            time.sleep(0.02)
        if task["status"] != "done":
            raise RuntimeError(f"task failed: {task}")
        faces = len(task["faces"])
        if run:
            latencies.append(time.perf_counter() - start)
        log(f"task {run}/{runs}: {1000 * (time.perf_counter() - start):.0f} ms")
    ms = [1000 * v for v in latencies]
    return {
        "runs": runs,
        "faces": faces,
        "done_visible_ms": {
            "p50": round(percentile(ms, 50), 1),
            "p95": round(percentile(ms, 95), 1),
            "max": round(max(ms), 1),
        },
    }


def webcam_frame(photo: str) -> bytes:
    import cv2

    from cheese_ml.analysis import default_analyzer
    from cheese_ml.fixtures import fixture_path
    from cheese_ml.images import decode_image, encode_jpeg

    rgb = decode_image(fixture_path(photo).read_bytes())
    (face,) = default_analyzer().analyze(rgb, embeddings=False, expressions=False)
    scale = 240 / (face.box.h * 2.5)
    small = cv2.resize(rgb, None, fx=scale, fy=scale, interpolation=cv2.INTER_AREA)
    cx = int((face.box.x + face.box.w / 2) * scale) + 400
    cy = int((face.box.y + face.box.h / 2) * scale) + 400
    padded = cv2.copyMakeBorder(small, 400, 400, 400, 400, cv2.BORDER_REFLECT)
    return encode_jpeg(padded[cy - 120 : cy + 120, cx - 160 : cx + 160], 85)


def bench_avatars(base: str, runs: int) -> dict[str, object]:
    from websockets.sync.client import connect

    watcher, sender = App(base, "watcher"), App(base, "sender")
    pool_id = watcher.http.post(
        "/v1/pools", json={"name": "Bench", "capacity": 10, "public": True}
    ).json()["pool_id"]
    ws_base = base.replace("http://", "ws://") + "/ws"
    sockets = [
        connect(f"{ws_base}?token={who.token}", open_timeout=10) for who in (watcher, sender)
    ]
    for sock in sockets:
        sock.send(json.dumps({"action": "enter", "pool_id": pool_id}))
        while json.loads(sock.recv(timeout=10)).get("type") != "entered":
            pass
    frames = [webcam_frame("0-f15-hao-ph.jpg"), webcam_frame("0-f1-su-ph.jpg")]
    received: dict[int, float] = {}
    stop = threading.Event()

    def listen() -> None:
        while not stop.is_set():
            try:
                event = json.loads(sockets[0].recv(timeout=0.5))
            except TimeoutError:
                continue
            except Exception:
                return
            if event.get("type") == "avatar_updated" and event.get("user_id") != watcher_id:
                received[len(received)] = time.perf_counter()

    watcher_id = watcher.http.get("/v1/auth/me").json()["id"]
    listener = threading.Thread(target=listen, daemon=True)
    listener.start()
    latencies = []
    for run in range(runs + 2):
        before = len(received)
        start = time.perf_counter()
        response = sender.http.post(
            f"/v1/pools/{pool_id}/avatar/frame",
            files={"frame": ("f.jpg", frames[run % 2], "image/jpeg")},
        )
        if response.status_code != 200 or not response.json()["updated"]:
            raise RuntimeError(f"frame refused: {response.status_code} {response.text}")
        deadline = time.monotonic() + 5
        while len(received) == before and time.monotonic() < deadline:
            time.sleep(0.001)
        if len(received) == before:
            raise RuntimeError("avatar_updated not received")
        if run >= 2:  # two warm-up frames (both templates' emoji rendered)
            latencies.append(received[before] - start)
    stop.set()
    for sock in sockets:
        sock.close()
    ms = [1000 * v for v in latencies]
    return {
        "frames": runs,
        "post_to_avatar_updated_ms": {
            "p50": round(percentile(ms, 50), 1),
            "p99": round(percentile(ms, 99), 1),
            "max": round(max(ms), 1),
        },
    }


def seed_ranking(database_url: str, tasks: int) -> None:
    """Counters as `tasks` done tasks leave them: 1,000 public templates (without an owner:
    as if their owners were erased), 365 days."""
    from sqlalchemy import create_engine, text

    from cheese_runtime.settings import normalise_database_url

    rng = random.Random(11)
    engine = create_engine(normalise_database_url(database_url))
    now = datetime.now(UTC)
    today = now.date()
    templates = [str(uuid.uuid4()) for _ in range(1000)]
    weights = [1 / (rank + 1) for rank in range(len(templates))]  # a few popular ones
    total = sum(weights)
    per_template = [max(1, round(tasks * w / total)) for w in weights]
    with engine.begin() as conn:
        conn.execute(
            text(
                "INSERT INTO emoji_templates (id, owner_id, builtin_set, name, public, status, "
                "failure_reason, attribution, use_count, created_at, updated_at) VALUES "
                "(:id, NULL, NULL, :name, TRUE, 'ready', NULL, NULL, :uses, :now, :now)"
            ),
            [
                {"id": t, "name": f"Bench {i}", "uses": n, "now": now}
                for i, (t, n) in enumerate(zip(templates, per_template, strict=True))
            ],
        )
        rows = []
        for template_id, uses in zip(templates, per_template, strict=True):
            days: dict[date, int] = {}
            for _ in range(min(uses, 365)):
                day = today - timedelta(days=rng.randrange(365))
                days[day] = days.get(day, 0) + 1
            scale = uses / max(1, sum(days.values()))
            rows += [
                {"day": d, "t": template_id, "uses": max(1, round(n * scale))}
                for d, n in days.items()
            ]
        conn.execute(
            text(
                "INSERT INTO emoji_template_use_daily (day, template_id, uses) "
                "VALUES (:day, :t, :uses)"
            ),
            rows,
        )
        faces_per_day = tasks * 4 // 365
        conn.execute(
            text(
                "INSERT INTO emoji_expression_daily (day, expression, faces) VALUES (:day, :e, :n)"
            ),
            [
                {"day": today - timedelta(days=d), "e": e, "n": rng.randrange(faces_per_day // 4)}
                for d in range(1, 365)
                for e in EXPRESSIONS
            ],
        )
        for e in EXPRESSIONS:
            conn.execute(
                text(
                    "INSERT INTO emoji_expression_totals (expression, faces) VALUES (:e, :n) "
                    "ON CONFLICT (expression) DO UPDATE SET faces = emoji_expression_totals.faces + :n"
                ),
                {"e": e, "n": tasks * 4 // 7},
            )
    engine.dispose()
    log(f"ranking counters of {tasks} tasks: {len(rows)} template-day rows")


def bench_ranking(app: App, runs: int) -> dict[str, object]:
    out: dict[str, object] = {}
    for period in ("day", "week", "all"):
        for _ in range(10):
            app.http.get("/v1/emoji/ranking", params={"period": period})
        ms = []
        for _ in range(runs):
            start = time.perf_counter()
            response = app.http.get("/v1/emoji/ranking", params={"period": period})
            ms.append(1000 * (time.perf_counter() - start))
            assert response.status_code == 200, response.text
        out[period] = {
            "p50_ms": round(percentile(ms, 50), 2),
            "p99_ms": round(percentile(ms, 99), 2),
            "templates": len(response.json()["templates"]),
        }
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--tasks", type=int, default=10)
    parser.add_argument("--frames", type=int, default=40)
    parser.add_argument("--ranking-tasks", type=int, default=1_000_000)
    parser.add_argument("--ranking-runs", type=int, default=200)
    args = parser.parse_args()
    with (
        tempfile.TemporaryDirectory(prefix="cheese-emotion-bench-") as scratch,
        scratch_postgres("cheese_emotion_bench") as database_url,
    ):
        data_dir = Path(scratch)
        proc, base = start_stack(data_dir, database_url)
        try:
            result: dict[str, object] = {
                "database": "postgresql" if database_url else "sqlite",
                "machine": {"cpus": os.cpu_count(), "load_average_1min": 0.0},
            }
            result["task"] = bench_tasks(App(base, "tasker"), args.tasks)
            result["avatar"] = bench_avatars(base, args.frames)
            seed_ranking(database_url or f"sqlite:///{data_dir / 'cheese.db'}", args.ranking_tasks)
            result["ranking"] = {
                "tasks_counted": args.ranking_tasks,
                **bench_ranking(App(base, "reader"), args.ranking_runs),
            }
            result["machine"] = {
                "cpus": os.cpu_count(),
                "load_average_1min": round(os.getloadavg()[0], 2),
            }
            result["goals"] = GOALS
        finally:
            proc.terminate()
            proc.wait(timeout=30)
    print(json.dumps(result))


if __name__ == "__main__":
    main()
