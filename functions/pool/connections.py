"""The WebSocket connections table: who holds a connection, and its rate-limit window.

One item per connection (``connection_id``): the user, when it connected
(``age_shard``/``connected_at`` feed the sweep's by-age index), the token's
expiry, the fixed rate-limit window and its count, and a TTL past API
Gateway's 2-hour connection limit.
"""

from __future__ import annotations

from dataclasses import dataclass

from functions.pool import dal
from functions.pool.config import PoolSettings
from functions.pool.dal import PoolStore

CONNECTION_TTL_SECONDS = 2 * 3600 + 15 * 60  # API Gateway closes connections after 2 hours


@dataclass(frozen=True)
class Caller:
    """Who sent a WebSocket event: the connection, its user and its token's expiry."""

    connection_id: str
    user_id: str
    token_expires_at: int
    # The session (and when its token was issued) that opened the connection.
    session_id: str = ""
    token_issued_at: int = 0


class ConnectionStore:
    def __init__(self, settings: PoolSettings, store: PoolStore) -> None:
        self.settings = settings
        self.store = store

    def open(self, caller: Caller, now: float) -> None:
        """Record a new connection ($connect), its rate-limit window starting empty."""
        self.store.db.put_item(
            TableName=self.store.connections,
            Item=dal.ser_map(
                {
                    "connection_id": caller.connection_id,
                    "user_id": caller.user_id,
                    "connected_at": f"{now:017.3f}",
                    "token_expires_at": caller.token_expires_at,
                    "age_shard": f"AGE#{sum(caller.connection_id.encode()) % dal.AGE_SHARDS}",
                    "rl_window": int(now // self.settings.rate_limit_window_seconds),
                    "rl_count": 0,
                    "expires_at": int(now) + CONNECTION_TTL_SECONDS,
                }
            ),
        )

    def forget(self, connection_id: str) -> None:
        self.store.db.delete_item(
            TableName=self.store.connections, Key={"connection_id": {"S": connection_id}}
        )

    def rate_limited(self, caller: Caller, now: float) -> float | None:
        """Count a frame in the connection's fixed window; seconds to wait when over the limit.

        One conditional write per frame: the count goes up only while the
        window is the current one and under the limit; a failed condition
        tells a full window (wait) from an old one (start the new window).
        """
        s = self.settings
        window = int(now // s.rate_limit_window_seconds)
        db = self.store.db
        key = {"connection_id": {"S": caller.connection_id}}
        try:
            db.update_item(
                TableName=self.store.connections,
                Key=key,
                UpdateExpression="ADD rl_count :one",
                ConditionExpression="rl_window = :w AND rl_count < :limit",
                ExpressionAttributeValues=dal.ser_map(
                    {":one": 1, ":w": window, ":limit": s.rate_limit_messages}
                ),
                ReturnValuesOnConditionCheckFailure="ALL_OLD",
            )
            return None
        except db.exceptions.ConditionalCheckFailedException as exc:
            old = dal.de(exc.response.get("Item")) or {}
        if old.get("rl_window") == window:
            return round((window + 1) * s.rate_limit_window_seconds - now, 3)
        try:  # a new window
            db.update_item(
                TableName=self.store.connections,
                Key=key,
                UpdateExpression=(
                    "SET rl_window = :w, rl_count = :one, user_id = if_not_exists(user_id, :u)"
                ),
                ConditionExpression="attribute_not_exists(rl_window) OR rl_window <> :w",
                ExpressionAttributeValues=dal.ser_map(
                    {":one": 1, ":w": window, ":u": caller.user_id}
                ),
            )
        except db.exceptions.ConditionalCheckFailedException:
            return self.rate_limited(caller, now)
        return None
