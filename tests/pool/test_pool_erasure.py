"""A deleted account leaves nothing in the pool tables: through DELETE /v1/auth/me and the event bus."""

from __future__ import annotations

import json
import time
from typing import Any

import boto3

from tests.conftest import wait_until
from tests.pool.conftest import create_pool


def _items(*tables: str) -> list[dict[str, Any]]:
    db = boto3.client("dynamodb")
    out: list[dict[str, Any]] = []
    for table in tables:
        for page in db.get_paginator("scan").paginate(TableName=table):
            out.extend(page["Items"])
    return out


def _key(item: dict[str, Any]) -> tuple[str, ...]:
    return tuple(item[k]["S"] for k in ("pk", "sk", "connection_id") if k in item)


def _mentioning(user_id: str) -> list[dict[str, Any]]:
    from cheese_runtime.settings import get_settings

    s = get_settings()
    items = _items(s.pools_table, s.pool_connections_table, s.focus_table)
    return [i for i in items if user_id in json.dumps(i)]


def _avatars(user_id: str) -> list[str]:
    from cheese_runtime.settings import get_settings

    s3 = boto3.client("s3")
    page = s3.list_objects_v2(Bucket=get_settings().photos_bucket, Prefix="avatars/")
    return [o["Key"] for o in page.get("Contents", []) if f"/{user_id}/" in o["Key"]]


def test_a_deleted_user_leaves_no_pool_item_and_their_owned_pool_is_deleted(
    make_user, clients
) -> None:  # noqa: ANN001
    from cheese_runtime.settings import get_settings
    from functions.pool.erasure import PoolEraser
    from functions.pool.presence import current_presence

    ann, bob = make_user("erase-ann"), make_user("erase-bob")
    owned = create_pool(ann, public=False, name="Ann's room")
    assert ann.call("POST", f"/v1/pools/{owned}/invites", json_body={"user_id": bob.id}).status in (
        200,
        201,
    )
    theirs = create_pool(bob, public=False, name="Bob's room")
    assert bob.call(
        "POST", f"/v1/pools/{theirs}/invites", json_body={"user_id": ann.id}
    ).status in (200, 201)

    a = clients(ann)
    a.send(action="enter", pool_id=theirs)
    a.event("entered")
    for score in (90, 95):  # a focused stretch: day rows and, on exit, a session
        a.send(action="focus", score=score, pool_id=theirs)
        time.sleep(0.3)
    a.send(action="exit")
    a.event("member_left", user_id=ann.id)
    a.send(action="enter", pool_id=theirs)  # seated again, connection open, when deleted
    a.event("entered")
    key = f"avatars/{theirs}/{ann.id}/{int(time.time() * 1000):015d}-0123abcd.jpg"
    s3 = boto3.client("s3")
    s3.put_object(
        Bucket=get_settings().photos_bucket,
        Key=key,
        Body=b"\xff\xd8\xff\xe0",
        ContentType="image/jpeg",
    )
    a.event("avatar_updated", timeout=15)
    b = clients(bob)
    b.send(action="enter", pool_id=owned)
    b.event("entered")
    assert _mentioning(ann.id) and _avatars(ann.id)
    bob_before = [
        i
        for i in _mentioning(bob.id)
        if owned not in json.dumps(i) and "#POOL" not in json.dumps(i)
    ]

    assert ann.call("DELETE", "/v1/auth/me").status == 202

    assert wait_until(lambda: not _mentioning(ann.id) and not _avatars(ann.id), timeout=30), (
        _mentioning(ann.id)
    )
    # Ann's pool is gone; Bob was told and keeps his own pool, grant and history.
    assert b.event("member_left", timeout=15, user_id=bob.id)["reason"] == "pool_deleted"
    assert bob.call("GET", f"/v1/pools/{owned}").status == 404
    assert bob.call("GET", f"/v1/pools/{theirs}").status == 200
    mine = bob.call("GET", "/v1/pools", query="scope=mine").json()["items"]
    assert [p["pool_id"] for p in mine] == [theirs]
    # Bob's own items (his pool, which Ann's leaving re-sequenced, and his grant) are all there.
    keys = {_key(i) for i in _mentioning(bob.id)}
    assert {_key(i) for i in bob_before} <= keys
    history = bob.call("GET", "/v1/me/focus").json()["items"]
    assert [s["pool_id"] for s in history] == [owned]

    # A second delivery finds nothing left and changes nothing.
    everything = _items(get_settings().pools_table, get_settings().focus_table)
    result = PoolEraser(current_presence()).erase_user(ann.id)
    assert result == {"grants": 0, "owned_pools": 0, "sessions": 0, "avatars": 0}
    assert _items(get_settings().pools_table, get_settings().focus_table) == everything
