"""Foundation figures: cold starts vs a bare FastAPI+Mangum handler, warm GET /v1/auth/me
on PostgreSQL, and 200 concurrent signup+login+me sequences against the local stack.

Goals (issue 2): cold start ≤ 2× baseline; warm /me p50 ≤ 3 ms, p99 ≤ 10 ms; zero errors.
"""

from __future__ import annotations

import asyncio
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from bench.common import ROOT, local_stack_process, log, scratch_postgres, summary_ms  # noqa: E402

COLD_RUNS = 7
WARM_CALLS = 3000
SEQUENCES = 200

CHILD = r"""
import json, sys, time
t0 = time.perf_counter()
import importlib
module = importlib.import_module(sys.argv[1])
t1 = time.perf_counter()
from cheese_local.lambda_context import LocalLambdaContext
result = module.handler(json.loads(sys.argv[2]), LocalLambdaContext(function_name="cold"))
t2 = time.perf_counter()
print(json.dumps({"import_s": t1 - t0, "first_request_s": t2 - t1, "status": result["statusCode"]}))
"""


def cold_start(module: str, event: dict, env: dict[str, str]) -> dict:
    runs = []
    for _ in range(COLD_RUNS):
        out = subprocess.run(
            [sys.executable, "-c", CHILD, module, json.dumps(event)],
            cwd=ROOT,
            env=env,
            capture_output=True,
            text=True,
        )
        if out.returncode:
            return {"error": out.stderr.strip().splitlines()[-1][:300]}
        runs.append(json.loads(out.stdout.strip().splitlines()[-1]))
    statuses = {r["status"] for r in runs}
    total = [r["import_s"] + r["first_request_s"] for r in runs]
    return {
        "status": sorted(statuses),
        "median_total_ms": round(statistics.median(total) * 1000, 1),
        "median_import_ms": round(statistics.median(r["import_s"] for r in runs) * 1000, 1),
        "median_first_request_ms": round(
            statistics.median(r["first_request_s"] for r in runs) * 1000, 1
        ),
    }


def event_for(method: str, path: str, token: str | None = None) -> dict:
    from cheese_local.events import http_api_event
    from cheese_runtime import resources

    function, route, params = resources.match_route(method, path)
    headers = {"authorization": f"Bearer {token}"} if token else {}
    return http_api_event(
        method,
        path,
        route_key=f"{route.method} {route.path}",
        path_parameters=params,
        headers=headers,
    )


def handler_figures(database_url: str | None) -> dict:
    from cheese_local.gateway import invoke
    from cheese_local.stack import LocalStack
    from cheese_runtime import resources
    from tests.conftest import signup

    with tempfile.TemporaryDirectory() as data_dir:
        stack = LocalStack(data_dir=Path(data_dir), database_url=database_url)
        settings = stack.start()
        try:
            user = signup("bench")
            env = {**os.environ, "PYTHONPATH": str(ROOT)}
            baseline = cold_start("bench.baseline_app", event_for_baseline(), env)
            functions = {}
            for function in resources.API_FUNCTIONS:
                route = next(r for r in function.routes if r.method == "GET" and "{" not in r.path)
                figures = cold_start(
                    function.module, event_for(route.method, route.path, user.access_token), env
                )
                figures["request"] = f"{route.method} {route.path}"
                if "error" not in figures:
                    figures["ratio_to_baseline"] = round(
                        figures["median_total_ms"] / baseline["median_total_ms"], 2
                    )
                functions[function.name] = figures

            from functions.auth.handler import handler

            event = event_for("GET", "/v1/auth/me", user.access_token)
            for _ in range(50):
                invoke(handler, event, "auth")
            times = []
            for _ in range(WARM_CALLS):
                started = time.perf_counter()
                result = invoke(handler, event, "auth")
                times.append(time.perf_counter() - started)
                assert result["statusCode"] == 200
            return {
                "database": settings.sqlalchemy_url.split(":", 1)[0],
                "cold_start_baseline": baseline,
                "cold_start": functions,
                "warm_me": summary_ms(times),
            }
        finally:
            stack.stop()


def event_for_baseline() -> dict:
    from cheese_local.events import http_api_event

    return http_api_event("GET", "/hello", route_key="GET /hello")


async def one_sequence(client: httpx.AsyncClient, errors: list[str]) -> int:
    email = f"load-{uuid.uuid4().hex}@example.com"
    password = "correct horse battery staple"
    requests = 0
    try:
        r = await client.post(
            "/v1/auth/signup", json={"email": email, "password": password, "display_name": "L"}
        )
        requests += 1
        r.raise_for_status()
        r = await client.post("/v1/auth/login", json={"email": email, "password": password})
        requests += 1
        r.raise_for_status()
        r = await client.get(
            "/v1/auth/me", headers={"Authorization": f"Bearer {r.json()['access_token']}"}
        )
        requests += 1
        r.raise_for_status()
    except httpx.HTTPError as exc:
        errors.append(f"{type(exc).__name__}: {exc}"[:200])
    return requests


async def concurrent_sequences(base_url: str) -> dict:
    errors: list[str] = []
    limits = httpx.Limits(max_connections=SEQUENCES, max_keepalive_connections=SEQUENCES)
    async with httpx.AsyncClient(base_url=base_url, timeout=120, limits=limits) as client:
        started = time.perf_counter()
        counts = await asyncio.gather(*(one_sequence(client, errors) for _ in range(SEQUENCES)))
        elapsed = time.perf_counter() - started
    return {
        "sequences": SEQUENCES,
        "requests": sum(counts),
        "errors": len(errors),
        "error_samples": errors[:3],
        "seconds": round(elapsed, 2),
        "requests_per_second": round(sum(counts) / elapsed, 1),
        "note": "each sequence hashes twice with argon2id (64 MiB, t=3, p=4): CPU-bound on 2 cores",
    }


def main() -> None:
    os.environ.setdefault("POWERTOOLS_METRICS_DISABLED", "true")
    os.environ.setdefault("POWERTOOLS_TRACE_DISABLED", "true")
    os.environ.setdefault("POWERTOOLS_LOG_LEVEL", "WARNING")
    with scratch_postgres("cheese_bench_auth") as pg_url:
        log("cold starts and warm /me")
        handler_result = handler_figures(pg_url)
    log("200 concurrent signup+login+me sequences against `cheese run`")
    with tempfile.TemporaryDirectory() as data_dir:
        with local_stack_process(Path(data_dir)) as base:
            load = asyncio.run(concurrent_sequences(base))
    cold_ok = all(
        f.get("ratio_to_baseline", 99) <= 2 for f in handler_result["cold_start"].values()
    )
    warm = handler_result["warm_me"]
    print(
        json.dumps(
            {
                **handler_result,
                "local_stack_load": load,
                "goals": {
                    "cold_start_le_2x_baseline": cold_ok,
                    "warm_me_p50_le_3ms": warm["p50_ms"] <= 3,
                    "warm_me_p99_le_10ms": warm["p99_ms"] <= 10,
                    "zero_errors_under_200_concurrent": load["errors"] == 0,
                },
            }
        )
    )


if __name__ == "__main__":
    main()
