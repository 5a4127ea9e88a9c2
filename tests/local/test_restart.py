"""`cheese run` keeps what a user saw across a kill -9 of the whole stack (issue 10, item 10)."""

from __future__ import annotations

import hashlib
import os
import signal
import stat
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx

from tests.conftest import free_port, wait_until
from tests.photos.helpers import photo_bytes

PASSWORD = "correct horse battery staple"


def stack_environment() -> dict[str, str]:
    """This process's environment without the test suite's stack (its endpoints, data, database)."""
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("AWS_ENDPOINT_URL", "CHEESE_")) and k != "DATABASE_URL"
    }
    env["PYTHONPATH"] = os.pathsep.join(p for p in sys.path if p)
    return env


@contextmanager
def cheese_run(data_dir: Path, port: int, s3_port: int) -> Iterator[subprocess.Popen]:
    log = (data_dir.parent / "stack.log").open("a")
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "cheese_local.cli",
            "run",
            "--port",
            str(port),
            "--s3-port",
            str(s3_port),
            "--data-dir",
            str(data_dir),
        ],
        env=stack_environment(),
        stdout=log,
        stderr=log,
        start_new_session=True,  # its own process group: s3rver included
    )
    try:
        assert wait_until(lambda: healthy(port), timeout=120, interval=0.5), "no /healthz"
        yield process
    finally:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGTERM)
            process.wait(timeout=30)
        log.close()


def healthy(port: int) -> bool:
    try:
        return httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=2).status_code == 200
    except httpx.HTTPError:
        return False


def kill_the_whole_stack(process: subprocess.Popen) -> None:
    os.killpg(process.pid, signal.SIGKILL)
    process.wait(timeout=30)


def test_a_user_finds_everything_after_kill_9_and_restart(tmp_path: Path) -> None:
    data_dir, port, s3_port = tmp_path / "data", free_port(), free_port()
    data = photo_bytes("sample1.jpg")
    email = "restart@example.com"
    with cheese_run(data_dir, port, s3_port) as first:
        api = httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=60)
        signup = api.post(
            "/v1/auth/signup", json={"email": email, "password": PASSWORD, "display_name": "Ann"}
        )
        assert signup.status_code == 201, signup.text
        bearer = {"Authorization": f"Bearer {signup.json()['access_token']}"}
        consent = {"face_grouping": True, "expression_analysis": True}
        assert api.put("/v1/me/consent", json=consent, headers=bearer).status_code == 200
        created = api.post(
            "/v1/photos/uploads",
            json={"content_type": "image/jpeg", "size_bytes": len(data)},
            headers=bearer,
        ).json()
        upload = created["upload"]
        assert upload["url"].startswith(f"http://127.0.0.1:{s3_port}/")
        posted = httpx.post(
            upload["url"], data=upload["fields"], files={"file": ("p.jpg", data, "image/jpeg")}
        )
        assert posted.status_code == 204, posted.text
        photo_id = created["photo_id"]

        def analyzed() -> bool:
            return api.get(f"/v1/photos/{photo_id}", headers=bearer).json()["status"] == "analyzed"

        assert wait_until(analyzed, timeout=180, interval=0.5)
        before = api.get(f"/v1/photos/{photo_id}", headers=bearer).json()
        pool = api.post("/v1/pools", json={"name": "Study hall", "capacity": 4}, headers=bearer)
        assert pool.status_code == 201, pool.text
        pool_id = pool.json()["pool_id"]
        charities = api.get("/v1/charities", headers=bearer).json()["items"]
        assert len(charities) == 3  # the local stack's demo charities
        kill_the_whole_stack(first)
    assert not healthy(port)

    with cheese_run(data_dir, port, s3_port):
        api = httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=60)
        login = api.post("/v1/auth/login", json={"email": email, "password": PASSWORD})
        assert login.status_code == 200, login.text
        bearer = {"Authorization": f"Bearer {login.json()['access_token']}"}
        after = api.get(f"/v1/photos/{photo_id}", headers=bearer).json()
        assert after["status"] == "analyzed"
        assert [f["id"] for f in after["faces"]] == [f["id"] for f in before["faces"]]
        image = httpx.get(after["image_url"])
        assert image.status_code == 200
        assert hashlib.sha256(image.content).digest() == hashlib.sha256(data).digest()
        assert httpx.get(after["thumbnail_url"]).status_code == 200
        assert api.get(f"/v1/pools/{pool_id}", headers=bearer).json()["name"] == "Study hall"
        assert api.get("/v1/charities", headers=bearer).json()["items"] == charities

    # Item 12: nothing in the data directory, emulators' files included, is readable by others.
    exposed = [
        str(p.relative_to(data_dir))
        for p in [data_dir, *data_dir.rglob("*")]
        if stat.S_IMODE(p.lstat().st_mode) & 0o077 and not p.is_symlink()
    ]
    assert exposed == []
