"""The pool REST API through its Lambda handler, with real HTTP API v2 events (and sockets where events matter)."""

from __future__ import annotations

import time
import uuid

import httpx
import pytest

from cheese_runtime.errors import PROBLEM_BASE
from tests.conftest import call_api
from tests.pool.conftest import create_pool


def problem_type(response) -> str:  # noqa: ANN001
    assert response.headers["content-type"].startswith("application/problem+json"), response.body
    return response.json()["type"].removeprefix(PROBLEM_BASE)


def test_every_pool_route_requires_a_token(db) -> None:  # noqa: ANN001
    for method, path in [
        ("GET", "/v1/pools"),
        ("POST", "/v1/pools"),
        ("GET", "/v1/pools/x"),
        ("GET", "/v1/pools/x/leaderboard"),
        ("POST", "/v1/pools/x/invites"),
        ("POST", "/v1/pools/x/avatar"),
        ("GET", "/v1/me/focus"),
    ]:
        response = call_api(method, path, json_body={})
        assert response.status == 401, (method, path)


def test_create_and_list_pools_with_live_member_counts(make_user, clients) -> None:  # noqa: ANN001
    ann = make_user("lister")
    pool_id = create_pool(ann, capacity=5, name="  Night owls ")
    detail = ann.call("GET", f"/v1/pools/{pool_id}").json()
    assert (
        detail["name"] == "Night owls" and detail["capacity"] == 5 and detail["member_count"] == 0
    )
    a = clients(ann)
    a.send(action="enter", pool_id=pool_id)
    a.event("entered")
    listed = ann.call("GET", "/v1/pools", query="limit=100").json()["items"]
    mine = next(p for p in listed if p["pool_id"] == pool_id)
    assert mine["member_count"] == 1
    assert any(
        p["pool_id"] == pool_id
        for p in ann.call("GET", "/v1/pools", query="scope=mine").json()["items"]
    )


def test_pool_listing_pages_with_a_cursor(make_user) -> None:  # noqa: ANN001
    ann = make_user("pager")
    for i in range(3):
        create_pool(ann, name=f"p{i}")
    first = ann.call("GET", "/v1/pools", query="limit=2").json()
    assert len(first["items"]) == 2 and first["next_cursor"]
    second = ann.call("GET", "/v1/pools", query=f"limit=2&cursor={first['next_cursor']}").json()
    assert not {p["pool_id"] for p in first["items"]} & {p["pool_id"] for p in second["items"]}
    bad = ann.call("GET", "/v1/pools", query="cursor=bm9wZQ")
    assert bad.status == 400 and problem_type(bad) == "invalid-cursor"


@pytest.mark.parametrize(
    "body",
    [
        {"name": "", "capacity": 5},
        {"name": "x", "capacity": 1},
        {"name": "x", "capacity": 10000},
        {"name": "x\u0000", "capacity": 5},
        {"name": "x", "capacity": 5, "owner_id": "me"},
        {"name": "x", "capacity": "5"},
    ],
)
def test_invalid_pools_are_refused(make_user, body) -> None:  # noqa: ANN001
    response = make_user("invalid").call("POST", "/v1/pools", json_body=body)
    assert response.status == 422 and problem_type(response) == "validation-error"


def test_private_pools_are_404_for_non_members_and_visible_after_an_invite(make_user) -> None:  # noqa: ANN001
    owner, other = make_user("owner"), make_user("other")
    pool_id = create_pool(owner, public=False)
    assert all(
        p["pool_id"] != pool_id
        for p in other.call("GET", "/v1/pools", query="limit=100").json()["items"]
    )
    for method, path in [
        ("GET", f"/v1/pools/{pool_id}"),
        ("GET", f"/v1/pools/{pool_id}/leaderboard"),
        ("POST", f"/v1/pools/{pool_id}/avatar"),
    ]:
        response = other.call(method, path)
        assert response.status == 404 and problem_type(response) == "not-found", path
    response = other.call("POST", f"/v1/pools/{pool_id}/invites", json_body={"user_id": other.id})
    assert response.status == 404  # cannot even learn the pool exists
    assert (
        owner.call("POST", f"/v1/pools/{pool_id}/invites", json_body={"user_id": other.id}).status
        == 201
    )
    assert other.call("GET", f"/v1/pools/{pool_id}").status == 200
    assert any(
        p["pool_id"] == pool_id
        for p in other.call("GET", "/v1/pools", query="scope=mine").json()["items"]
    )
    # A member is not the owner: no inviting others.
    third = make_user("third")
    response = other.call("POST", f"/v1/pools/{pool_id}/invites", json_body={"user_id": third.id})
    assert response.status == 403


def test_inviting_an_account_that_does_not_exist_is_404(make_user) -> None:  # noqa: ANN001
    owner, leaving = make_user("inviter"), make_user("leaving")
    pool_id = create_pool(owner, public=False)
    nobody = str(uuid.uuid4())
    response = owner.call("POST", f"/v1/pools/{pool_id}/invites", json_body={"user_id": nobody})
    assert response.status == 404 and problem_type(response) == "not-found"
    # Nor one that is being deleted.
    assert leaving.call("DELETE", "/v1/auth/me").status == 202
    response = owner.call("POST", f"/v1/pools/{pool_id}/invites", json_body={"user_id": leaving.id})
    assert response.status == 404 and problem_type(response) == "not-found"
    # Not an id at all: the body is invalid.
    response = owner.call("POST", f"/v1/pools/{pool_id}/invites", json_body={"user_id": "x"})
    assert response.status == 422 and problem_type(response) == "validation-error"


def test_unknown_pool_is_404(make_user) -> None:  # noqa: ANN001
    user = make_user("unknown")
    assert user.call("GET", "/v1/pools/does-not-exist").status == 404
    assert user.call("GET", "/v1/pools/" + "x" * 65).status in (404, 422)


def test_leaderboard_counts_focused_minutes_from_heartbeats(make_user, clients) -> None:  # noqa: ANN001
    ann, bob = make_user("lbA"), make_user("lbB")
    pool_id = create_pool(ann)
    a, b = clients(ann), clients(bob)
    for sock in (a, b):
        sock.send(action="enter", pool_id=pool_id)
        sock.event("entered")
    # Ann focused for ~1 s (5 heartbeats), Bob unfocused.
    for _ in range(5):
        a.send(action="focus", score=90, pool_id=pool_id)
        b.send(action="focus", score=20, pool_id=pool_id)
        time.sleep(0.25)
    a.event("focus_updated", user_id=ann.id)
    live = ann.call("GET", f"/v1/pools/{pool_id}/leaderboard", query="period=day").json()
    top = live["entries"][0]
    assert top["user_id"] == ann.id and top["live"] is True and top["focused_minutes"] > 0
    assert all(e["user_id"] != bob.id or e["focused_minutes"] == 0 for e in live["entries"])
    a.send(action="exit")
    a.event("member_left", user_id=ann.id)
    closed = ann.call("GET", f"/v1/pools/{pool_id}/leaderboard", query="period=week").json()
    entry = next(e for e in closed["entries"] if e["user_id"] == ann.id)
    assert entry["live"] is False
    assert entry["focused_minutes"] == pytest.approx(top["focused_minutes"], abs=0.02)
    response = ann.call("GET", f"/v1/pools/{pool_id}/leaderboard", query="period=year")
    assert response.status == 422


def test_my_focus_history_is_mine_only(make_user, clients) -> None:  # noqa: ANN001
    ann, bob = make_user("histA"), make_user("histB")
    pool_id = create_pool(ann)
    a = clients(ann)
    a.send(action="enter", pool_id=pool_id)
    a.event("entered")
    for _ in range(3):
        a.send(action="focus", score=95, pool_id=pool_id)
        time.sleep(0.25)
    a.send(action="exit")
    a.event("member_left")
    history = ann.call("GET", "/v1/me/focus").json()
    session = history["items"][0]
    assert (
        session["pool_id"] == pool_id
        and session["active"] is False
        and session["end_reason"] == "exit"
    )
    assert session["heartbeats"] == 3 and session["focused_minutes"] > 0
    assert bob.call("GET", "/v1/me/focus").json()["items"] == []
    # A cursor into Ann's history does not open it to Bob.
    page = ann.call("GET", "/v1/me/focus", query="limit=1").json()
    if page["next_cursor"]:
        assert bob.call("GET", "/v1/me/focus", query=f"cursor={page['next_cursor']}").status == 400
    from cheese_runtime.pagination import encode_cursor

    forged = encode_cursor({"pk": f"USER#{ann.id}", "sk": "S#9999"})
    response = bob.call("GET", "/v1/me/focus", query=f"cursor={forged}")
    assert response.status == 400 and problem_type(response) == "invalid-cursor"


def test_avatar_upload_broadcasts_avatar_updated_with_a_short_lived_url(make_user, clients) -> None:  # noqa: ANN001
    ann, bob = make_user("avA"), make_user("avB")
    pool_id = create_pool(ann)
    a, b = clients(ann), clients(bob)
    for sock in (a, b):
        sock.send(action="enter", pool_id=pool_id)
        sock.event("entered")
    outsider = make_user("avC")
    response = outsider.call(
        "POST", f"/v1/pools/{pool_id}/avatar", json_body={"content_type": "image/png"}
    )
    assert response.status == 409 and problem_type(response) == "not-in-pool"

    upload = bob.call(
        "POST", f"/v1/pools/{pool_id}/avatar", json_body={"content_type": "image/png"}
    )
    assert upload.status == 201
    form = upload.json()
    assert form["key"].startswith(f"avatars/{pool_id}/{bob.id}/")
    thumbnail = b"\x89PNG\r\n\x1a\n" + b"0" * 200
    posted = httpx.post(
        form["url"], data=form["fields"], files={"file": ("a.png", thumbnail, "image/png")}
    )
    assert posted.status_code in (200, 201, 204), posted.text
    event = a.event("avatar_updated", timeout=15, user_id=bob.id)
    assert event["expires_in"] > 0
    assert httpx.get(event["url"]).content == thumbnail
    members = {m["user_id"]: m for m in ann.call("GET", f"/v1/pools/{pool_id}").json()["members"]}
    assert members[bob.id]["avatar_url"] and members[ann.id]["avatar_url"] is None


def test_avatar_consumer_is_idempotent_and_discards_bad_uploads(make_user, clients) -> None:  # noqa: ANN001
    import boto3

    from cheese_runtime.settings import get_settings
    from functions.pool.avatars import avatar_arrived
    from functions.pool.config import get_pool_settings

    ann = make_user("avIdem")
    pool_id = create_pool(ann)
    a = clients(ann)
    a.send(action="enter", pool_id=pool_id)
    a.event("entered")
    bucket = get_settings().photos_bucket
    s3 = boto3.client("s3")
    key = f"avatars/{pool_id}/{ann.id}/{int(time.time() * 1000):015d}-0123abcd.jpg"
    # What the presigned POST lets through: the declared type, bytes that start like it.
    s3.put_object(Bucket=bucket, Key=key, Body=b"\xff\xd8\xff\xe0", ContentType="image/jpeg")
    a.event("avatar_updated")
    assert avatar_arrived(bucket, key, 4) is False  # a repeated delivery changes nothing
    older = f"avatars/{pool_id}/{ann.id}/{1:015d}-0123abcd.jpg"
    s3.put_object(Bucket=bucket, Key=older, Body=b"\xff\xd8\xff", ContentType="image/jpeg")
    assert avatar_arrived(bucket, older, 3) is False  # an older upload arriving late loses
    big = f"avatars/{pool_id}/{ann.id}/{int(time.time() * 1000) + 5:015d}-0123abcd.jpg"
    s3.put_object(Bucket=bucket, Key=big, Body=b"x")
    assert avatar_arrived(bucket, big, get_pool_settings().avatar_max_bytes + 1) is False
    assert "Contents" not in s3.list_objects_v2(Bucket=bucket, Prefix=big)
    assert avatar_arrived(bucket, f"avatars/{pool_id}/../../etc/passwd", 3) is False


def test_an_avatar_whose_bytes_are_not_the_declared_image_is_discarded(make_user, clients) -> None:  # noqa: ANN001
    import boto3

    from cheese_runtime.settings import get_settings
    from functions.pool.avatars import avatar_arrived

    ann = make_user("avSniff")
    pool_id = create_pool(ann)
    a = clients(ann)
    a.send(action="enter", pool_id=pool_id)
    a.event("entered")
    bucket = get_settings().photos_bucket
    s3 = boto3.client("s3")
    key = f"avatars/{pool_id}/{ann.id}/{int(time.time() * 1000):015d}-0123abcd.png"
    body = b"<svg onload=alert(1)>" * 4
    s3.put_object(Bucket=bucket, Key=key, Body=body, ContentType="image/png")
    assert avatar_arrived(bucket, key, len(body)) is False
    assert "Contents" not in s3.list_objects_v2(Bucket=bucket, Prefix=key)
    members = {m["user_id"]: m for m in ann.call("GET", f"/v1/pools/{pool_id}").json()["members"]}
    assert members[ann.id]["avatar_url"] is None
