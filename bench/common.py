"""Helpers shared by the benchmarks."""

from __future__ import annotations

import os
import shutil
import socket
import statistics
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path
from typing import Any

import httpx

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_POSTGRES = "postgresql://postgres@127.0.0.1:5432/postgres"


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(q / 100 * (len(ordered) - 1))))]


def summary_ms(values: list[float]) -> dict[str, float]:
    ms = [v * 1000 for v in values]
    return {
        "n": len(ms),
        "p50_ms": round(percentile(ms, 50), 3),
        "p99_ms": round(percentile(ms, 99), 3),
        "mean_ms": round(statistics.fmean(ms), 3),
    }


def log(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


@contextmanager
def scratch_postgres(name: str) -> Iterator[str | None]:
    """A fresh database on the machine's PostgreSQL (None when there is none)."""
    admin = os.environ.get("BENCH_POSTGRES_ADMIN_URL", DEFAULT_POSTGRES)
    try:
        import psycopg

        with psycopg.connect(admin, autocommit=True, connect_timeout=3) as conn:
            conn.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
            conn.execute(f"CREATE DATABASE {name}")
    except Exception as exc:  # no server: the caller falls back to SQLite and says so
        log(f"no PostgreSQL ({exc}); falling back to SQLite")
        yield None
        return
    try:
        yield admin.rsplit("/", 1)[0] + f"/{name}"
    finally:
        with psycopg.connect(admin, autocommit=True) as conn:
            conn.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")


def libpq_dsn(url: str) -> str:
    """A SQLAlchemy URL (``postgresql+psycopg2://...``) as the libpq DSN psycopg connects with."""
    scheme, rest = url.split("://", 1)
    return scheme.split("+", 1)[0] + "://" + rest


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextmanager
def local_stack_process(
    data_dir: Path, env: dict[str, str] | None = None, cores: str | None = None
) -> Iterator[str]:
    """`cheese run` in its own process on a free port (pinned to `cores`, a taskset list,
    when given and taskset is there); yields its base URL."""
    port = free_port()
    # A fresh stack: nothing inherited from a stack this process ran before.
    inherited = {
        k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "AWS_ENDPOINT_URL")
    }
    command = [
        str(ROOT / ".venv" / "bin" / "cheese"),
        "run",
        "--port",
        str(port),
        "--data-dir",
        str(data_dir),
    ]
    if cores and shutil.which("taskset"):
        command = ["taskset", "-c", cores, *command]
    proc = subprocess.Popen(
        command,
        cwd=ROOT,
        env={**inherited, **(env or {})},
        stdout=subprocess.DEVNULL,
        stderr=(data_dir / "server.log").open("w"),
    )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            try:
                if httpx.get(f"{base}/healthz", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                time.sleep(0.2)
        else:
            raise RuntimeError("the local stack did not start")
        yield base
    finally:
        proc.terminate()
        proc.wait(timeout=20)


def copy_users(conn: Any, ids: list[str], label: str, now: datetime) -> None:
    """Active accounts with these ids (``<label><n>@bench.example``) by COPY: what the
    benchmarks' tables reference, without argon2 signups."""
    with conn.cursor().copy(
        "COPY users (id, email, email_normalized, display_name, password_hash, status, roles, "
        "created_at, updated_at) FROM STDIN"
    ) as copy:
        for n, uid in enumerate(ids):
            email = f"{label}{n}@bench.example"
            copy.write_row((uid, email, email, f"{label} {n}", "x", "active", "", now, now))
