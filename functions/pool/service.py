"""The pool REST API's logic: pools, access, snapshots, leaderboards, focus history, avatar uploads."""

from __future__ import annotations

import time
import uuid
from datetime import UTC, datetime, timedelta
from functools import lru_cache
from typing import Any

from aws_lambda_powertools.metrics import MetricUnit

from cheese_runtime import storage as files
from cheese_runtime.accounts import AccountGone, is_active_user
from cheese_runtime.errors import InvalidCursor
from cheese_runtime.observability import metrics
from cheese_runtime.pagination import Page, decode_cursor, encode_cursor
from cheese_runtime.settings import Settings
from functions.pool import dal
from functions.pool.config import PoolSettings, get_pool_settings
from functions.pool.dal import PoolStore, put_op
from functions.pool.errors import (
    CapacityTooLarge,
    InvitedUserNotFound,
    NotInPool,
    NotPoolOwner,
    PoolNotFound,
)
from functions.pool.members import MemberItem, focused_seconds, iso, open_stretch, split_by_day
from functions.pool.presence import Presence
from functions.pool.schemas import (
    AvatarUpload,
    FocusSession,
    InviteOut,
    Leaderboard,
    LeaderboardEntry,
    LeaderboardPeriod,
    MemberOut,
    PoolCreate,
    PoolDetail,
    PoolOut,
)

AVATAR_EXTENSIONS = {"image/jpeg": "jpg", "image/png": "png", "image/webp": "webp"}
AVATAR_UPLOAD_SECONDS = 120  # a thumbnail is posted right after it is asked for


def pool_out(meta: dict[str, Any]) -> PoolOut:
    return PoolOut(
        pool_id=meta["pool_id"],
        name=meta["name"],
        capacity=int(meta["capacity"]),
        public=bool(meta.get("public")),
        owner_id=meta["owner_id"],
        member_count=int(meta.get("member_count", 0)),
        created_at=iso(meta.get("created_at")),
    )


def _cursor_key(cursor: str | None, names: set[str]) -> dict[str, Any] | None:
    position = decode_cursor(cursor)
    if position is None:
        return None
    if set(position) != names or not all(
        isinstance(v, str) and 0 < len(v) < 200 for v in position.values()
    ):
        raise InvalidCursor()
    return {k: {"S": v} for k, v in position.items()}


def _next_cursor(page: dict[str, Any]) -> str | None:
    last = page.get("LastEvaluatedKey")
    return encode_cursor({k: v["S"] for k, v in last.items()}) if last else None


class PoolService:
    def __init__(self, settings: Settings, pool_settings: PoolSettings | None = None) -> None:
        self.settings = settings
        self.pool_settings = pool_settings or get_pool_settings()
        self.store = PoolStore(settings)
        self.presence = Presence(settings, self.store, pool_settings=self.pool_settings)

    # --- pools ------------------------------------------------------------------
    def create(self, owner_id: str, body: PoolCreate) -> PoolOut:
        # A deleted account's token may be valid for up to 30 s more (revocation cache).
        if not is_active_user(owner_id):
            raise AccountGone()
        if body.capacity > self.pool_settings.max_capacity:
            raise CapacityTooLarge(f"Pools hold at most {self.pool_settings.max_capacity} members.")
        pool_id = uuid.uuid4().hex
        now = time.time()
        meta = {
            "pk": dal.pool_pk(pool_id),
            "sk": dal.META,
            "pool_id": pool_id,
            "name": body.name,
            "capacity": body.capacity,
            "public": body.public,
            "owner_id": owner_id,
            "created_at": now,
            "member_count": 0,
            "seq": 0,
        }
        if body.public:
            meta.update({"public_pk": "PUBLIC", "public_sk": f"{now:017.3f}#{pool_id}"})
        grant = {
            "pk": dal.pool_pk(pool_id),
            "sk": dal.grant_sk(owner_id),
            "grantee": owner_id,
            "pool_id": pool_id,
            "role": "owner",
            "granted_at": now,
        }
        self.store.db.transact_write_items(
            TransactItems=[
                put_op(self.store.pools, meta, "attribute_not_exists(pk)").item(),
                put_op(self.store.pools, grant).item(),
            ]
        )
        metrics.add_metric(name="PoolsCreated", unit=MetricUnit.Count, value=1)
        return pool_out(meta)

    def visible_meta(self, user_id: str, pool_id: str) -> dict[str, Any]:
        """The pool's meta item, or 404 when it does not exist or the caller may not see it."""
        if not pool_id or len(pool_id) > 64:
            raise PoolNotFound()
        meta = self.store.meta(pool_id)
        if meta is None or not self.presence.can_see(meta, user_id):
            raise PoolNotFound()
        return meta

    def list_public(self, limit: int, cursor: str | None) -> Page[PoolOut]:
        kwargs: dict[str, Any] = {
            "TableName": self.store.pools,
            "IndexName": "public-pools",
            "Limit": limit,
            "ScanIndexForward": False,
            "KeyConditionExpression": "public_pk = :p",
            "ExpressionAttributeValues": {":p": {"S": "PUBLIC"}},
        }
        start = _cursor_key(cursor, {"pk", "sk", "public_pk", "public_sk"})
        if start:
            kwargs["ExclusiveStartKey"] = start
        page = self.store.db.query(**kwargs)
        return Page[PoolOut](
            items=[pool_out(dal.de(i)) for i in page.get("Items", [])],
            next_cursor=_next_cursor(page),
        )

    def list_mine(self, user_id: str, limit: int, cursor: str | None) -> Page[PoolOut]:
        kwargs: dict[str, Any] = {
            "TableName": self.store.pools,
            "IndexName": "by-grantee",
            "Limit": limit,
            "KeyConditionExpression": "grantee = :u",
            "ExpressionAttributeValues": {":u": {"S": user_id}},
        }
        start = _cursor_key(cursor, {"pk", "sk", "grantee"})
        if start:
            kwargs["ExclusiveStartKey"] = start
        page = self.store.db.query(**kwargs)
        ids = [dal.de(i)["pool_id"] for i in page.get("Items", [])]
        metas: dict[str, dict[str, Any]] = {}
        if ids:
            keys = [self.store.meta_key(pid) for pid in ids]
            request = {self.store.pools: {"Keys": keys}}
            while request:
                answer = self.store.db.batch_get_item(RequestItems=request)
                for item in answer["Responses"].get(self.store.pools, []):
                    meta = dal.de(item)
                    metas[meta["pool_id"]] = meta
                request = answer.get("UnprocessedKeys") or {}
        return Page[PoolOut](
            items=[pool_out(metas[pid]) for pid in ids if pid in metas],
            next_cursor=_next_cursor(page),
        )

    def detail(self, user_id: str, pool_id: str) -> PoolDetail:
        self.visible_meta(user_id, pool_id)
        meta, members = self.store.partition(pool_id, consistent=True)
        if meta is None:
            raise PoolNotFound()
        snapshot = self.presence.snapshot(meta, members, avatar_url=self.avatar_url)
        return PoolDetail(
            **pool_out(meta).model_dump(),
            seq=snapshot["seq"],
            members=[MemberOut(**m) for m in snapshot["members"]],
        )

    def invite(self, owner_id: str, pool_id: str, user_id: str) -> InviteOut:
        meta = self.visible_meta(owner_id, pool_id)
        if meta["owner_id"] != owner_id:
            raise NotPoolOwner()
        if not is_active_user(user_id):
            raise InvitedUserNotFound()
        self.store.db.put_item(
            TableName=self.store.pools,
            Item=dal.ser_map(
                {
                    "pk": dal.pool_pk(pool_id),
                    "sk": dal.grant_sk(user_id),
                    "grantee": user_id,
                    "pool_id": pool_id,
                    "role": "member",
                    "granted_at": time.time(),
                }
            ),
        )
        return InviteOut(pool_id=pool_id, user_id=user_id)

    # --- leaderboards ---------------------------------------------------------------------
    def leaderboard(
        self, user_id: str, pool_id: str, period: LeaderboardPeriod, limit: int = 50
    ) -> Leaderboard:
        self.visible_meta(user_id, pool_id)
        now = datetime.now(UTC)
        today = now.replace(hour=0, minute=0, second=0, microsecond=0)
        # "day": today (UTC); "week": the ISO week so far (Monday 00:00 UTC → now).
        start = today if period == "day" else today - timedelta(days=today.weekday())
        days = [
            (start + timedelta(days=i)).strftime("%Y-%m-%d")
            for i in range((today - start).days + 1)
        ]
        totals: dict[str, float] = {}
        for day in days:
            kwargs: dict[str, Any] = {
                "TableName": self.store.focus,
                "KeyConditionExpression": "pk = :pk",
                "ExpressionAttributeValues": {":pk": {"S": f"{dal.pool_pk(pool_id)}#D#{day}"}},
            }
            while True:
                page = self.store.db.query(**kwargs)
                for item in page.get("Items", []):
                    row = dal.de(item)
                    totals[row["user_id"]] = totals.get(row["user_id"], 0.0) + float(
                        row["focused_seconds"]
                    )
                if "LastEvaluatedKey" not in page:
                    break
                kwargs["ExclusiveStartKey"] = page["LastEvaluatedKey"]
        live: set[str] = set()
        _, members = self.store.partition(pool_id)
        for member in members:
            stretch = open_stretch(member)
            if not stretch:
                continue
            live.add(member["user_id"])
            for day, seconds in split_by_day(*stretch).items():
                if day in days:
                    totals[member["user_id"]] = totals.get(member["user_id"], 0.0) + seconds
        ranked = sorted(totals.items(), key=lambda kv: (-kv[1], kv[0]))[:limit]
        return Leaderboard(
            pool_id=pool_id,
            period=period,
            start=start.isoformat().replace("+00:00", "Z"),
            end=now.isoformat(timespec="seconds").replace("+00:00", "Z"),
            entries=[
                LeaderboardEntry(
                    rank=i + 1, user_id=uid, focused_minutes=round(sec / 60, 2), live=uid in live
                )
                for i, (uid, sec) in enumerate(ranked)
            ],
        )

    # --- my focus history ------------------------------------------------------------------------
    def my_focus(self, user_id: str, limit: int, cursor: str | None) -> Page[FocusSession]:
        items: list[FocusSession] = []
        if cursor is None:
            lock = self.store.lock(user_id)
            member = self.store.member(lock["pool_id"], user_id) if lock else None
            if lock is not None and member is not None:
                meta = self.store.meta(lock["pool_id"]) or {}
                items.append(
                    FocusSession(
                        session_id=member["session_id"],
                        pool_id=lock["pool_id"],
                        pool_name=meta.get("name"),
                        started_at=iso(member["entered_at"]),
                        focused_minutes=round(focused_seconds(member) / 60, 2),
                        heartbeats=int(member.get("hb", 0)),
                        active=True,
                    )
                )
        kwargs: dict[str, Any] = {
            "TableName": self.store.focus,
            "Limit": limit,
            "ScanIndexForward": False,
            "KeyConditionExpression": "pk = :pk AND begins_with(sk, :s)",
            "ExpressionAttributeValues": {":pk": {"S": f"USER#{user_id}"}, ":s": {"S": "S#"}},
        }
        start = _cursor_key(cursor, {"pk", "sk"})
        if start:
            if start["pk"]["S"] != f"USER#{user_id}":
                raise InvalidCursor()  # a cursor of somebody else's history
            kwargs["ExclusiveStartKey"] = start
        page = self.store.db.query(**kwargs)
        for item in page.get("Items", []):
            row = dal.de(item)
            items.append(
                FocusSession(
                    session_id=row["session_id"],
                    pool_id=row["pool_id"],
                    pool_name=row.get("pool_name"),
                    started_at=iso(row["started_at"]),
                    ended_at=iso(row["ended_at"]),
                    focused_minutes=round(float(row["focused_seconds"]) / 60, 2),
                    heartbeats=int(row["heartbeats"]),
                    active=False,
                    end_reason=row.get("end_reason"),
                )
            )
        return Page[FocusSession](items=items, next_cursor=_next_cursor(page))

    # --- avatars --------------------------------------------------------------------------------------
    def avatar_upload(self, user_id: str, pool_id: str, content_type: str) -> AvatarUpload:
        self.visible_meta(user_id, pool_id)
        if self.store.member(pool_id, user_id) is None:
            raise NotInPool()
        key = (
            f"avatars/{pool_id}/{user_id}/{int(time.time() * 1000):015d}-{uuid.uuid4().hex[:8]}."
            f"{AVATAR_EXTENSIONS[content_type]}"
        )
        spec = self.avatar_spec(key, content_type)
        post = files.presigned_upload(self.settings.photos_bucket, spec)
        return AvatarUpload(
            url=post.url,
            fields=post.fields,
            key=key,
            max_bytes=spec.max_bytes,
            expires_in=post.expires_in,
        )

    def avatar_spec(self, key: str, content_type: str) -> files.UploadSpec:
        return files.UploadSpec(
            key,
            content_type,
            max_bytes=self.pool_settings.avatar_max_bytes,
            expires_in=AVATAR_UPLOAD_SECONDS,
        )

    def avatar_url(self, member: MemberItem) -> str | None:
        key = member.get("avatar_key")
        if not key:
            return None
        return files.presigned_get(
            self.settings.photos_bucket, key, self.pool_settings.avatar_url_seconds
        )


@lru_cache(maxsize=1)
def service_for(settings: Settings, pool_settings: PoolSettings) -> PoolService:
    """One service per process, keyed on the (frozen, hashable) settings: reloaded settings
    (or a test's overrides) build a new one."""
    return PoolService(settings, pool_settings)
