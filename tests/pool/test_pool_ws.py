"""Focus pools over real WebSocket clients against the local stack (uvicorn + the API Gateway stand-in)."""

from __future__ import annotations

import json
import threading
import time
import uuid

import boto3
import jwt
import pytest
from websockets.exceptions import ConnectionClosed, InvalidStatus
from websockets.sync.client import connect

from tests.conftest import wait_until
from tests.pool.conftest import WsClient, create_pool

HEARTBEAT_GAP = 0.25  # above the tests' 0.2 s heartbeat rate limit


def contiguous(seqs: list[int]) -> bool:
    return seqs == list(range(seqs[0], seqs[0] + len(seqs))) if seqs else True


def sweep() -> dict:
    from cheese_local.events import scheduled_event
    from cheese_local.lambda_context import LocalLambdaContext
    from functions.pool.sweep import handler

    return handler(scheduled_event("pool-sweep"), LocalLambdaContext("pool-sweep"))


def token_expiring_in(user_id: str, seconds: int) -> str:
    from cheese_runtime.settings import get_settings
    from functions.auth.tokens import load_key_set

    key, s, now = load_key_set().active, get_settings(), int(time.time())
    claims = {
        "iss": s.jwt_issuer,
        "aud": s.jwt_audience,
        "sub": user_id,
        "sid": str(uuid.uuid4()),
        "iat": now,
        "nbf": now,
        "exp": now + seconds,
        "jti": str(uuid.uuid4()),
        "token_use": "access",
        "roles": [],
    }
    return jwt.encode(claims, key.private_key(), algorithm="EdDSA", headers={"kid": key.kid})


def enter(client: WsClient, pool_id: str) -> dict:
    client.send(action="enter", pool_id=pool_id)
    return client.event("entered")["pool"]


# --- connecting ----------------------------------------------------------------------


@pytest.mark.parametrize("query", ["", "?token=garbage", "?token="])
def test_connect_without_a_valid_token_is_refused_before_the_handshake(ws_url, query) -> None:  # noqa: ANN001
    with pytest.raises(InvalidStatus) as refused:
        connect(ws_url + query, open_timeout=10)
    assert refused.value.response.status_code in (401, 403)


def test_token_in_the_subprotocol_header_negotiates_bearer(make_user, ws_url) -> None:  # noqa: ANN001
    user = make_user("proto")
    with connect(ws_url, subprotocols=["bearer", user.access_token], open_timeout=10) as ws:
        assert ws.subprotocol == "bearer"
        ws.send(json.dumps({"action": "ping", "ref": "p1"}))
        assert json.loads(ws.recv(timeout=5))["type"] == "pong"


def test_management_api_reaches_local_sockets_and_answers_410_for_unknown(
    make_user, clients, http_base_url
) -> None:  # noqa: ANN001
    """boto3's apigatewaymanagementapi client pointed at the local stack: post, get, delete, 410."""
    from cheese_runtime.settings import get_settings
    from functions.pool import dal

    user = make_user("mgmt")
    client = clients(user)
    client.send(action="ping")
    client.event("pong")
    # Find this client's connection id through its connection record.
    ids = [
        dal.de(i)["connection_id"]
        for shard in range(dal.AGE_SHARDS)
        for i in boto3.client("dynamodb").query(
            TableName=get_settings().pool_connections_table,
            IndexName="by-age",
            KeyConditionExpression="age_shard = :s",
            ExpressionAttributeValues={":s": {"S": f"AGE#{shard}"}},
        )["Items"]
        if dal.de(i)["user_id"] == user.id
    ]
    assert len(ids) == 1
    api = boto3.client(
        "apigatewaymanagementapi", endpoint_url=http_base_url, region_name="us-east-1"
    )
    api.post_to_connection(ConnectionId=ids[0], Data=b'{"type":"hello"}')
    assert client.event("hello")
    info = api.get_connection(ConnectionId=ids[0])
    assert info["Identity"]["SourceIp"] == "127.0.0.1"
    with pytest.raises(api.exceptions.GoneException):
        api.post_to_connection(ConnectionId="bm90LWEtY29ubg=", Data=b"x")
    api.delete_connection(ConnectionId=ids[0])
    with pytest.raises(ConnectionClosed):
        client.recv(timeout=5)
    with pytest.raises(api.exceptions.GoneException):
        api.get_connection(ConnectionId=ids[0])


# --- presence ----------------------------------------------------------------------------


def test_two_people_see_each_other_enter_focus_go_away_and_leave(
    make_user, clients, pool_settings
) -> None:  # noqa: ANN001
    # Ann sends no heartbeat here: with the suite's 1.5 s away timeout a slow machine
    # would (rightly) add a member_away for her. Timeouts have tests of their own.
    pool_settings(away_after_seconds=120)
    ann, bob = make_user("ann"), make_user("bob")
    pool_id = create_pool(ann)
    a = clients(ann)
    snapshot = enter(a, pool_id)
    assert [m["user_id"] for m in snapshot["members"]] == [ann.id]
    first = a.event("member_entered")
    b = clients(bob, via="protocol")
    snapshot = enter(b, pool_id)
    assert {m["user_id"] for m in snapshot["members"]} == {ann.id, bob.id}
    assert a.event("member_entered")["member"]["user_id"] == bob.id

    b.send(action="focus", score=85, pool_id=pool_id)
    update = a.event("focus_updated", user_id=bob.id)
    assert update["score"] == 85 and update["focused"] is True
    time.sleep(HEARTBEAT_GAP)
    b.send(action="focus", score=90)  # without pool_id: the server looks the pool up
    assert a.event("focus_updated", user_id=bob.id)["score"] == 90

    b.send(action="away")
    assert a.event("member_away", user_id=bob.id)["reason"] == "user"
    b.send(action="back")
    assert a.event("member_back", user_id=bob.id)["reason"] == "user"
    b.send(action="exit")
    assert a.event("member_left", user_id=bob.id)["reason"] == "exit"
    b.event("member_left", user_id=bob.id)  # the leaver hears it too

    seqs = a.seqs()
    assert seqs[0] == first["seq"] and contiguous(seqs) and len(seqs) == 5
    assert contiguous(b.seqs())
    detail = ann.call("GET", f"/v1/pools/{pool_id}").json()
    assert detail["seq"] == seqs[-1] and detail["member_count"] == 1


def test_every_member_receives_every_sequence_number_once(
    make_user, clients, pool_settings
) -> None:  # noqa: ANN001
    """Concurrent changes reach every live member, none lost or repeated, up to the pool's seq.

    Posts from concurrent invocations may arrive out of order (the client holds a
    gap briefly, functions/pool/README.md), so the numbers are compared as a set.
    """
    pool_settings(away_after_seconds=120)  # no timeout events racing the final read
    users = [make_user(f"order{i}") for i in range(4)]
    pool_id = create_pool(users[0])
    socks = [clients(u) for u in users]
    for sock in socks:
        enter(sock, pool_id)
    for sock in socks[1:]:
        sock.send(action="away")
        sock.send(action="back")
    socks[3].send(action="exit")
    for sock in socks[:3]:
        sock.event("member_left", user_id=users[3].id)
    final = users[0].call("GET", f"/v1/pools/{pool_id}").json()["seq"]
    for sock in socks[:3]:
        deadline = time.monotonic() + 5
        while final not in sock.seqs() and time.monotonic() < deadline:
            sock.drain(0.2)
        seqs = sorted(sock.seqs())
        assert len(set(seqs)) == len(seqs), seqs
        assert contiguous(seqs), seqs
        assert seqs[-1] == final


def test_silent_member_becomes_away_then_back_with_a_heartbeat(make_user, clients) -> None:  # noqa: ANN001
    ann, bob = make_user("hbA"), make_user("hbB")
    pool_id = create_pool(ann)
    a, b = clients(ann), clients(bob)
    enter(a, pool_id)
    enter(b, pool_id)
    b.send(action="focus", score=70, pool_id=pool_id)
    a.event("focus_updated", user_id=bob.id)
    # Ann keeps heartbeating; Bob goes silent past the 1.5 s away timeout.
    deadline = time.monotonic() + 6
    away = None
    while away is None and time.monotonic() < deadline:
        time.sleep(0.4)
        a.send(action="focus", score=50, pool_id=pool_id)
        a.drain(0.1)
        away = next(
            (f for f in a.frames if f.get("type") == "member_away" and f["user_id"] == bob.id), None
        )
    assert away is not None and away["reason"] == "timeout"
    b.send(action="focus", score=75, pool_id=pool_id)
    assert a.event("member_back", user_id=bob.id)["reason"] == "heartbeat"
    assert contiguous(a.seqs())


def test_the_sweep_marks_a_silent_pool_away(make_user, clients) -> None:  # noqa: ANN001
    ann, bob = make_user("swA"), make_user("swB")
    pool_id = create_pool(ann)
    a, b = clients(ann), clients(bob)
    enter(a, pool_id)
    enter(b, pool_id)
    time.sleep(1.7)  # nobody heartbeats
    sweep()
    reasons = {a.event("member_away")["user_id"], a.event("member_away")["user_id"]}
    assert reasons == {ann.id, bob.id}
    statuses = {
        m["user_id"]: (m["status"], m["away_reason"])
        for m in ann.call("GET", f"/v1/pools/{pool_id}").json()["members"]
    }
    assert statuses == {ann.id: ("away", "timeout"), bob.id: ("away", "timeout")}


def test_reconnecting_within_grace_keeps_the_seat_and_the_session(make_user, clients) -> None:  # noqa: ANN001
    ann, bob = make_user("rcA"), make_user("rcB")
    pool_id = create_pool(ann, capacity=2)
    a, b = clients(ann), clients(bob)
    enter(a, pool_id)
    enter(b, pool_id)
    b.send(action="focus", score=90, pool_id=pool_id)
    a.event("focus_updated", user_id=bob.id)
    session = bob.call("GET", "/v1/me/focus").json()["items"][0]
    assert session["active"] is True
    b.close()
    assert a.event("member_away", user_id=bob.id)["reason"] == "disconnected"
    b2 = clients(bob)
    snapshot = enter(b2, pool_id)
    assert snapshot["member_count"] == 2  # the seat was kept (the pool is full without it)
    assert a.event("member_back", user_id=bob.id)["reason"] == "reconnected"
    again = bob.call("GET", "/v1/me/focus").json()["items"][0]
    assert again["session_id"] == session["session_id"] and again["active"] is True
    assert contiguous(a.seqs())


def test_after_the_grace_period_the_member_is_removed(make_user, clients) -> None:  # noqa: ANN001
    ann, bob = make_user("grA"), make_user("grB")
    pool_id = create_pool(ann)
    a, b = clients(ann), clients(bob)
    enter(a, pool_id)
    enter(b, pool_id)
    b.close()
    a.event("member_away", user_id=bob.id)
    time.sleep(2.2)  # grace is 2 s in the tests
    sweep()
    assert a.event("member_left", user_id=bob.id)["reason"] == "timeout"
    assert ann.call("GET", f"/v1/pools/{pool_id}").json()["member_count"] == 1
    history = bob.call("GET", "/v1/me/focus").json()["items"]
    assert history[0]["active"] is False and history[0]["end_reason"] == "timeout"


def test_a_second_connection_takes_the_seat_over(make_user, clients) -> None:  # noqa: ANN001
    ann = make_user("twice")
    pool_id = create_pool(ann)
    first, second = clients(ann), clients(ann)
    enter(first, pool_id)
    enter(second, pool_id)
    assert first.event("error")["code"] == "replaced"
    with pytest.raises(ConnectionClosed):
        for _ in range(10):
            first.recv(timeout=5)
    second.send(action="focus", score=80, pool_id=pool_id)
    assert second.event("focus_updated")["user_id"] == ann.id


# --- capacity and exclusivity --------------------------------------------------------------


@pytest.mark.parametrize("round_", range(3))
def test_two_clients_racing_for_the_last_seat_exactly_one_wins(make_user, clients, round_) -> None:  # noqa: ANN001
    owner, x, y = make_user("cap"), make_user("capX"), make_user("capY")
    pool_id = create_pool(owner, capacity=2)
    enter(clients(owner), pool_id)
    cx, cy = clients(x), clients(y)
    barrier = threading.Barrier(2)

    def go(client: WsClient) -> None:
        barrier.wait()
        client.send(action="enter", pool_id=pool_id)

    threads = [threading.Thread(target=go, args=(c,)) for c in (cx, cy)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    outcomes = [c.wait_for(lambda f: f.get("type") in ("entered", "error"), 15) for c in (cx, cy)]
    kinds = sorted(o["type"] if o["type"] == "entered" else o["code"] for o in outcomes)
    assert kinds == ["entered", "pool_full"]
    detail = owner.call("GET", f"/v1/pools/{pool_id}").json()
    assert detail["member_count"] == 2 and len(detail["members"]) == 2


def test_one_user_is_in_at_most_one_pool(make_user, clients) -> None:  # noqa: ANN001
    ann = make_user("one")
    first, second = create_pool(ann), create_pool(ann)
    a = clients(ann)
    enter(a, first)
    a.send(action="enter", pool_id=second, ref="r2")
    error = a.event("error")
    assert error["code"] == "already_in_pool" and error["pool_id"] == first and error["ref"] == "r2"
    a.send(action="exit")
    a.event("member_left")
    assert enter(a, second)["pool_id"] == second


def test_private_pools_are_invisible_to_non_members(make_user, clients) -> None:  # noqa: ANN001
    owner, stranger = make_user("priv"), make_user("stranger")
    pool_id = create_pool(owner, public=False)
    s = clients(stranger)
    s.send(action="enter", pool_id=pool_id)
    assert s.event("error")["code"] == "pool_not_found"
    s.send(action="enter", pool_id="no-such-pool")
    assert s.event("error")["code"] == "pool_not_found"
    assert (
        owner.call(
            "POST", f"/v1/pools/{pool_id}/invites", json_body={"user_id": stranger.id}
        ).status
        == 201
    )
    assert enter(s, pool_id)["pool_id"] == pool_id


# --- stale connections -------------------------------------------------------------------------


def test_a_410_removes_the_stale_connection_not_the_sender(make_user, clients) -> None:  # noqa: ANN001
    from cheese_runtime.settings import get_settings
    from functions.pool import dal

    ann, ghost = make_user("sender"), make_user("ghost")
    pool_id = create_pool(ann)
    a, g = clients(ann), clients(ghost)
    enter(a, pool_id)
    enter(g, pool_id)
    # The ghost's socket died without a $disconnect reaching us (API Gateway's is best effort):
    # its member item still names a connection API Gateway no longer knows.
    stale_id = "c3RhbGUtY29ubmVjdA="
    boto3.client("dynamodb").update_item(
        TableName=get_settings().pools_table,
        Key={"pk": {"S": dal.pool_pk(pool_id)}, "sk": {"S": dal.member_sk(ghost.id)}},
        UpdateExpression="SET connection_id = :c",
        ExpressionAttributeValues={":c": {"S": stale_id}},
    )
    a.send(action="focus", score=60, pool_id=pool_id)
    a.event("focus_updated", user_id=ann.id)
    away = a.event("member_away", user_id=ghost.id)
    assert away["reason"] == "disconnected"
    members = {m["user_id"]: m for m in ann.call("GET", f"/v1/pools/{pool_id}").json()["members"]}
    assert members[ann.id]["status"] == "present"  # the sender is untouched
    assert members[ghost.id]["away_reason"] == "disconnected"
    time.sleep(HEARTBEAT_GAP)
    a.send(action="focus", score=61, pool_id=pool_id)
    assert a.event("focus_updated", user_id=ann.id)["score"] == 61


# --- bad input, limits, tokens -------------------------------------------------------------------


@pytest.mark.parametrize(
    "frame, code",
    [
        ("not json", "malformed"),
        ("[1, 2]", "malformed"),
        ('{"pool_id": "x"}', "malformed"),
        ('{"action": 5}', "malformed"),
        ('{"action": "dance"}', "unknown_action"),
        ('{"action": "focus", "score": 101}', "invalid_message"),
        ('{"action": "focus", "score": "50"}', "invalid_message"),
        ('{"action": "focus", "score": true}', "invalid_message"),
        ('{"action": "enter"}', "invalid_message"),
        ('{"action": "enter", "pool_id": "../../etc"}', "invalid_message"),
        ('{"action": "ping", "extra": 1}', "invalid_message"),
        ('{"action": "focus", "score": 50}', "not_in_pool"),
        ('{"action": "exit"}', "not_in_pool"),
        ('{"action": "ping", "pad": "' + "x" * 5000 + '"}', "message_too_large"),
    ],
)
def test_malformed_frames_get_an_error_frame_and_the_connection_stays_open(
    make_user, clients, frame, code
) -> None:  # noqa: ANN001
    client = clients(make_user("bad"))
    client.send_raw(frame)
    assert client.event("error")["code"] == code
    client.send(action="ping", ref="still-here")
    assert client.event("pong")["ref"] == "still-here"


def test_binary_frames_are_refused_politely(make_user, clients) -> None:  # noqa: ANN001
    client = clients(make_user("binary"))
    client.send_raw(b"\x00\xff\x10")
    assert client.event("error")["code"] == "malformed"
    client.send(action="ping")
    client.event("pong")


def test_a_frame_over_128_kb_closes_the_connection_like_api_gateway(make_user, clients) -> None:  # noqa: ANN001
    client = clients(make_user("huge"))
    client.send_raw("x" * (128 * 1024 + 1))
    with pytest.raises(ConnectionClosed) as closed:
        client.recv(timeout=5)
    assert closed.value.rcvd.code == 1009


def test_frames_are_rate_limited(make_user, clients, pool_settings) -> None:  # noqa: ANN001
    pool_settings(rate_limit_messages=3, rate_limit_window_seconds=60)
    client = clients(make_user("chatty"))
    for i in range(4):
        client.send(action="ping", ref=str(i))
    replies = [client.wait_for(lambda f, ref=str(i): f.get("ref") == ref) for i in range(4)]
    assert [r["type"] for r in replies] == ["pong", "pong", "pong", "error"]
    assert replies[3]["code"] == "rate_limited" and replies[3]["retry_after"] > 0


def test_heartbeats_faster_than_the_minimum_interval_are_refused(make_user, clients) -> None:  # noqa: ANN001
    ann = make_user("fast")
    pool_id = create_pool(ann)
    a = clients(ann)
    enter(a, pool_id)
    a.send(action="focus", score=80, pool_id=pool_id, ref="1")
    a.send(action="focus", score=80, pool_id=pool_id, ref="2")
    assert a.wait_for(lambda f: f.get("type") == "focus_updated")["hb"] == 1
    error = a.event("error", ref="2")
    assert error["code"] == "rate_limited"


def test_a_token_that_expires_mid_session_closes_the_connection(make_user, clients, ws_url) -> None:  # noqa: ANN001
    ann, watcher = make_user("expiring"), make_user("watcher")
    pool_id = create_pool(watcher)
    w = clients(watcher)
    enter(w, pool_id)
    short = WsClient(ws_url, token_expiring_in(ann.id, 2))
    try:
        enter(short, pool_id)
        time.sleep(2.3)
        short.send(action="focus", score=80, pool_id=pool_id)
        assert short.event("error")["code"] == "token_expired"
        with pytest.raises(ConnectionClosed):
            for _ in range(10):
                short.recv(timeout=5)
    finally:
        short.close()
    # The member keeps the seat for the grace period: a fresh token brings it back.
    assert w.event("member_away", user_id=ann.id)["reason"] == "disconnected"
    fresh = clients(ann)
    enter(fresh, pool_id)
    assert w.event("member_back", user_id=ann.id)["reason"] == "reconnected"


def test_the_sweep_deletes_connection_records_past_the_two_hour_limit(db) -> None:  # noqa: ANN001
    from cheese_runtime.settings import get_settings
    from functions.pool import dal

    table = get_settings().pool_connections_table
    old = time.time() - 3 * 3600
    boto3.client("dynamodb").put_item(
        TableName=table,
        Item=dal.ser_map(
            {
                "connection_id": "b2xkLWNvbm5lY3Q=",
                "user_id": "u",
                "connected_at": f"{old:017.3f}",
                "age_shard": "AGE#1",
                "expires_at": int(old) + 8100,
            }
        ),
    )
    result = sweep()
    assert result["connections_expired"] >= 1
    assert wait_until(
        lambda: (
            "Item"
            not in boto3.client("dynamodb").get_item(
                TableName=table, Key={"connection_id": {"S": "b2xkLWNvbm5lY3Q="}}
            )
        ),
        timeout=2,
    )
