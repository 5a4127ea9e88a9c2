"""Test harness shared by every suite.

One backend per session, built exactly as the local stack builds it: moto's
server for AWS, the database migrated by Alembic (PostgreSQL when
``TEST_DATABASE_URL`` is set, else a SQLite file), the resources created from
``cheese_runtime.resources``. Handlers are invoked with real event shapes.
"""

from __future__ import annotations

import json
import os
import socket
import threading
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

os.environ.update(
    {
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_DEFAULT_REGION": "us-east-1",
        "POWERTOOLS_TRACE_DISABLED": "true",
        "POWERTOOLS_METRICS_DISABLED": "true",
        "POWERTOOLS_LOG_LEVEL": "WARNING",
    }
)

DB_REPORT: dict[str, Any] = {"backend": None, "passed": 0, "failed": 0, "skipped": 0}


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "database: needs the relational database")


def _reset_postgres(url: str) -> None:
    from sqlalchemy import create_engine, text

    from cheese_runtime.settings import normalise_database_url

    engine = create_engine(normalise_database_url(url))
    with engine.begin() as conn:
        conn.execute(text("DROP SCHEMA IF EXISTS public CASCADE"))
        conn.execute(text("CREATE SCHEMA public"))
    engine.dispose()


@pytest.fixture(scope="session")
def backend(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    """The local stack's backend (moto, database, resources, SQS workers), without HTTP."""
    from cheese_local.stack import LocalStack

    url = os.environ.get("TEST_DATABASE_URL")
    if url:
        _reset_postgres(url)
    stack = LocalStack(data_dir=tmp_path_factory.mktemp("cheese-data"), database_url=url)
    settings = stack.start()
    DB_REPORT["backend"] = settings.sqlalchemy_url.split(":", 1)[0]
    yield stack
    stack.stop()


@pytest.fixture
def db(backend: Any) -> Any:
    """Marks a test as a database test (counted in the CI report)."""
    return backend


DATABASE_FIXTURES = {"db", "backend", "make_user", "http_base_url"}


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    for item in items:
        if DATABASE_FIXTURES & set(getattr(item, "fixturenames", ())):
            item.add_marker("database")


def pytest_runtest_logreport(report: pytest.TestReport) -> None:
    if "database" not in report.keywords:
        return
    if report.when == "call" or (report.when == "setup" and report.outcome != "passed"):
        DB_REPORT[report.outcome] += 1


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    path = os.environ.get("CHEESE_DB_REPORT")
    if path:
        Path(path).write_text(json.dumps(DB_REPORT))


# --- invoking handlers --------------------------------------------------------


@dataclass
class ApiResponse:
    status: int
    headers: dict[str, str]
    body: bytes

    def json(self) -> Any:
        return json.loads(self.body)


def call_api(
    method: str,
    path: str,
    *,
    json_body: Any = None,
    body: bytes | None = None,
    token: str | None = None,
    headers: dict[str, str] | None = None,
    query: str = "",
    source_ip: str = "127.0.0.1",
) -> ApiResponse:
    """Invoke the owning function's Lambda handler with an HTTP API v2 event."""
    import base64
    import importlib

    from cheese_local.events import http_api_event
    from cheese_local.gateway import invoke
    from cheese_runtime import resources

    match = resources.match_route(method, path)
    assert match is not None, f"no route for {method} {path}"
    function, route, params = match
    all_headers = {"content-type": "application/json", "user-agent": "pytest"} | (headers or {})
    if token:
        all_headers["authorization"] = f"Bearer {token}"
    raw = (
        body
        if body is not None
        else (json.dumps(json_body).encode() if json_body is not None else b"")
    )
    event = http_api_event(
        method,
        path,
        route_key=f"{route.method} {route.path}",
        path_parameters=params,
        query_string=query,
        headers=all_headers,
        body=raw,
        source_ip=source_ip,
    )
    handler = importlib.import_module(function.module).handler
    result = invoke(handler, event, function.name)
    payload = result.get("body") or ""
    content = base64.b64decode(payload) if result.get("isBase64Encoded") else payload.encode()
    return ApiResponse(
        int(result["statusCode"]),
        {k.lower(): v for k, v in (result.get("headers") or {}).items()},
        content,
    )


@dataclass
class TestUser:
    id: str
    email: str
    password: str
    access_token: str
    refresh_token: str
    source_ip: str

    def call(self, method: str, path: str, **kwargs: Any) -> ApiResponse:
        kwargs.setdefault("token", self.access_token)
        kwargs.setdefault("source_ip", self.source_ip)
        return call_api(method, path, **kwargs)


def random_ip() -> str:
    """A distinct client IP per test user, so per-IP login throttles never collide."""
    n = uuid.uuid4().int
    return f"10.{(n >> 16) & 255}.{(n >> 8) & 255}.{n & 255}"


def signup(name: str = "user", password: str = "correct horse battery staple") -> TestUser:
    email = f"{name}-{uuid.uuid4().hex[:10]}@example.com"
    ip = random_ip()
    response = call_api(
        "POST",
        "/v1/auth/signup",
        json_body={"email": email, "password": password, "display_name": name.title()},
        source_ip=ip,
    )
    assert response.status == 201, response.body
    data = response.json()
    return TestUser(
        data["user"]["id"], email, password, data["access_token"], data["refresh_token"], ip
    )


@pytest.fixture
def make_user(db: Any):  # noqa: ANN201
    return signup


def wait_until(predicate, timeout: float = 10.0, interval: float = 0.05) -> bool:  # noqa: ANN001
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(interval)
    return predicate()


# --- the local stack over real HTTP ------------------------------------------


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="session")
def http_base_url(backend: Any) -> Iterator[str]:
    """The local stack's ASGI app served by uvicorn on a free loopback port."""
    import uvicorn

    port = free_port()
    # As `cheese run` serves it: long keep-alive, no WebSocket pings (API Gateway sends none).
    server = uvicorn.Server(
        uvicorn.Config(
            backend.app(),
            host="127.0.0.1",
            port=port,
            log_level="warning",
            ws="websockets-sansio",
            timeout_keep_alive=75,
            ws_ping_interval=None,
        )
    )
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    assert wait_until(lambda: server.started, timeout=20), "uvicorn did not start"
    yield f"http://127.0.0.1:{port}"
    server.should_exit = True
    thread.join(timeout=10)
