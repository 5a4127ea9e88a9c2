"""Presence in focus pools: enter, heartbeats, away/back, exit, disconnects, timeouts.

Every membership change is one DynamoDB transaction that also moves the pool's
sequence number from n-1 to n (:meth:`PoolStore.sequenced`), then one
broadcast of the typed event carrying n. A heartbeat (``focus``) is a single
conditional UpdateItem in the common case (same focus state as the previous
heartbeat, on time, not too fast) plus one Query of the pool partition for the
fan-out; the condition doubles as the heartbeat rate limit.

Focused time is measured from heartbeat timestamps: a *stretch* runs from the
first focused heartbeat to the last one of an unbroken run (gaps shorter than
the away timeout, score >= threshold, member present). When a stretch closes
its seconds are added, in the same transaction, to the per-day totals that
leaderboards read; an open stretch is added at read time.
"""

from __future__ import annotations

import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any, TypeVar

from aws_lambda_powertools.metrics import MetricUnit

from cheese_runtime.observability import logger, metrics
from cheese_runtime.settings import Settings, get_settings
from functions.pool import dal
from functions.pool.broadcast import Broadcaster
from functions.pool.config import PoolSettings, get_pool_settings
from functions.pool.connections import Caller, ConnectionStore
from functions.pool.dal import (
    Busy,
    MetaConditionFailed,
    Op,
    OpFailed,
    PoolMissing,
    PoolStore,
    delete_op,
    lock_key,
    put_op,
    update_op,
)
from functions.pool.members import (
    MemberItem,
    focused_seconds,
    is_reachable,
    iso,
    open_stretch,
    split_by_day,
)

T = TypeVar("T")

DAY_TTL_SECONDS = 60 * 24 * 3600
SESSION_TTL_SECONDS = 400 * 24 * 3600
_gone_state = threading.local()
# What fan-outs read of a pool partition (projection): recipients, and the timeout checks.
FANOUT_FIELDS = ("user_id", "connection_id", "away_reason")
TIMEOUT_FIELDS = (
    *FANOUT_FIELDS,
    "seq",
    "status",
    "last_seen",
    "grace_until",
    "ver",
    "focused",
    "streak_start",
    "focus_closed",
)


@dataclass
class ClientError(Exception):
    """Answered to the client as an error frame; the connection stays open."""

    code: str
    message: str
    extra: dict[str, Any] = field(default_factory=dict)


class Presence:
    def __init__(
        self,
        settings: Settings,
        store: PoolStore | None = None,
        broadcaster: Broadcaster | None = None,
        pool_settings: PoolSettings | None = None,
    ) -> None:
        self.settings = settings
        self.pool_settings = pool_settings or get_pool_settings()
        self.store = store or PoolStore(settings)
        self.broadcaster = broadcaster or Broadcaster(settings, self.pool_settings)
        self.connections = ConnectionStore(self.pool_settings, self.store)

    # --- views ----------------------------------------------------------------
    def member_view(self, member: MemberItem, avatar_url: str | None = None) -> dict[str, Any]:
        return {
            "user_id": member["user_id"],
            "status": member.get("status"),
            "away_reason": member.get("away_reason"),
            "score": member.get("score"),
            "focused": bool(member.get("focused")) and member.get("status") == "present",
            "focused_seconds": round(focused_seconds(member), 1),
            "entered_at": iso(member.get("entered_at")),
            "last_seen": iso(member.get("last_seen")),
            "avatar_url": avatar_url,
        }

    def snapshot(
        self,
        meta: dict[str, Any],
        members: list[MemberItem],
        avatar_url: Callable[[MemberItem], str | None] | None = None,
    ) -> dict[str, Any]:
        return {
            "pool_id": meta["pool_id"],
            "name": meta["name"],
            "capacity": int(meta["capacity"]),
            "public": bool(meta.get("public")),
            "owner_id": meta["owner_id"],
            "member_count": int(meta.get("member_count", 0)),
            "seq": int(meta.get("seq", 0)),
            "members": [
                self.member_view(m, avatar_url(m) if avatar_url else None)
                for m in sorted(members, key=lambda m: (m.get("entered_at", 0), m["user_id"]))
            ],
        }

    # --- building blocks ---------------------------------------------------------
    def _member_update(
        self,
        pool_id: str,
        member: MemberItem,
        sets: dict[str, Any],
        removes: tuple[str, ...] = (),
    ) -> Op:
        """Update a member item conditionally on its version (optimistic concurrency)."""
        values = {":ver": int(member.get("ver", 0)), ":ver_next": int(member.get("ver", 0)) + 1}
        names = {"#st": "status"}
        parts = ["ver = :ver_next"]
        for i, (attr, value) in enumerate(sets.items()):
            name = "#st" if attr == "status" else attr
            parts.append(f"{name} = :v{i}")
            values[f":v{i}"] = value
        expression = "SET " + ", ".join(parts)
        if removes:
            expression += " REMOVE " + ", ".join(removes)
        return update_op(
            self.store.pools,
            self.store.member_key(pool_id, member["user_id"]),
            expression,
            values,
            "ver = :ver",
            names if "status" in sets else None,
        )

    def _close_stretch(self, pool_id: str, member: MemberItem) -> tuple[dict[str, Any], list[Op]]:
        """Attributes and per-day ops that close the member's open focus stretch (if any)."""
        stretch = open_stretch(member)
        if not stretch:
            return {"focused": False}, []
        start, end = stretch
        ops = []
        for day, seconds in split_by_day(start, end).items():
            if seconds <= 0:
                continue
            ops.append(
                update_op(
                    self.store.focus,
                    self.store.key(f"{dal.pool_pk(pool_id)}#D#{day}", f"U#{member['user_id']}"),
                    "ADD focused_seconds :s SET user_id = :u, expires_at = if_not_exists(expires_at, :exp)",
                    {
                        ":s": round(seconds, 3),
                        ":u": member["user_id"],
                        ":exp": int(end) + DAY_TTL_SECONDS,
                    },
                )
            )
        closed = float(member.get("focus_closed", 0)) + max(0.0, end - start)
        return {"focused": False, "focus_closed": round(closed, 3)}, ops

    def _session_op(self, meta: dict[str, Any], member: MemberItem, now: float, reason: str) -> Op:
        started = float(member.get("entered_at", now))
        return put_op(
            self.store.focus,
            {
                "pk": f"USER#{member['user_id']}",
                "sk": f"S#{iso(started)}#{member['session_id']}",
                "session_id": member["session_id"],
                "pool_id": meta["pool_id"],
                "pool_name": meta.get("name"),
                "started_at": started,
                "ended_at": now,
                "focused_seconds": round(focused_seconds(member), 3),
                "heartbeats": int(member.get("hb", 0)),
                "end_reason": reason,
                "expires_at": int(now) + SESSION_TTL_SECONDS,
            },
        )

    def _recipients(self, members: list[MemberItem]) -> list[str]:
        return [m["connection_id"] for m in members if is_reachable(m)]

    def _emit(self, pool_id: str, event: dict[str, Any], extra: tuple[str, ...] = ()) -> None:
        """Broadcast a sequenced event to the pool's reachable members (+ ``extra`` connections)."""
        _, members = self.store.partition(pool_id, consistent=True, fields=FANOUT_FIELDS)
        gone = self.broadcaster.send(self._recipients(members) + list(extra), event)
        if gone:
            self.handle_gone(pool_id, members, gone)

    def _retrying(self, action: Callable[[], T], attempts: int = 6) -> T:
        for _ in range(attempts):
            try:
                return action()
            except OpFailed as exc:
                if exc.index != 0:
                    raise
                continue  # the member changed under us: re-read and decide again
        raise ClientError("busy", "The pool is busy; try again.")

    # --- access ---------------------------------------------------------------------
    def can_see(self, meta: dict[str, Any], user_id: str) -> bool:
        return (
            bool(meta.get("public"))
            or meta.get("owner_id") == user_id
            or self.store.grant(meta["pool_id"], user_id) is not None
        )

    def _pool_of(self, caller: Caller, pool_id: str | None) -> str:
        if pool_id:
            return pool_id
        lock = self.store.lock(caller.user_id)
        if lock is None:
            raise ClientError("not_in_pool", "You are not in a pool.")
        locked_in: str = lock["pool_id"]
        return locked_in

    # --- enter ---------------------------------------------------------------------------
    def enter(self, caller: Caller, pool_id: str) -> None:
        meta = self.store.meta(pool_id)
        if meta is None or not self.can_see(meta, caller.user_id):
            raise ClientError("pool_not_found", "No such pool.")

        def attempt() -> tuple[int | None, str, str | None]:
            now = time.time()
            member = self.store.member(pool_id, caller.user_id)
            if member is not None:
                if member.get("connection_id") == caller.connection_id and is_reachable(member):
                    return None, "", None
                # Reconnect within grace, or a second device takes the seat over.
                previous = member.get("connection_id") if is_reachable(member) else None
                sets, ops = self._close_stretch(pool_id, member)
                sets.update(
                    {"connection_id": caller.connection_id, "status": "present", "last_seen": now}
                )
                seq = self.store.sequenced(
                    pool_id,
                    [
                        self._member_update(
                            pool_id, member, sets, ("away_reason", "grace_until", "streak_start")
                        ),
                        *ops,
                    ],
                )
                return seq, "member_back", previous
            session_id = uuid.uuid4().hex
            item = {
                "pk": dal.pool_pk(pool_id),
                "sk": dal.member_sk(caller.user_id),
                "pool_id": pool_id,
                "user_id": caller.user_id,
                "connection_id": caller.connection_id,
                "status": "present",
                "entered_at": now,
                "last_seen": now,
                "session_id": session_id,
                "score": None,
                "focused": False,
                "focus_closed": 0,
                "hb": 0,
                "ver": 0,
            }
            ops = [
                put_op(
                    self.store.pools,
                    {
                        "pk": f"USER#{caller.user_id}",
                        "sk": dal.LOCK_SK,
                        "pool_id": pool_id,
                        "since": now,
                    },
                    "attribute_not_exists(pk) OR pool_id = :p",
                    {":p": pool_id},
                ),
                put_op(self.store.pools, item, "attribute_not_exists(pk)"),
            ]
            try:
                seq = self.store.sequenced(
                    pool_id,
                    ops,
                    meta_set="member_count = member_count + :one, live_shard = :shard",
                    meta_values={":one": 1, ":shard": dal.live_shard(pool_id)},
                    meta_condition="member_count < #cap",
                )
            except OpFailed as exc:
                if exc.index == 0:
                    other = (exc.item or {}).get("pool_id")
                    raise ClientError(
                        "already_in_pool", "Leave your current pool first.", {"pool_id": other}
                    ) from None
                raise OpFailed(0, exc.item) from None  # the member appeared meanwhile: decide again
            except MetaConditionFailed:
                metrics.add_metric(name="PoolFull", unit=MetricUnit.Count, value=1)
                raise ClientError("pool_full", "The pool is full.") from None
            return seq, "member_entered", None

        try:
            seq, kind, previous = self._retrying(attempt)
        except PoolMissing:
            raise ClientError("pool_not_found", "No such pool.") from None
        except Busy:
            raise ClientError("busy", "The pool is busy; try again.") from None
        meta, members = self.store.partition(pool_id, consistent=True)
        assert meta is not None
        if seq is not None:
            me = next((m for m in members if m["user_id"] == caller.user_id), None)
            if kind == "member_entered":
                metrics.add_metric(name="PoolEntries", unit=MetricUnit.Count, value=1)
                event = {
                    "type": kind,
                    "pool_id": pool_id,
                    "seq": seq,
                    "member": self.member_view(me) if me else {"user_id": caller.user_id},
                }
            else:
                event = {
                    "type": kind,
                    "pool_id": pool_id,
                    "seq": seq,
                    "user_id": caller.user_id,
                    "reason": "reconnected",
                }
        # The newcomer first gets the state, then everybody (newcomer included) the event.
        self.broadcaster.send_one(
            caller.connection_id, {"type": "entered", "pool": self.snapshot(meta, members)}
        )
        if seq is not None:
            gone = self.broadcaster.send(self._recipients(members), event)
            if gone:
                self.handle_gone(pool_id, members, gone)
        if previous and previous != caller.connection_id:
            self.broadcaster.send_one(
                previous,
                {
                    "type": "error",
                    "code": "replaced",
                    "message": "This seat was taken over by another connection.",
                },
            )
            self.broadcaster.close(previous)

    # --- heartbeats ---------------------------------------------------------------------
    def focus(self, caller: Caller, score: int, pool_id: str | None = None) -> None:
        pool_id = self._pool_of(caller, pool_id)
        s = self.pool_settings
        focused = score >= s.focus_threshold
        for _ in range(4):
            now = time.time()
            db = self.store.db
            # One UpdateItem: a focused heartbeat starts (or continues) the stretch, an
            # unfocused one ends it; ALL_OLD tells whether a stretch just closed.
            if focused:
                expression = (
                    "SET last_seen = :now, score = :s, hb = hb + :one, ver = ver + :one, focused = :f, "
                    "streak_start = if_not_exists(streak_start, :now)"
                )
            else:
                expression = (
                    "SET last_seen = :now, score = :s, hb = hb + :one, ver = ver + :one, focused = :f "
                    "REMOVE streak_start"
                )
            try:
                old = dal.member_item(
                    dal.de(
                        db.update_item(
                            TableName=self.store.pools,
                            Key=self.store.member_key(pool_id, caller.user_id),
                            UpdateExpression=expression,
                            ConditionExpression="connection_id = :c AND #st = :present AND last_seen BETWEEN :lo AND :hi",
                            ExpressionAttributeNames={"#st": "status"},
                            ExpressionAttributeValues=dal.ser_map(
                                {
                                    ":now": now,
                                    ":s": score,
                                    ":one": 1,
                                    ":c": caller.connection_id,
                                    ":present": "present",
                                    ":f": focused,
                                    ":lo": now - s.away_after_seconds,
                                    ":hi": now - s.focus_min_interval_seconds,
                                }
                            ),
                            ReturnValues="ALL_OLD",
                            ReturnValuesOnConditionCheckFailure="ALL_OLD",
                        )["Attributes"]
                    )
                )
            except db.exceptions.ConditionalCheckFailedException as exc:
                item = exc.response.get("Item")
                current = None if item is None else dal.member_item(dal.de(item))
                try:
                    new = self._slow_heartbeat(caller, pool_id, current, score, focused, now)
                    break
                except OpFailed:
                    continue
            new = old.copy()
            new.update(
                {
                    "last_seen": now,
                    "score": score,
                    "hb": int(old.get("hb", 0)) + 1,
                    "ver": int(old.get("ver", 0)) + 1,
                    "focused": focused,
                }
            )
            if focused:
                new.setdefault("streak_start", now)
            else:
                new.pop("streak_start", None)
                if old.get("focused") and old.get("streak_start") is not None:
                    new["focus_closed"] = self._flush_closed(pool_id, old)
            break
        else:
            raise ClientError("busy", "The pool is busy; try again.")
        self.broadcast_focus(pool_id, new)

    def _slow_heartbeat(
        self,
        caller: Caller,
        pool_id: str,
        old: MemberItem | None,
        score: int,
        focused: bool,
        now: float,
    ) -> MemberItem:
        s = self.pool_settings
        if old is None or old.get("connection_id") != caller.connection_id or not is_reachable(old):
            raise ClientError("not_in_pool", "You are not in this pool.")
        last_seen = float(old.get("last_seen", 0))
        if int(old.get("hb", 0)) > 0 and last_seen > now - s.focus_min_interval_seconds:
            wait = round(last_seen + s.focus_min_interval_seconds - now, 3)
            raise ClientError(
                "rate_limited", "Heartbeats are too frequent.", {"retry_after": max(wait, 0.001)}
            )
        new: dict[str, Any] = dict(old)
        new.update(
            {
                "last_seen": now,
                "score": score,
                "hb": int(old.get("hb", 0)) + 1,
                "ver": int(old.get("ver", 0)) + 1,
            }
        )
        status, reason = old.get("status"), old.get("away_reason")
        if status == "away" and reason == "user":
            # Explicitly away: the score is shown, no focus time counts until "back".
            op = self._member_update(
                pool_id, old, {"last_seen": now, "score": score, "hb": new["hb"]}
            )
            self._write_one(op)
            new["focused"] = False
            return dal.member_item(new)
        sets, ops = self._close_stretch(pool_id, old)
        sets.update({"last_seen": now, "score": score, "hb": new["hb"], "focused": focused})
        if focused:
            sets["streak_start"] = now
        removes: tuple[str, ...] = () if focused else ("streak_start",)
        new.update(sets)
        if not focused:
            new.pop("streak_start", None)
        if status == "away":  # away by timeout: a heartbeat brings the member back
            sets["status"] = "present"
            new["status"] = "present"
            new.pop("away_reason", None)
            seq = self.store.sequenced(
                pool_id, [self._member_update(pool_id, old, sets, (*removes, "away_reason")), *ops]
            )
            self._emit(
                pool_id,
                {
                    "type": "member_back",
                    "pool_id": pool_id,
                    "seq": seq,
                    "user_id": caller.user_id,
                    "reason": "heartbeat",
                },
            )
            return dal.member_item(new)
        # Present, but the focus state flipped or the heartbeat came after a gap.
        self._transact([self._member_update(pool_id, old, sets, removes), *ops])
        return dal.member_item(new)

    def _flush_closed(self, pool_id: str, old: MemberItem) -> float:
        """Record the stretch an unfocused heartbeat just closed: session total and per-day seconds."""
        _, ops = self._close_stretch(pool_id, old)
        start, end = open_stretch(old) or (0.0, 0.0)
        seconds = round(max(0.0, end - start), 3)
        member = update_op(
            self.store.pools,
            self.store.member_key(pool_id, old["user_id"]),
            "ADD focus_closed :s",
            {":s": seconds},
            "attribute_exists(pk)",
        )
        try:
            self._transact([member, *ops])
        except OpFailed:
            logger.warning("closed stretch not recorded: member gone", extra={"pool_id": pool_id})
        return float(old.get("focus_closed", 0)) + seconds

    def _write_one(self, op: Op) -> None:
        self._transact([op])

    def _transact(self, ops: list[Op]) -> None:
        db = self.store.db
        try:
            if len(ops) == 1 and ops[0].kind == "Update":
                body = dict(ops[0].body)
                db.update_item(TableName=ops[0].table, **body)
            else:
                db.transact_write_items(TransactItems=[op.item() for op in ops])
        except db.exceptions.ConditionalCheckFailedException as exc:
            raise OpFailed(0, None) from exc
        except db.exceptions.TransactionCanceledException as exc:
            raise OpFailed(0, None) from exc

    def broadcast_focus(self, pool_id: str, member: MemberItem) -> None:
        meta, members = self.store.partition(pool_id, fields=TIMEOUT_FIELDS)
        if meta is None:
            return
        event = {
            "type": "focus_updated",
            "pool_id": pool_id,
            "seq": int(meta.get("seq", 0)),
            "user_id": member["user_id"],
            "score": member.get("score"),
            "focused": bool(member.get("focused")) and member.get("status") == "present",
            "focused_seconds": round(focused_seconds(member), 1),
            "hb": int(member.get("hb", 0)),
            "at": iso(float(member["last_seen"])),
        }
        recipients = self._recipients(members)
        if member.get("connection_id") not in recipients and is_reachable(member):
            recipients.append(
                member["connection_id"]
            )  # eventually consistent read missed the sender
        gone = self.broadcaster.send(recipients, event)
        if gone:
            self.handle_gone(pool_id, members, gone)
        self.enforce_timeouts(pool_id, members, time.time())

    # --- away / back / exit ----------------------------------------------------------------
    def _my_member(self, caller: Caller) -> tuple[str, MemberItem]:
        pool_id = self._pool_of(caller, None)
        member = self.store.member(pool_id, caller.user_id)
        if member is None:
            raise ClientError("not_in_pool", "You are not in a pool.")
        return pool_id, member

    def away(self, caller: Caller, reason: str = "user") -> None:
        """``reason``: "user" (the away action), "camera" (no face in the webcam frames)."""

        def attempt() -> tuple[str, int] | None:
            pool_id, member = self._my_member(caller)
            if member.get("status") == "away" and member.get("away_reason") == reason:
                return None
            sets, ops = self._close_stretch(pool_id, member)
            sets.update({"status": "away", "away_reason": reason})
            return pool_id, self.store.sequenced(
                pool_id, [self._member_update(pool_id, member, sets, ("streak_start",)), *ops]
            )

        result = self._guard(lambda: self._retrying(attempt))
        if result:
            pool_id, seq = result
            self._emit(
                pool_id,
                {
                    "type": "member_away",
                    "pool_id": pool_id,
                    "seq": seq,
                    "user_id": caller.user_id,
                    "reason": reason,
                },
            )

    def back(self, caller: Caller, reason: str = "user") -> None:
        def attempt() -> tuple[str, int] | None:
            pool_id, member = self._my_member(caller)
            if member.get("status") == "present":
                return None
            if member.get("away_reason") == "disconnected":
                raise ClientError("not_in_pool", "Enter the pool again after reconnecting.")
            sets = {"status": "present", "last_seen": time.time(), "focused": False}
            return pool_id, self.store.sequenced(
                pool_id,
                [self._member_update(pool_id, member, sets, ("away_reason", "streak_start"))],
            )

        result = self._guard(lambda: self._retrying(attempt))
        if result:
            pool_id, seq = result
            self._emit(
                pool_id,
                {
                    "type": "member_back",
                    "pool_id": pool_id,
                    "seq": seq,
                    "user_id": caller.user_id,
                    "reason": reason,
                },
            )

    def exit(self, caller: Caller) -> None:
        pool_id, member = self._my_member(caller)
        self._guard(
            lambda: self.remove(pool_id, member["user_id"], "exit", extra=(caller.connection_id,))
        )

    def _guard(self, action: Callable[[], T]) -> T:
        try:
            return action()
        except PoolMissing:
            raise ClientError("pool_not_found", "No such pool.") from None
        except Busy:
            raise ClientError("busy", "The pool is busy; try again.") from None

    # --- removal, disconnects, timeouts ------------------------------------------------------
    def remove(
        self,
        pool_id: str,
        user_id: str,
        reason: str,
        extra: tuple[str, ...] = (),
        only_if: Callable[[MemberItem], bool] | None = None,
    ) -> bool:
        """Remove a member (seat freed, session recorded, member_left broadcast); False if already gone."""

        def attempt() -> int | None:
            meta = self.store.meta(pool_id)
            member = self.store.member(pool_id, user_id)
            if meta is None or member is None or (only_if and not only_if(member)):
                return None
            now = time.time()
            _, flush = self._close_stretch(pool_id, member)
            ops = [
                delete_op(
                    self.store.pools,
                    self.store.member_key(pool_id, user_id),
                    "ver = :ver",
                    {":ver": int(member.get("ver", 0))},
                ),
                delete_op(
                    self.store.pools,
                    lock_key(user_id),
                    "attribute_not_exists(pk) OR pool_id = :p",
                    {":p": pool_id},
                ),
                self._session_op(meta, member, now, reason),
                *flush,
            ]
            return self.store.sequenced(
                pool_id, ops, meta_set="member_count = member_count - :one", meta_values={":one": 1}
            )

        try:
            seq = self._retrying(attempt)
        except OpFailed as exc:
            if (
                exc.index == 1
            ):  # the lock names another pool: drop our member anyway on the next try
                logger.warning(
                    "member lock mismatch", extra={"pool_id": pool_id, "user_id": user_id}
                )
            return False
        if seq is None:
            return False
        metrics.add_metric(name="PoolExits", unit=MetricUnit.Count, value=1)
        self._emit(
            pool_id,
            {
                "type": "member_left",
                "pool_id": pool_id,
                "seq": seq,
                "user_id": user_id,
                "reason": reason,
            },
            extra,
        )
        return True

    def mark_disconnected(self, pool_id: str, user_id: str, connection_id: str) -> bool:
        """The member's connection is gone: keep the seat for the grace period (member_away)."""
        if self.pool_settings.grace_seconds <= 0:
            return self.remove(
                pool_id,
                user_id,
                "disconnected",
                only_if=lambda m: m.get("connection_id") == connection_id,
            )

        def attempt() -> int | None:
            member = self.store.member(pool_id, user_id)
            if (
                member is None
                or member.get("connection_id") != connection_id
                or not is_reachable(member)
            ):
                return None
            sets, ops = self._close_stretch(pool_id, member)
            sets.update(
                {
                    "status": "away",
                    "away_reason": "disconnected",
                    "grace_until": time.time() + self.pool_settings.grace_seconds,
                }
            )
            return self.store.sequenced(
                pool_id, [self._member_update(pool_id, member, sets, ("streak_start",)), *ops]
            )

        try:
            seq = self._retrying(attempt)
        except (PoolMissing, Busy, ClientError):
            return False
        if seq is None:
            return False
        self._emit(
            pool_id,
            {
                "type": "member_away",
                "pool_id": pool_id,
                "seq": seq,
                "user_id": user_id,
                "reason": "disconnected",
            },
        )
        return True

    def disconnected(self, caller: Caller) -> None:
        self.connections.forget(caller.connection_id)
        lock = self.store.lock(caller.user_id)
        if lock is not None:
            self.mark_disconnected(lock["pool_id"], caller.user_id, caller.connection_id)

    def handle_gone(self, pool_id: str, members: list[MemberItem], gone: set[str]) -> None:
        """Connections answered 410: forget exactly those (their members keep the seat for the grace period).

        Marking a member disconnected broadcasts a sequenced event, which may find
        more dead connections: they join a work list handled here once each,
        never recursively (a mass disconnect costs one event per dead member).
        """
        state = _gone_state
        if (
            getattr(state, "queue", None) is not None
        ):  # called from inside this loop: queue, don't recurse
            for connection_id in gone:
                if connection_id not in state.seen:
                    state.seen.add(connection_id)
                    state.queue.append((pool_id, members, connection_id))
            return
        state.queue = [(pool_id, members, c) for c in gone]
        state.seen = set(gone)
        try:
            while state.queue:
                pool, known, connection_id = state.queue.pop(0)
                metrics.add_metric(name="StaleConnections", unit=MetricUnit.Count, value=1)
                logger.info(
                    "stale connection removed",
                    extra={"connection_id": connection_id, "pool_id": pool},
                )
                self.connections.forget(connection_id)
                for member in known:
                    if member.get("connection_id") == connection_id:
                        self.mark_disconnected(pool, member["user_id"], connection_id)
        finally:
            state.queue = None
            state.seen = set()

    def _timeout_away(self, pool_id: str, member: MemberItem) -> None:
        sets, ops = self._close_stretch(pool_id, member)
        sets.update({"status": "away", "away_reason": "timeout"})
        try:
            seq = self.store.sequenced(
                pool_id, [self._member_update(pool_id, member, sets, ("streak_start",)), *ops]
            )
        except (OpFailed, Busy, PoolMissing):
            return  # somebody else (a heartbeat, another sweep) changed it first
        self._emit(
            pool_id,
            {
                "type": "member_away",
                "pool_id": pool_id,
                "seq": seq,
                "user_id": member["user_id"],
                "reason": "timeout",
            },
        )

    def enforce_timeouts(
        self, pool_id: str, members: list[MemberItem], now: float, check_idle: bool = False
    ) -> None:
        s = self.pool_settings
        for member in members:
            last_seen = float(member.get("last_seen", 0))
            if member.get("away_reason") == "disconnected":
                if float(member.get("grace_until", 0)) < now:
                    seen_ver = member.get("ver")

                    def unchanged(m: MemberItem, seen: int | None = seen_ver) -> bool:
                        return m.get("ver") == seen

                    self.remove(pool_id, member["user_id"], "timeout", only_if=unchanged)
            elif member.get("status") == "present" and last_seen < now - s.away_after_seconds:
                self._timeout_away(pool_id, member)
            elif (
                check_idle
                and last_seen < now - s.stale_after_seconds
                and member.get("connection_id")
            ) and not self.broadcaster.alive(member["connection_id"]):
                self.handle_gone(pool_id, [member], {member["connection_id"]})


@lru_cache(maxsize=1)
def presence_for(settings: Settings, pool_settings: PoolSettings) -> Presence:
    """One Presence per process, keyed on the (frozen, hashable) settings: reloaded settings
    build a new one."""
    return Presence(settings, pool_settings=pool_settings)


def current_presence() -> Presence:
    return presence_for(get_settings(), get_pool_settings())
