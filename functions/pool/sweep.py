"""Scheduled sweep (every minute): timeouts the heartbeats did not catch, and stale connections.

For every pool with members (the sparse ``live-pools`` index, sharded; no
Scan): silent members become away, expired reconnect grace periods end the
member's session, members idle past ``pool_stale_after_seconds`` have their
connection checked with GetConnection (410 Gone: removed). Connection records
older than API Gateway's 2-hour limit are closed and deleted (``by-age``).
"""

from __future__ import annotations

import contextlib
import time
from typing import Any

from cheese_runtime.handlers import NoPayload, scheduled_handler
from cheese_runtime.observability import logger
from functions.pool import dal
from functions.pool.connections import CONNECTION_TTL_SECONDS
from functions.pool.presence import Presence, current_presence

MAX_CONNECTION_AGE_SECONDS = 2 * 3600


def sweep(presence: Presence, now: float | None = None) -> dict[str, int]:
    now = time.time() if now is None else now
    store = presence.store
    db = store.db
    pools = connections = 0
    for shard in range(dal.LIVE_SHARDS):
        kwargs: dict[str, Any] = {
            "TableName": store.pools,
            "IndexName": "live-pools",
            "KeyConditionExpression": "live_shard = :s",
            "ExpressionAttributeValues": {":s": {"S": f"LIVE#{shard}"}},
        }
        while True:
            page = db.query(**kwargs)
            for item in page.get("Items", []):
                pool_id = dal.de(item)["pool_id"]
                meta, members = store.partition(pool_id, consistent=True)
                if meta is None:
                    continue
                pools += 1
                presence.enforce_timeouts(pool_id, members, now, check_idle=True)
                if not members:
                    with contextlib.suppress(db.exceptions.ConditionalCheckFailedException):
                        db.update_item(
                            TableName=store.pools,
                            Key=store.meta_key(pool_id),
                            UpdateExpression="REMOVE live_shard",
                            ConditionExpression="member_count = :zero",
                            ExpressionAttributeValues={":zero": {"N": "0"}},
                        )
            if "LastEvaluatedKey" not in page:
                break
            kwargs["ExclusiveStartKey"] = page["LastEvaluatedKey"]
    cutoff = f"{now - MAX_CONNECTION_AGE_SECONDS:017.3f}"
    for shard in range(dal.AGE_SHARDS):
        kwargs = {
            "TableName": store.connections,
            "IndexName": "by-age",
            "KeyConditionExpression": "age_shard = :s AND connected_at < :cutoff",
            "ExpressionAttributeValues": {":s": {"S": f"AGE#{shard}"}, ":cutoff": {"S": cutoff}},
        }
        while True:
            page = db.query(**kwargs)
            for item in page.get("Items", []):
                connection_id = item["connection_id"]["S"]
                presence.broadcaster.close(connection_id)
                db.delete_item(
                    TableName=store.connections, Key={"connection_id": {"S": connection_id}}
                )
                connections += 1
            if "LastEvaluatedKey" not in page:
                break
            kwargs["ExclusiveStartKey"] = page["LastEvaluatedKey"]
    result = {"pools_checked": pools, "connections_expired": connections}
    logger.info("pool sweep", extra=result)
    return result


def run(_: NoPayload) -> dict[str, int]:
    return sweep(current_presence())


handler = scheduled_handler(run, NoPayload)


__all__ = ["CONNECTION_TTL_SECONDS", "handler", "sweep"]
