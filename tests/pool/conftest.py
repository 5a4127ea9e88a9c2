"""Fixtures for the focus pool tests: real WebSocket clients against the local stack over uvicorn."""

from __future__ import annotations

import contextlib
import json
import os
import time
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from websockets.sync.client import ClientConnection, connect

from tests.conftest import TestUser, signup

# Short timings so timeouts happen within a test (the defaults are production ones).
POOL_TEST_SETTINGS = {
    "CHEESE_POOL_AWAY_AFTER_SECONDS": "1.5",
    "CHEESE_POOL_GRACE_SECONDS": "2",
    "CHEESE_POOL_FOCUS_MIN_INTERVAL_SECONDS": "0.2",
    "CHEESE_POOL_RATE_LIMIT_MESSAGES": "30",
}


def _reload_settings() -> None:
    from cheese_runtime.settings import reload_settings

    reload_settings()


@pytest.fixture(scope="session")
def ws_url(http_base_url: str) -> Iterator[str]:
    """ws:// URL of the local stack's WebSocket API; its @connections endpoint is the same server."""
    saved = {k: os.environ.get(k) for k in POOL_TEST_SETTINGS}
    os.environ.update(POOL_TEST_SETTINGS)
    os.environ["CHEESE_WEBSOCKET_ENDPOINT"] = http_base_url
    _reload_settings()
    yield http_base_url.replace("http://", "ws://") + "/ws"
    for key, value in saved.items():
        if value is None:
            os.environ.pop(key, None)
        else:
            os.environ[key] = value
    _reload_settings()


@pytest.fixture
def pool_settings(ws_url: str) -> Iterator[Callable[..., None]]:
    """Override ``PoolSettings`` for one test: ``pool_settings(grace_seconds=0)``."""
    changed: dict[str, str | None] = {}

    def apply(**values: Any) -> None:
        for name, value in values.items():
            key = f"CHEESE_POOL_{name.upper()}"
            changed.setdefault(key, os.environ.get(key))
            os.environ[key] = str(value)
        _reload_settings()

    yield apply
    for key, value in changed.items():
        if value is None:
            os.environ.pop(key, None)
        else:
            os.environ[key] = value
    _reload_settings()


class WsClient:
    """A WebSocket client that keeps every frame it received, for assertions."""

    def __init__(self, url: str, token: str, via: str = "query") -> None:
        if via == "query":
            self.ws: ClientConnection = connect(f"{url}?token={token}", open_timeout=10)
        else:
            self.ws = connect(url, subprotocols=["bearer", token], open_timeout=10)
        self.frames: list[dict[str, Any]] = []
        self._seen = 0

    def send(self, **frame: Any) -> None:
        self.ws.send(json.dumps(frame))

    def send_raw(self, data: str | bytes) -> None:
        self.ws.send(data)

    def recv(self, timeout: float = 5.0) -> dict[str, Any]:
        frame = json.loads(self.ws.recv(timeout=timeout))
        self.frames.append(frame)
        return frame

    def wait_for(
        self, predicate: Callable[[dict[str, Any]], bool], timeout: float = 8.0
    ) -> dict[str, Any]:
        """The next frame (after the last one matched) that satisfies ``predicate``."""
        deadline = time.monotonic() + timeout
        while True:
            for i in range(self._seen, len(self.frames)):
                if predicate(self.frames[i]):
                    self._seen = i + 1
                    return self.frames[i]
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise AssertionError(
                    f"no matching frame within {timeout}s; got {self.frames[self._seen :]}"
                )
            try:
                self.recv(timeout=remaining)
            except TimeoutError:
                continue

    def event(self, type_: str, timeout: float = 8.0, **match: Any) -> dict[str, Any]:
        return self.wait_for(
            lambda f: f.get("type") == type_ and all(f.get(k) == v for k, v in match.items()),
            timeout,
        )

    def drain(self, seconds: float = 0.3) -> None:
        deadline = time.monotonic() + seconds
        while (left := deadline - time.monotonic()) > 0:
            try:
                self.recv(timeout=left)
            except TimeoutError:
                break

    def seqs(self) -> list[int]:
        return [
            f["seq"] for f in self.frames if f.get("type", "").startswith(("member_", "avatar_"))
        ]

    def close(self) -> None:
        self.ws.close()


@pytest.fixture
def clients(ws_url: str) -> Iterator[Callable[..., WsClient]]:
    opened: list[WsClient] = []

    def open_client(user: TestUser, via: str = "query") -> WsClient:
        client = WsClient(ws_url, user.access_token, via)
        opened.append(client)
        return client

    yield open_client
    for client in opened:
        with contextlib.suppress(Exception):
            client.close()


def create_pool(
    owner: TestUser, capacity: int = 10, public: bool = True, name: str = "Study"
) -> str:
    response = owner.call(
        "POST", "/v1/pools", json_body={"name": name, "capacity": capacity, "public": public}
    )
    assert response.status == 201, response.body
    return response.json()["pool_id"]


__all__ = ["WsClient", "create_pool", "signup"]
