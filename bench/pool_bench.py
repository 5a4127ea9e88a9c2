"""Focus pools under churn, against the local stack (issue 5).

Two processes: the local stack (moto, the API Gateway WebSocket stand-in, the
real handlers; it counts every DynamoDB call by the WebSocket route that made
it) and this one, which drives real WebSocket clients (asyncio ``websockets``).

Phase 1, churn: ``--clients`` (200) clients for ``--duration`` (60) seconds
enter random pools, send ``focus`` heartbeats, go away and come back, exit,
or drop the socket and reconnect within the grace period. Afterwards the
presence of every pool (``GET /v1/pools/{id}``) must equal what the clients
believe, and every live connection must hold every sequenced event of its
pool since its ``entered`` snapshot (no gaps).

Phase 2, fan-out: 100 members in one pool; one member sends ``away``/``back``
(sequenced events) and ``focus`` (heartbeats); latency = time from the
sender's frame to the event's arrival at each of the 100 members.

DynamoDB: reads and writes per heartbeat (``focus`` invocations), item-level
(a TransactWriteItems of n items counts n), and Scans anywhere (must be 0).

Prints one JSON object. ``--duration 10`` for a quick run.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections import Counter, defaultdict
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from bench.common import ROOT, free_port, log, percentile

GOAL_P99_MS = 100.0
GOAL_WRITES_PER_HEARTBEAT = 1.0
READ_OPS = {"GetItem", "Query", "BatchGetItem", "TransactGetItems"}
WRITE_OPS = {"PutItem", "UpdateItem", "DeleteItem", "BatchWriteItem", "TransactWriteItems"}


# --- the server process ------------------------------------------------------------------


def serve(port: int, data_dir: Path) -> None:
    import botocore.client
    import uvicorn
    from starlette.applications import Starlette
    from starlette.responses import JSONResponse
    from starlette.routing import Mount, Route

    from cheese_local.gateway import observe_invocations
    from cheese_local.stack import LocalStack

    MotoProcess.avoid = port
    # DynamoDB & co. on their own core, as in AWS.
    stack = LocalStack(data_dir=data_dir, port=port, moto_server=MotoProcess)
    stack.start()
    lock = threading.Lock()
    local = threading.local()
    calls: Counter[tuple[str, str]] = Counter()
    items: Counter[tuple[str, str]] = Counter()
    invocations: Counter[str] = Counter()

    original_call = botocore.client.BaseClient._make_api_call

    def counted_call(self, operation_name, api_params):  # noqa: ANN001, ANN202
        if self.meta.service_model.service_name == "dynamodb":
            route = getattr(local, "route", "other")
            n = len(api_params.get("TransactItems", [])) or 1
            with lock:
                calls[(route, operation_name)] += 1
                items[(route, operation_name)] += n
        return original_call(self, operation_name, api_params)

    botocore.client.BaseClient._make_api_call = counted_call

    @contextmanager
    def routed(event: dict, function_name: str) -> Iterator[None]:
        route = event.get("requestContext", {}).get("routeKey", "authorizer")
        local.route = route if event.get("type") != "REQUEST" else "authorizer"
        with lock:
            invocations[local.route] += 1
        try:
            yield
        finally:
            local.route = "other"

    observe_invocations(routed)

    async def counters(request):  # noqa: ANN001, ANN202
        with lock:
            body = {
                "invocations": dict(invocations),
                "calls": [[r, o, n] for (r, o), n in calls.items()],
                "items": [[r, o, n] for (r, o), n in items.items()],
            }
            if request.method == "DELETE":
                calls.clear()
                items.clear()
                invocations.clear()
        return JSONResponse(body)

    app = Starlette(
        routes=[
            Route("/bench/counters", counters, methods=["GET", "DELETE"]),
            Mount("/", app=stack.app()),
        ]
    )
    try:
        # API Gateway does not ping clients (it has a 10-minute idle timeout instead).
        uvicorn.run(
            app,
            host="127.0.0.1",
            port=port,
            log_level="warning",
            ws="websockets-sansio",
            ws_ping_interval=None,
        )
    finally:
        stack.stop()


MOTO_CHILD = r"""
import os, sys, time
from cheese_local.stack import make_dynamodb_atomic
make_dynamodb_atomic()
from moto.server import ThreadedMotoServer
server = ThreadedMotoServer(ip_address="127.0.0.1", port=int(sys.argv[1]), verbose=False)
server.start()
parent = os.getppid()
while os.getppid() == parent:  # ends with the local stack process, however that one ends
    time.sleep(1)
"""


class MotoProcess:
    """moto's server in a child process (its own GIL), with the same atomic DynamoDB writes."""

    avoid: int = 0  # the local stack's own port, not bound yet when moto picks one

    def __init__(self, ip_address: str = "127.0.0.1", port: int = 0, verbose: bool = False) -> None:
        self.port = port or free_port()
        while self.port == self.avoid:
            self.port = free_port()
        self.proc: subprocess.Popen | None = None

    def start(self) -> None:
        import socket

        self.proc = subprocess.Popen(
            [sys.executable, "-c", MOTO_CHILD, str(self.port)],
            cwd=ROOT,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            try:
                socket.create_connection(("127.0.0.1", self.port), timeout=0.5).close()
                return
            except OSError:
                time.sleep(0.1)
        raise RuntimeError("moto did not start")

    def get_host_and_port(self) -> tuple[str, int]:
        return "127.0.0.1", self.port

    def stop(self) -> None:
        if self.proc:
            self.proc.terminate()
            self.proc.wait(timeout=10)


# --- the clients -------------------------------------------------------------------------


def mint_tokens(data_dir: Path, n: int) -> list[tuple[str, str]]:
    """(user id, access token) for synthetic users, signed with the stack's local key."""
    import jwt

    from cheese_runtime.auth.keys import ALGORITHM, KeySet
    from cheese_runtime.settings import Settings

    key = KeySet.from_json((data_dir / "keys" / "signing-keys.json").read_text()).active
    settings = Settings()
    now = int(time.time())
    out = []
    for _ in range(n):
        user_id = str(uuid.uuid4())
        claims = {
            "iss": settings.jwt_issuer,
            "aud": settings.jwt_audience,
            "sub": user_id,
            "sid": str(uuid.uuid4()),
            "iat": now,
            "nbf": now,
            "exp": now + 3000,
            "jti": str(uuid.uuid4()),
            "token_use": "access",
            "roles": [],
        }
        out.append(
            (
                user_id,
                jwt.encode(
                    claims, key.private_key(), algorithm=ALGORITHM, headers={"kid": key.kid}
                ),
            )
        )
    return out


@dataclass
class Stint:
    """One stay of one connection in one pool: the events it must have received."""

    pool_id: str
    snapshot_seq: int
    received: set[int] = field(default_factory=set)
    end_seq: int | None = None  # the seq of its own member_left / the drop (exclusive end)
    ended: str = "live"


class Client:
    def __init__(self, url: str, user_id: str, token: str, stats: dict[str, Any]) -> None:
        self.url, self.user_id, self.token, self.stats = url, user_id, token, stats
        self.ws: Any = None
        self.reader: asyncio.Task | None = None
        self.waiters: list[tuple[Any, asyncio.Future]] = []
        self.stint: Stint | None = None
        self.stints: list[Stint] = []
        self.state: tuple[str, str] | None = None  # (pool id, status) as this client believes it
        self.on_frame: Any = None
        self.closing = False
        self.lost = False

    async def connect(self) -> None:
        import websockets

        for attempt in range(3):
            try:
                self.ws = await websockets.connect(
                    f"{self.url}?token={self.token}",
                    open_timeout=30,
                    max_queue=None,
                    ping_interval=None,
                )
                break
            except (OSError, TimeoutError, websockets.exceptions.WebSocketException):
                self.stats["connect_failures"] += 1
                if attempt == 2:
                    raise
        self.reader = asyncio.create_task(self._read(self.ws))

    async def _read(self, ws: Any) -> None:
        try:
            async for raw in ws:
                now = time.perf_counter()
                frame = json.loads(raw)
                self.stats["frames"] += 1
                if self.on_frame:
                    self.on_frame(self, frame, now)
                kind = frame.get("type", "")
                if (
                    self.stint
                    and kind.startswith(("member_", "avatar_"))
                    and frame.get("pool_id") == self.stint.pool_id
                ):
                    self.stint.received.add(frame["seq"])
                for waiter in list(self.waiters):
                    predicate, future = waiter
                    if not future.done() and predicate(frame):
                        future.set_result(frame)
                        self.waiters.remove(waiter)
                if kind == "error" and frame.get("code") not in ("pool_full", "rate_limited"):
                    self.stats["errors"][frame.get("code")] += 1
        except Exception:
            pass
        if ws is self.ws and not self.closing:
            # Closed by the server (not by us): the member is in its grace period now.
            self.stats["closed_by_server"] += 1
            if self.stint:
                self.stint.ended = "closed_by_server"
                self.stint = None
            if self.state:
                self.state = (self.state[0], "away")
            self.lost = True

    async def request(
        self, frame: dict[str, Any], predicate: Any, timeout: float = 90.0
    ) -> dict[str, Any] | None:
        future = asyncio.get_running_loop().create_future()
        self.waiters.append((predicate, future))
        await self.ws.send(json.dumps(frame))
        try:
            return await asyncio.wait_for(future, timeout)
        except TimeoutError:
            self.stats["timeouts"][frame["action"]] += 1
            return None

    def mine(self, kind: str) -> Any:
        return lambda f: f.get("type") == kind and f.get("user_id") == self.user_id

    async def enter(self, pool_id: str) -> bool:
        answer = await self.request(
            {"action": "enter", "pool_id": pool_id},
            lambda f: (
                f.get("type") == "entered"
                or (f.get("type") == "error" and f.get("action") == "enter")
            ),
        )
        if not answer or answer["type"] != "entered":
            if answer:
                self.stats["enter_refused"][answer.get("code")] += 1
            return False
        self.stint = Stint(pool_id, answer["pool"]["seq"])
        self.stints.append(self.stint)
        self.state = (pool_id, "present")
        return True

    async def exit(self) -> None:
        answer = await self.request({"action": "exit"}, self.mine("member_left"))
        if answer and self.stint:
            self.stint.end_seq, self.stint.ended = answer["seq"], "exit"
        self.stint, self.state = None, None

    async def away_back(self, pause: float) -> None:
        answered = await self.request({"action": "away"}, self.mine("member_away"))
        self.state = (self.state[0], "away")  # a late answer still comes: the frame was accepted
        if answered:
            await asyncio.sleep(pause)
            await self.request({"action": "back"}, self.mine("member_back"))
            if self.state:
                self.state = (self.state[0], "present")

    async def drop_and_reconnect(self) -> None:
        """Lose the socket (no exit) and come back within the grace period."""
        pool_id = self.stint.pool_id if self.stint else self.state[0]
        if self.stint:
            self.stint.ended = "dropped"
        self.stint = None
        self.closing = True
        await self.ws.close()
        self.closing, self.lost = False, False
        await asyncio.sleep(random.uniform(0.3, 1.0))
        await self.connect()
        if not await self.enter(pool_id):
            self.state = None


async def churn(
    url: str,
    base: str,
    users: list[tuple[str, str]],
    pools: list[str],
    duration: float,
    heartbeat: float,
    stats: dict[str, Any],
) -> list[Client]:
    deadline = time.monotonic() + duration
    clients = [Client(url, uid, token, stats) for uid, token in users]

    async def run(client: Client) -> None:
        await asyncio.sleep(random.uniform(0, min(5.0, duration / 4)))
        await client.connect()
        mean = random.uniform(30, 95)
        while time.monotonic() < deadline:
            if client.state is None and not await client.enter(random.choice(pools)):
                await asyncio.sleep(random.uniform(0.2, 1.0))
                continue
            stay_until = time.monotonic() + random.uniform(3, 6) * heartbeat
            while time.monotonic() < min(stay_until, deadline) and client.state is not None:
                await asyncio.sleep(heartbeat * random.uniform(0.8, 1.2))
                if client.lost:  # the server closed us: come back like a dropped client
                    await client.drop_and_reconnect()
                    stats["drops"] += 1
                    continue
                score = max(0, min(100, int(random.gauss(mean, 8))))
                await client.ws.send(
                    json.dumps({"action": "focus", "score": score, "pool_id": client.state[0]})
                )
                stats["heartbeats_sent"] += 1
                if random.random() < 0.06 and time.monotonic() < deadline - 4:
                    await client.away_back(random.uniform(0.5, 2.0))
            if time.monotonic() >= deadline or client.state is None:
                break
            if random.random() < 0.15:
                await client.drop_and_reconnect()
                stats["drops"] += 1
            else:
                await client.exit()
                stats["exits"] += 1

    await asyncio.gather(*(run(c) for c in clients))
    return clients


async def fanout(
    url: str, users: list[tuple[str, str]], pool_id: str, rounds: int, stats: dict[str, Any]
) -> dict[str, list[float]]:
    members = [Client(url, uid, token, stats) for uid, token in users]
    for i in range(0, len(members), 10):
        await asyncio.gather(*(m.connect() for m in members[i : i + 10]))
        await asyncio.gather(*(m.enter(pool_id) for m in members[i : i + 10]))
    # Wait until the entry broadcasts (100 events x up to 100 members) have drained.
    last = members[-1].stint.snapshot_seq if members[-1].stint else 0
    settle = time.monotonic() + 120
    while time.monotonic() < settle and not all(
        (m.stint and last in m.stint.received | {m.stint.snapshot_seq})
        or (m.stint and m.stint.snapshot_seq >= last)
        for m in members
    ):
        await asyncio.sleep(0.2)
    await asyncio.sleep(1.0)
    stats["fanout_settle_s"] = round(time.monotonic() - settle + 120, 1)
    driver = members[0]
    latencies: dict[str, list[float]] = defaultdict(list)
    pending: dict[tuple[str, Any], tuple[float, set[str]]] = {}

    def on_frame(member: Client, frame: dict[str, Any], now: float) -> None:
        if frame.get("user_id") != driver.user_id:
            return
        started = pending.get(("send", frame.get("type")))
        if started is None:
            stats["fanout_unmatched"][frame.get("type")] += 1
            return
        t0, seen = started
        if member.user_id not in seen:
            seen.add(member.user_id)
            latencies[frame["type"]].append(now - t0)

    for m in members:
        m.on_frame = on_frame
    plan = [("away", "member_away"), ("back", "member_back"), ("focus", "focus_updated")]
    for r in range(rounds):
        for action, event in plan:
            seen: set[str] = set()
            pending.clear()
            pending[("send", event)] = (time.perf_counter(), seen)
            frame = {"action": action}
            if action == "focus":
                frame.update({"score": 50 + r % 50, "pool_id": pool_id})
            await driver.ws.send(json.dumps(frame))
            wait_until = time.monotonic() + 3
            while len(seen) < len(members) and time.monotonic() < wait_until:
                await asyncio.sleep(0.005)
            if len(seen) < len(members):
                stats["fanout_missing"] += len(members) - len(seen)
            await asyncio.sleep(1.05)  # heartbeats are limited to one per second
    for m in members:
        m.closing = True
        await m.ws.close()
    return latencies


def compare_presence(
    base: str, token: str, pools: list[str], clients: list[Client]
) -> dict[str, Any]:
    import httpx

    expected: dict[str, dict[str, str]] = defaultdict(dict)
    for c in clients:
        if c.state:
            expected[c.state[0]][c.user_id] = c.state[1]
    mismatches = []
    final_seq = {}
    with httpx.Client(
        base_url=base, headers={"authorization": f"Bearer {token}"}, timeout=30
    ) as http:
        for pool_id in pools:
            detail = http.get(f"/v1/pools/{pool_id}").json()
            final_seq[pool_id] = detail["seq"]
            actual = {m["user_id"]: m["status"] for m in detail["members"]}
            if actual != expected.get(pool_id, {}):
                mismatches.append(
                    {"pool_id": pool_id, "expected": expected.get(pool_id, {}), "actual": actual}
                )
            if detail["member_count"] != len(detail["members"]):
                mismatches.append(
                    {
                        "pool_id": pool_id,
                        "member_count": detail["member_count"],
                        "members": len(detail["members"]),
                    }
                )
    return {
        "mismatches": mismatches,
        "final_seq": final_seq,
        "members_expected": sum(len(v) for v in expected.values()),
    }


def gap_report(clients: list[Client], final_seq: dict[str, int]) -> dict[str, Any]:
    live_missed = live_expected = live = 0
    closed_missed = closed_expected = 0
    examples = []
    for c in clients:
        for stint in c.stints:
            if stint.ended == "live":
                live += 1
                wanted = set(range(stint.snapshot_seq + 1, final_seq[stint.pool_id] + 1))
                missed = wanted - stint.received
                live_expected += len(wanted)
                live_missed += len(missed)
                if missed and len(examples) < 5:
                    examples.append({"pool_id": stint.pool_id, "missed": sorted(missed)[:10]})
            elif stint.ended == "exit" and stint.end_seq:
                wanted = set(range(stint.snapshot_seq + 1, stint.end_seq + 1))
                closed_expected += len(wanted)
                closed_missed += len(wanted - stint.received)
    return {
        "live_connections": live,
        "live_events_expected": live_expected,
        "live_events_missed": live_missed,
        "exited_stints_events_expected": closed_expected,
        "exited_stints_events_missed": closed_missed,
        "examples": examples,
    }


def dynamodb_report(counters: dict[str, Any]) -> dict[str, Any]:
    by_route: dict[str, dict[str, int]] = defaultdict(
        lambda: {"read_calls": 0, "write_calls": 0, "write_items": 0, "scans": 0}
    )
    scans = 0
    for (route, op, n), (_, _, n_items) in zip(counters["calls"], counters["items"], strict=True):
        entry = by_route[route]
        if op in READ_OPS:
            entry["read_calls"] += n
        elif op in WRITE_OPS:
            entry["write_calls"] += n
            entry["write_items"] += n_items
        elif op == "Scan":
            entry["scans"] += n
            scans += n
    heartbeats = counters["invocations"].get("focus", 0)
    focus = by_route.get("focus", {"read_calls": 0, "write_calls": 0, "write_items": 0})
    return {
        "heartbeats_handled": heartbeats,
        "reads_per_heartbeat": round(focus["read_calls"] / heartbeats, 3) if heartbeats else None,
        "writes_per_heartbeat": round(focus["write_items"] / heartbeats, 3) if heartbeats else None,
        "scans_total": scans,
        "by_route": {
            r: {**v, "invocations": counters["invocations"].get(r, 0)} for r, v in by_route.items()
        },
    }


async def drive(base: str, data_dir: Path, args: argparse.Namespace) -> dict[str, Any]:
    import httpx

    url = base.replace("http://", "ws://") + "/ws"
    users = mint_tokens(data_dir, args.clients + 100 + 1)
    _admin_id, admin_token = users[-1]
    stats: dict[str, Any] = {
        "frames": 0,
        "heartbeats_sent": 0,
        "drops": 0,
        "exits": 0,
        "fanout_missing": 0,
        "fanout_unmatched": Counter(),
        "connect_failures": 0,
        "closed_by_server": 0,
        "errors": Counter(),
        "timeouts": Counter(),
        "enter_refused": Counter(),
    }
    with httpx.Client(
        base_url=base, headers={"authorization": f"Bearer {admin_token}"}, timeout=30
    ) as http:
        pools = [
            http.post(
                "/v1/pools", json={"name": f"churn {i}", "capacity": args.capacity, "public": True}
            ).json()["pool_id"]
            for i in range(args.pools)
        ]
        big = http.post(
            "/v1/pools", json={"name": "fan-out", "capacity": 100, "public": True}
        ).json()["pool_id"]
        http.delete("/bench/counters")
    log(
        f"churn: {args.clients} clients, {args.pools} pools of {args.capacity}, {args.duration:.0f} s"
    )
    started = time.monotonic()
    clients = await churn(
        url, base, users[: args.clients], pools, args.duration, args.heartbeat, stats
    )
    churn_seconds = time.monotonic() - started
    # Quiescence: wait until no frame arrived for 3 s (broadcasts still in flight land first).
    quiet_since, last_frames, settle_deadline = (
        time.monotonic(),
        stats["frames"],
        time.monotonic() + 120,
    )
    while time.monotonic() < settle_deadline:
        await asyncio.sleep(0.5)
        if stats["frames"] != last_frames:
            quiet_since, last_frames = time.monotonic(), stats["frames"]
        elif time.monotonic() - quiet_since >= 3.0:
            break
    stats["churn_settle_s"] = round(time.monotonic() - started - churn_seconds, 1)
    with httpx.Client(base_url=base, timeout=30) as http:
        counters = http.get("/bench/counters").json()
    presence = compare_presence(base, admin_token, pools, clients)
    gaps = gap_report(clients, presence.pop("final_seq"))
    for c in clients:
        c.closing = True
        await c.ws.close()
    await asyncio.sleep(2.0)
    log("fan-out: 100 members in one pool")
    latencies = await fanout(url, users[args.clients : args.clients + 100], big, args.rounds, stats)
    summary = {
        kind: {
            "n": len(v),
            "p50_ms": round(percentile([x * 1000 for x in v], 50), 1),
            "p99_ms": round(percentile([x * 1000 for x in v], 99), 1),
            "max_ms": round(max(v) * 1000, 1),
        }
        for kind, v in latencies.items()
        if v
    }
    sequenced = [x * 1000 for k in ("member_away", "member_back") for x in latencies.get(k, [])]
    p99 = round(percentile(sequenced, 99), 1) if sequenced else None
    db = dynamodb_report(counters)
    result = {
        "bench": "pool",
        "churn": {
            "clients": args.clients,
            "pools": args.pools,
            "capacity": args.capacity,
            "duration_s": round(churn_seconds, 1),
            "settle_s": stats.get("churn_settle_s"),
            "heartbeat_interval_s": args.heartbeat,
            "heartbeats_sent": stats["heartbeats_sent"],
            "exits": stats["exits"],
            "drops_reconnected": stats["drops"],
            "frames_received": stats["frames"],
            "connect_failures": stats["connect_failures"],
            "closed_by_server": stats["closed_by_server"],
            "error_frames": dict(stats["errors"]),
            "enter_refused": dict(stats["enter_refused"]),
            "timeouts": dict(stats["timeouts"]),
        },
        "presence": {
            "members_expected": presence["members_expected"],
            "mismatches": presence["mismatches"][:5],
            "equal": not presence["mismatches"],
        },
        "sequence_gaps": gaps,
        "fanout_100": {
            "rounds": args.rounds,
            "latency": summary,
            "sequenced_event_p99_ms": p99,
            "deliveries_missing": stats["fanout_missing"],
            "unmatched": dict(stats["fanout_unmatched"]),
            "entry_settle_s": stats.get("fanout_settle_s"),
        },
        "dynamodb": db,
        "goals": {
            "presence_equal": not presence["mismatches"],
            "no_gaps_live_connections": gaps["live_events_missed"] == 0,
            "fanout_p99_le_100ms": p99 is not None and p99 <= GOAL_P99_MS,
            "writes_per_heartbeat_le_1": db["writes_per_heartbeat"] is not None
            and db["writes_per_heartbeat"] <= GOAL_WRITES_PER_HEARTBEAT,
            "no_scans": db["scans_total"] == 0,
        },
        "environment": {
            "cpus": os.cpu_count(),
            "python": sys.version.split()[0],
            "note": "one machine: moto, uvicorn, the handlers (one process) and the clients (another)",
        },
    }
    return result


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--serve", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--data-dir", help=argparse.SUPPRESS)
    parser.add_argument("--duration", type=float, default=60.0)
    parser.add_argument("--clients", type=int, default=200)
    parser.add_argument("--pools", type=int, default=20)
    parser.add_argument("--capacity", type=int, default=12)
    # Seconds between a client's heartbeats (the app sends one every 5-10 s).
    parser.add_argument("--heartbeat", type=float, default=10.0)
    parser.add_argument("--rounds", type=int, default=20)
    args = parser.parse_args()
    if args.serve:
        serve(args.serve, Path(args.data_dir))
        return 0
    import httpx

    data_dir = Path(tempfile.mkdtemp(prefix="pool-bench-"))
    port = free_port()
    env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "AWS_ENDPOINT_URL")}
    env.setdefault("POWERTOOLS_LOG_LEVEL", "ERROR")
    env["CHEESE_LOCAL_SCHEDULE_SECONDS"] = "60"
    # The fan-out phase's 100 members stay silent (their heartbeats would be 20/s of
    # 100-post broadcasts, more than one Python process can fan out): keep them present.
    env["CHEESE_POOL_AWAY_AFTER_SECONDS"] = "180"
    server = subprocess.Popen(
        [sys.executable, __file__, "--serve", str(port), "--data-dir", str(data_dir)],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=(data_dir / "server.log").open("w"),
    )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 90
        while True:
            try:
                if httpx.get(f"{base}/healthz", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            if time.monotonic() > deadline or server.poll() is not None:
                raise RuntimeError(f"the local stack did not start; see {data_dir / 'server.log'}")
            time.sleep(0.3)
        result = asyncio.run(drive(base, data_dir, args))
    finally:
        server.terminate()
        try:
            server.wait(timeout=10)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait()
    print(json.dumps(result))
    return 0


if __name__ == "__main__":
    sys.exit(main())
