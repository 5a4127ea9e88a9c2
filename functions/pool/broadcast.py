"""Posting frames to WebSocket connections through the API Gateway management API.

A broadcast posts one JSON document to many connections in parallel (a
thread pool over one boto3 client with a matching HTTP connection pool: the
management API has no batch post). Connections API Gateway no longer knows
answer 410 Gone; they are returned to the caller, which removes exactly those
connections (never the sender's).
"""

from __future__ import annotations

import contextlib
import json
from collections.abc import Iterable
from concurrent.futures import ThreadPoolExecutor
from functools import cache
from typing import Any

import boto3
from botocore.config import Config
from botocore.exceptions import BotoCoreError, ClientError

from cheese_runtime.observability import logger
from cheese_runtime.settings import Settings, get_settings
from functions.pool.config import PoolSettings, get_pool_settings


class NoEndpoint(RuntimeError):
    pass


@cache
def _client(endpoint: str, region: str, pool_size: int) -> Any:
    config = Config(
        retries={"mode": "standard", "max_attempts": 2},
        connect_timeout=2,
        read_timeout=5,
        max_pool_connections=pool_size,
        tcp_keepalive=True,
    )
    return boto3.session.Session().client(
        "apigatewaymanagementapi", endpoint_url=endpoint, region_name=region, config=config
    )


@cache
def _executor(threads: int) -> ThreadPoolExecutor:
    return ThreadPoolExecutor(max_workers=threads, thread_name_prefix="ws-post")


def encode(payload: dict[str, Any]) -> bytes:
    return json.dumps(payload, separators=(",", ":")).encode()


class Broadcaster:
    def __init__(
        self, settings: Settings | None = None, pool_settings: PoolSettings | None = None
    ) -> None:
        self._settings = settings
        self._pool_settings = pool_settings

    @property
    def settings(self) -> Settings:
        return self._settings or get_settings()

    @property
    def threads(self) -> int:
        return (self._pool_settings or get_pool_settings()).broadcast_threads

    def client(self) -> Any:
        settings = self.settings
        if not settings.websocket_endpoint:
            raise NoEndpoint("CHEESE_WEBSOCKET_ENDPOINT is not set")
        threads = self.threads
        return _client(settings.websocket_endpoint.rstrip("/"), settings.region, threads + 4)

    def _post(self, client: Any, connection_id: str, data: bytes) -> str | None:
        """Post once; the connection id when it is gone, else None."""
        try:
            client.post_to_connection(ConnectionId=connection_id, Data=data)
        except client.exceptions.GoneException:
            return connection_id
        except ClientError as exc:
            # Forbidden/limit errors for one connection must not fail the others.
            logger.warning(
                "post to connection failed",
                extra={
                    "connection_id": connection_id,
                    "error": exc.response.get("Error", {}).get("Code"),
                },
            )
        except BotoCoreError as exc:  # the endpoint itself is unreachable: nothing to remove
            logger.warning(
                "post to connection failed",
                extra={"connection_id": connection_id, "error": str(exc)},
            )
        return None

    def send(self, connection_ids: Iterable[str], payload: dict[str, Any]) -> set[str]:
        """Post ``payload`` to every connection; return the ones that are gone (410)."""
        targets = list(dict.fromkeys(c for c in connection_ids if c))
        if not targets:
            return set()
        data = encode(payload)
        client = self.client()
        if len(targets) <= 2:
            results = [self._post(client, c, data) for c in targets]
        else:
            results = list(
                _executor(self.threads).map(lambda c: self._post(client, c, data), targets)
            )
        return {c for c in results if c}

    def send_one(self, connection_id: str, payload: dict[str, Any]) -> bool:
        """Post to one connection; False when it is gone."""
        return not self.send([connection_id], payload)

    def close(self, connection_id: str) -> None:
        client = self.client()
        with contextlib.suppress(client.exceptions.GoneException):
            client.delete_connection(ConnectionId=connection_id)

    def alive(self, connection_id: str) -> bool:
        client = self.client()
        try:
            client.get_connection(ConnectionId=connection_id)
        except client.exceptions.GoneException:
            return False
        return True
