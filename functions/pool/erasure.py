"""Erases a leaving user's focus-pool data (``UserDeletionRequested`` → SQS → here).

Everything of the user in the three pool tables and the avatar thumbnails:

* the seat, if they hold one: removed like an exit (``member_left`` with reason
  ``deleted`` for the others), and the user's lock item;
* their WebSocket connections: closed through the @connections API, records deleted;
* their grants (``by-grantee``); a pool they **own** is deleted with every
  item of its partition (other members get ``member_left``, reason
  ``pool_deleted``). Ownership does not pass on: the pool's name is the
  leaver's words, and making some invitee the owner of a private pool would
  give them the power to invite people nobody granted them; the members keep
  their own focus history and can open a new pool;
* their focus sessions (``USER#<id>``) and per-day totals
  (``POOL#<pool>#D#<day>``/``U#<id>``, found from the sessions: a day row lives
  60 days, its session 400, so every day row still there has its session);
* their avatars (``avatars/<pool>/<id>/``) in every pool they had a seat or a
  grant in, and the avatars of others in a pool that is deleted.

Idempotent, and safe to retry after a crash at any step: the things that lead
to others (grants, sessions, an owned pool's meta item) are deleted last.
"""

from __future__ import annotations

import contextlib
import json
import time
from collections.abc import Iterator
from typing import Any

from cheese_runtime.consumers import event_consumer
from cheese_runtime.events import UserDeletionRequested
from cheese_runtime.observability import logger
from cheese_runtime.storage import delete_prefix
from functions.pool import dal
from functions.pool.dal import PoolStore
from functions.pool.members import split_by_day
from functions.pool.presence import Presence, current_presence

BATCH = 25  # BatchWriteItem's limit


class PoolEraser:
    def __init__(self, presence: Presence) -> None:
        self.presence = presence
        self.store: PoolStore = presence.store
        self.bucket = presence.settings.photos_bucket

    @property
    def db(self) -> Any:
        return self.store.db

    # --- reading ------------------------------------------------------------------------------
    def _query(self, **kwargs: Any) -> Iterator[dict[str, Any]]:
        while True:
            page = self.db.query(**kwargs)
            yield from page.get("Items", [])
            if "LastEvaluatedKey" not in page:
                return
            kwargs["ExclusiveStartKey"] = page["LastEvaluatedKey"]

    def grants(self, user_id: str) -> list[str]:
        """Pools the user has a grant in (owner or invitee)."""
        items = self._query(
            TableName=self.store.pools,
            IndexName="by-grantee",
            KeyConditionExpression="grantee = :u",
            ExpressionAttributeValues={":u": {"S": user_id}},
        )
        return [item["pk"]["S"].removeprefix("POOL#") for item in items]

    def sessions(self, user_id: str) -> list[dict[str, Any]]:
        items = self._query(
            TableName=self.store.focus,
            KeyConditionExpression="pk = :pk",
            ExpressionAttributeValues={":pk": {"S": f"USER#{user_id}"}},
        )
        return [dal.de(item) for item in items]

    def connections(self, user_id: str) -> list[str]:
        """The user's connection records (the by-age index, filtered: no by-user index for a rare call)."""
        found: list[str] = []
        for shard in range(dal.AGE_SHARDS):
            items = self._query(
                TableName=self.store.connections,
                IndexName="by-age",
                KeyConditionExpression="age_shard = :s",
                FilterExpression="user_id = :u",
                ExpressionAttributeValues={
                    ":s": {"S": f"AGE#{shard}"},
                    ":u": {"S": user_id},
                },
            )
            found.extend(item["connection_id"]["S"] for item in items)
        return found

    # --- deleting -----------------------------------------------------------------------------
    def _delete(self, table: str, keys: list[dict[str, Any]]) -> None:
        # One batch may not name a key twice (two sessions of one day share a day row).
        keys = list({json.dumps(key, sort_keys=True): key for key in keys}.values())
        for start in range(0, len(keys), BATCH):
            requests: dict[str, list[dict[str, Any]]] = {
                table: [{"DeleteRequest": {"Key": key}} for key in keys[start : start + BATCH]]
            }
            for attempt in range(8):
                unprocessed = self.db.batch_write_item(RequestItems=requests).get(
                    "UnprocessedItems", {}
                )
                if not unprocessed:
                    break
                requests = unprocessed
                time.sleep(0.05 * 2**attempt)
            else:
                raise RuntimeError(f"{table}: deletes still unprocessed")  # SQS retries

    def leave_seat(self, user_id: str) -> None:
        lock = self.store.lock(user_id)
        if lock is None:
            return
        pool_id = lock["pool_id"]
        member = self.store.member(pool_id, user_id)
        self.presence.remove(pool_id, user_id, "deleted")
        if member and member.get("connection_id"):
            self.presence.broadcaster.close(member["connection_id"])
        # remove() frees the lock with the seat; a lock naming a pool without the
        # member (an interrupted enter) goes here.
        self.db.delete_item(TableName=self.store.pools, Key=dal.lock_key(user_id))

    def delete_pool(self, pool_id: str, owner_id: str) -> None:
        """An owned pool: members out (``member_left``), then every item, the meta item last."""
        _, members = self.store.partition(pool_id, consistent=True)
        for member in members:
            # The leaver is no longer a recipient after the commit: told through ``extra``.
            told = (member["connection_id"],) if member.get("connection_id") else ()
            self.presence.remove(pool_id, member["user_id"], "pool_deleted", told)
        keys: list[dict[str, Any]] = []
        owner_grant = self.store.key(dal.pool_pk(pool_id), dal.grant_sk(owner_id))
        for item in self._query(
            TableName=self.store.pools,
            ConsistentRead=True,
            KeyConditionExpression="pk = :pk",
            ExpressionAttributeValues={":pk": {"S": dal.pool_pk(pool_id)}},
        ):
            sk = item["sk"]["S"]
            if sk in (dal.META, owner_grant["sk"]["S"]):
                continue
            if sk.startswith("M#"):  # entered during the removals above: free their lock too
                user_id = sk.removeprefix("M#")
                with contextlib.suppress(self.db.exceptions.ConditionalCheckFailedException):
                    self.db.delete_item(
                        TableName=self.store.pools,
                        Key=dal.lock_key(user_id),
                        ConditionExpression="pool_id = :p",
                        ExpressionAttributeValues={":p": {"S": pool_id}},
                    )
            keys.append(self.store.key(item["pk"]["S"], sk))
        self._delete(self.store.pools, keys)
        delete_prefix(self.bucket, f"avatars/{pool_id}/")
        # Last: the owner's grant is what leads a retry back here.
        self._delete(self.store.pools, [self.store.meta_key(pool_id), owner_grant])

    def erase_user(self, user_id: str) -> dict[str, int]:
        self.leave_seat(user_id)  # first: it records the seat's session, erased below
        for connection_id in self.connections(user_id):
            self.presence.broadcaster.close(connection_id)
            self.presence.connections.forget(connection_id)
        granted = self.grants(user_id)
        sessions = self.sessions(user_id)
        pools = set(granted) | {s["pool_id"] for s in sessions}
        avatars = sum(delete_prefix(self.bucket, f"avatars/{p}/{user_id}/") for p in pools)
        owned = 0
        for pool_id in granted:
            meta = self.store.meta(pool_id)
            if meta is not None and meta.get("owner_id") == user_id:
                self.delete_pool(pool_id, user_id)
                owned += 1
            else:
                self._delete(
                    self.store.pools,
                    [self.store.key(dal.pool_pk(pool_id), dal.grant_sk(user_id))],
                )
        days: list[dict[str, Any]] = []
        for s in sessions:
            for day in split_by_day(float(s["started_at"]), float(s["ended_at"])):
                days.append(self.store.key(f"{dal.pool_pk(s['pool_id'])}#D#{day}", f"U#{user_id}"))
        self._delete(self.store.focus, days)
        # Last: the sessions are what lead a retry to the day rows and avatars.
        self._delete(self.store.focus, [self.store.key(s["pk"], s["sk"]) for s in sessions])
        result = {
            "grants": len(granted),
            "owned_pools": owned,
            "sessions": len(sessions),
            "avatars": avatars,
        }
        logger.info("pool data erased", extra=result)
        return result


def erase(event: UserDeletionRequested) -> None:
    PoolEraser(current_presence()).erase_user(event.user_id)


handler = event_consumer({UserDeletionRequested: erase})
