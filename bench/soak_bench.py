"""Soak: simulated app users against the local stack on PostgreSQL (issue 10, "Soak").

``cheese run`` in its own process on its own port with ``DATABASE_URL`` pointing at a scratch
PostgreSQL database. Each of ``--users`` (100) simulated app users, for ``--seconds`` (300):
signs up, gives consent, uploads 3 photos (presigned POST; one of them without a sha256, as the
app sometimes does), waits for them, reads people (list and one by id), asks for an anonymised
view until it is ready, enters a pool over WebSocket and sends a focus heartbeat every 5 s,
browsing (photos, people, smiles) between heartbeats until the time is up, then exits.

Afterwards every photo must settle (analyzed, failed with a reason, or duplicate) within
``--grace`` (300) seconds: a photo that answers 404 is lost, one still pending or processing
after the grace period is stuck (the analysis backlog of a loaded 2-core machine drains after
the run; how long that took is reported). Reports
5xx per route (goal 0), lost and stuck photos (goal 0) and p50/p99 per route.

``--users 10 --seconds 30`` for a quick check. Prints one JSON object; progress on stderr.
"""

from __future__ import annotations

import argparse
import asyncio
import hashlib
import json
import os
import random
import re
import subprocess
import sys
import tempfile
import time
import uuid
from collections import Counter, defaultdict
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from bench.common import ROOT, free_port, log, percentile, scratch_postgres

UPLOADS_PER_USER = 3
HEARTBEAT_SECONDS = 5.0
SETTLED = {"analyzed", "failed", "duplicate"}
SOURCES = ("obama2.jpg", "biden.jpg", "sample1.jpg", "sample3.jpg", "single_face.jpg")
ID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")


def photo_variants(n: int) -> list[bytes]:
    """n distinct JPEGs of real faces (one pixel and the quality differ), at most 800 px."""
    import cv2
    import numpy as np

    from cheese_ml.fixtures import fixture_path

    bases = []
    for name in SOURCES:
        image = cv2.imdecode(
            np.frombuffer(Path(fixture_path(name)).read_bytes(), np.uint8), cv2.IMREAD_COLOR
        )
        scale = min(1.0, 800 / max(image.shape[:2]))
        bases.append(cv2.resize(image, None, fx=scale, fy=scale, interpolation=cv2.INTER_AREA))
    variants = []
    for i in range(n):
        image = bases[i % len(bases)].copy()
        image[0, 0] = (i % 256, (i // 256) % 256, 7)
        variants.append(cv2.imencode(".jpg", image, [cv2.IMWRITE_JPEG_QUALITY, 88 + i % 8])[1])
    return [v.tobytes() for v in variants]


class Recorder:
    def __init__(self) -> None:
        self.latency: dict[str, list[float]] = defaultdict(list)
        self.statuses: dict[str, Counter[int]] = defaultdict(Counter)
        self.errors: Counter[str] = Counter()

    def record(self, route: str, status: int, seconds: float) -> None:
        self.latency[route].append(seconds)
        self.statuses[route][status] += 1

    def report(self) -> dict[str, Any]:
        routes = {}
        for route in sorted(self.latency):
            ms = [s * 1000 for s in self.latency[route]]
            routes[route] = {
                "n": len(ms),
                "p50_ms": round(percentile(ms, 50), 1),
                "p99_ms": round(percentile(ms, 99), 1),
                "status": dict(sorted(self.statuses[route].items())),
            }
        return routes

    def count_5xx(self) -> int:
        """Answers with a 5xx status from the server (599: no answer, counted apart)."""
        return sum(n for c in self.statuses.values() for s, n in c.items() if 500 <= s < 599)

    def count_no_answer(self) -> int:
        return sum(c[599] for c in self.statuses.values())


async def call(client: Any, rec: Recorder, method: str, path: str, **kwargs: Any) -> Any:
    route = f"{method} {ID.sub('{id}', path.split('?')[0])}"
    started = time.perf_counter()
    try:
        response = await client.request(method, path, **kwargs)
    except Exception as exc:  # a refused or dropped connection counts like a server error
        rec.record(route, 599, time.perf_counter() - started)
        rec.errors[type(exc).__name__] += 1
        return None
    rec.record(route, response.status_code, time.perf_counter() - started)
    return response


class User:
    def __init__(self, index: int, base: str, photos: list[bytes], rec: Recorder) -> None:
        self.index, self.base, self.photos, self.rec = index, base, photos, rec
        self.photo_ids: list[str] = []
        self.headers: dict[str, str] = {}
        self.has_me = False

    async def run(self, deadline: float) -> None:
        import httpx

        async with httpx.AsyncClient(base_url=self.base, timeout=60) as client:
            self.client = client
            await self.sign_up()
            if not self.headers:
                return
            # The pool session runs beside the rest, as a studying user's phone does.
            pool = asyncio.create_task(self.pool(deadline))
            for i, data in enumerate(self.photos):
                await self.upload(data, with_hash=i != 1)
            await self.wait_photos(deadline + 240)
            await self.people()
            await self.anonymised(deadline + 240)
            await pool

    async def sign_up(self) -> None:
        response = await call(
            self.client,
            self.rec,
            "POST",
            "/v1/auth/signup",
            json={
                "email": f"soak-{self.index}-{uuid.uuid4().hex[:8]}@example.com",
                "password": "correct horse battery staple",
                "display_name": f"Soak {self.index}",
            },
        )
        if response is None or response.status_code != 201:
            return
        self.headers = {"Authorization": f"Bearer {response.json()['access_token']}"}
        await call(
            self.client,
            self.rec,
            "PUT",
            "/v1/me/consent",
            headers=self.headers,
            json={"face_grouping": True, "expression_analysis": True},
        )

    async def upload(self, data: bytes, with_hash: bool) -> None:
        body: dict[str, Any] = {"content_type": "image/jpeg", "size_bytes": len(data)}
        if with_hash:
            body["sha256"] = hashlib.sha256(data).hexdigest()
        response = await call(
            self.client, self.rec, "POST", "/v1/photos/uploads", headers=self.headers, json=body
        )
        if response is None or response.status_code not in (200, 201):
            return
        created = response.json()
        self.photo_ids.append(created["photo_id"])
        if created["upload"] is None:
            return
        post = created["upload"]
        started = time.perf_counter()
        try:
            stored = await self.client.post(
                post["url"], data=post["fields"], files={"file": ("photo.jpg", data, "image/jpeg")}
            )
            status = stored.status_code
        except Exception as exc:
            status = 599
            self.rec.errors[type(exc).__name__] += 1
        self.rec.record("POST (S3 presigned upload)", status, time.perf_counter() - started)

    async def photo(self, photo_id: str) -> dict[str, Any] | None:
        response = await call(
            self.client, self.rec, "GET", f"/v1/photos/{photo_id}", headers=self.headers
        )
        return response.json() if response is not None and response.status_code == 200 else None

    async def wait_photos(self, until: float) -> None:
        pending = set(self.photo_ids)
        while pending and time.monotonic() < until:
            for photo_id in list(pending):
                photo = await self.photo(photo_id)
                if photo is not None and photo["status"] in SETTLED:
                    pending.discard(photo_id)
            if pending:
                await asyncio.sleep(3.0)  # the app polls every few seconds

    async def people(self) -> None:
        response = await call(self.client, self.rec, "GET", "/v1/people", headers=self.headers)
        if response is not None and response.status_code == 200:
            for person in response.json()["items"][:2]:
                await call(
                    self.client, self.rec, "GET", f"/v1/people/{person['id']}", headers=self.headers
                )
        # A person of one's own from the first face (as the app's "this is me" does), read by id.
        photo = await self.photo(self.photo_ids[0]) if self.photo_ids else None
        if photo and photo["faces"]:
            assigned = await call(
                self.client,
                self.rec,
                "POST",
                f"/v1/faces/{photo['faces'][0]['id']}/assign",
                headers=self.headers,
                json={"person_id": None},
            )
            if assigned is not None and assigned.status_code == 200:
                person_id = assigned.json()["id"]
                await call(
                    self.client, self.rec, "GET", f"/v1/people/{person_id}", headers=self.headers
                )
                marked = await call(
                    self.client,
                    self.rec,
                    "PATCH",
                    f"/v1/people/{person_id}",
                    headers=self.headers,
                    json={"is_me": True},
                )
                self.has_me = marked is not None and marked.status_code == 200

    async def anonymised(self, until: float) -> None:
        # "Everyone but me hidden": the view the app shares.
        for photo_id in self.photo_ids[:1] if self.has_me else []:
            while time.monotonic() < until:
                response = await call(
                    self.client,
                    self.rec,
                    "GET",
                    f"/v1/photos/{photo_id}/anonymised?keep=me&style=mosaic",
                    headers=self.headers,
                )
                if response is None or response.status_code != 202:
                    break
                await asyncio.sleep(2.0)  # its Retry-After

    async def pool(self, deadline: float) -> None:
        import websockets

        created = await call(
            self.client,
            self.rec,
            "POST",
            "/v1/pools",
            headers=self.headers,
            json={"name": f"Soak pool {self.index}", "capacity": 10, "public": True},
        )
        if created is None or created.status_code != 201:
            return
        pool_id = created.json()["pool_id"]
        token = self.headers["Authorization"].split()[1]
        url = self.base.replace("http://", "ws://") + f"/ws?token={token}"
        started = time.perf_counter()
        try:
            async with websockets.connect(url, open_timeout=30, ping_interval=None) as ws:
                self.rec.record("WS connect", 101, time.perf_counter() - started)
                await self.frame(ws, {"action": "enter", "pool_id": pool_id}, "entered")
                while time.monotonic() < deadline:
                    await self.frame(
                        ws,
                        {"action": "focus", "score": random.randint(40, 100), "pool_id": pool_id},
                        "focus_updated",
                    )
                    await self.browse()
                    await asyncio.sleep(HEARTBEAT_SECONDS * random.uniform(0.8, 1.2))
                await self.frame(ws, {"action": "exit"}, "member_left")
        except Exception as exc:
            self.rec.record("WS connect", 599, time.perf_counter() - started)
            self.rec.errors[f"ws {type(exc).__name__}"] += 1

    async def frame(self, ws: Any, frame: dict[str, Any], reply: str) -> None:
        started = time.perf_counter()
        await ws.send(json.dumps(frame))
        status = 200
        try:
            while True:
                answer = json.loads(await asyncio.wait_for(ws.recv(), timeout=30))
                if answer.get("type") == reply:
                    break
                if answer.get("type") == "error":
                    status = 400
                    self.rec.errors[f"ws {answer.get('code')}"] += 1
                    break
        except TimeoutError:
            status = 504
        self.rec.record(f"WS {frame['action']}", status, time.perf_counter() - started)

    async def browse(self) -> None:
        path = random.choice(["/v1/photos?limit=30", "/v1/people", "/v1/smiles/me"])
        await call(self.client, self.rec, "GET", path, headers=self.headers)


async def soak(base: str, users: int, seconds: float, grace: float) -> dict[str, Any]:
    rec = Recorder()
    log(f"making {users * UPLOADS_PER_USER} distinct photos")
    photos = photo_variants(users * UPLOADS_PER_USER)
    people = [
        User(i, base, photos[i * UPLOADS_PER_USER : (i + 1) * UPLOADS_PER_USER], rec)
        for i in range(users)
    ]
    started = time.monotonic()
    deadline = started + seconds

    async def progress() -> None:
        while True:
            await asyncio.sleep(15)
            done = sum(len(rec.latency[r]) for r in rec.latency)
            log(f"{time.monotonic() - started:5.0f} s: {done} requests, {rec.count_5xx()} × 5xx")

    reporter = asyncio.create_task(progress())

    # Users arrive over the first tenth of the run, not all in one instant.
    async def arrive(user: User) -> None:
        await asyncio.sleep(random.uniform(0, seconds / 10))
        await user.run(deadline)

    await asyncio.gather(*(arrive(u) for u in people))
    reporter.cancel()
    elapsed = time.monotonic() - started

    log(f"waiting up to {grace:.0f} s for every photo to settle")
    import httpx

    final: Counter[str] = Counter()
    lost: list[str] = []
    stuck: list[str] = []
    async with httpx.AsyncClient(base_url=base, timeout=60) as client:
        grace_end = time.monotonic() + grace
        while True:
            final, lost, stuck = Counter(), [], []
            for user in people:
                for photo_id in user.photo_ids:
                    response = await client.get(f"/v1/photos/{photo_id}", headers=user.headers)
                    if response.status_code == 404:
                        lost.append(photo_id)
                        continue
                    status = response.json()["status"]
                    final[status] += 1
                    if status not in SETTLED:
                        stuck.append(photo_id)
            if not stuck or time.monotonic() > grace_end:
                break
            log(f"{len(stuck)} photos not settled yet")
            await asyncio.sleep(5)
    settled_after = time.monotonic() - started - elapsed
    return {
        "users": users,
        "seconds": round(elapsed, 1),
        "requests": sum(len(v) for v in rec.latency.values()),
        "http_5xx": rec.count_5xx(),
        "no_answer": rec.count_no_answer(),
        "photos": len([p for u in people for p in u.photo_ids]),
        "photo_status": dict(final),
        "lost_photos": len(lost),
        "stuck_photos": len(stuck),
        "all_settled_seconds_after_run": round(settled_after, 1),
        "client_errors": dict(rec.errors),
        "routes": rec.report(),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--users", type=int, default=100)
    parser.add_argument("--seconds", type=float, default=300)
    parser.add_argument(
        "--grace", type=float, default=300, help="how long photos may take to settle after the run"
    )
    args = parser.parse_args()
    with scratch_postgres("cheese_soak_bench") as database_url, tempfile.TemporaryDirectory() as d:
        data_dir = Path(d)
        port = free_port()
        env = {k: v for k, v in os.environ.items() if k not in ("AWS_ENDPOINT_URL",)}
        if database_url:
            env["DATABASE_URL"] = database_url
        else:
            env.pop("DATABASE_URL", None)
        proc = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "cheese_local.cli",
                "run",
                "--port",
                str(port),
                "--data-dir",
                str(data_dir),
            ],
            cwd=ROOT,
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=(data_dir / "server.log").open("w"),
        )
        base = f"http://127.0.0.1:{port}"
        try:
            import httpx

            deadline = time.monotonic() + 120
            while time.monotonic() < deadline:
                try:
                    if httpx.get(f"{base}/healthz", timeout=1).status_code == 200:
                        break
                except httpx.HTTPError:
                    time.sleep(0.3)
            else:
                raise RuntimeError("the local stack did not start")
            log(f"stack up on {base} ({'PostgreSQL' if database_url else 'SQLite'})")
            result = asyncio.run(soak(base, args.users, args.seconds, args.grace))
            result["database"] = "postgresql" if database_url else "sqlite"
        finally:
            proc.terminate()
            try:
                proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                proc.kill()
    print(json.dumps(result))


if __name__ == "__main__":
    main()
