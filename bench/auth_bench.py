"""Foundation figures: every API function's cold start vs a bare FastAPI+Mangum handler,
warm GET /v1/auth/me on PostgreSQL, and 200 concurrent signup+login+me sequences against
the local stack.

Goals (issues 2 and 9): cold start ≤ 2× baseline for every API function; warm /me p50 ≤ 3 ms,
p99 ≤ 10 ms; zero errors.

``--before main`` also measures another revision's cold starts in the same run (before and
after side by side); ``--cold-only`` skips the warm and load parts.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from pathlib import Path

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from bench.common import ROOT, local_stack_process, log, scratch_postgres, summary_ms

COLD_RUNS = int(os.environ.get("BENCH_COLD_RUNS", "7"))
WARM_CALLS = 3000
SEQUENCES = 200

CHILD = r"""
import json, sys, time
t0, c0 = time.perf_counter(), time.process_time()
import importlib
module = importlib.import_module(sys.argv[1])
t1 = time.perf_counter()
from cheese_local.lambda_context import LocalLambdaContext
result = module.handler(json.loads(sys.argv[2]), LocalLambdaContext(function_name="cold"))
t2, c2 = time.perf_counter(), time.process_time()
print(json.dumps({
    "import_s": t1 - t0, "first_request_s": t2 - t1, "cpu_s": c2 - c0,
    "status": result["statusCode"],
}))
"""


def python_path(tree: Path) -> str:
    """The import path of a source tree: its runtime layer, ML layer, local stack and root."""
    return os.pathsep.join(str(tree / p) for p in ("layers/runtime", "layers/ml", "local", "."))


def one_cold_start(module: str, event: dict, tree: Path, bytecode: Path) -> dict:
    """A fresh process of ``tree``'s code: import ``module``, then its handler's first request.

    Modules load from the bytecode under ``bytecode`` (``PYTHONPYCACHEPREFIX``), as in
    Lambda, where the layer and the function ship theirs: the first run of each module
    writes it, so every process after that compiles nothing, ours or the baseline's.
    """
    env = {**os.environ, "PYTHONPATH": python_path(tree), "PYTHONPYCACHEPREFIX": str(bytecode)}
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    out = subprocess.run(
        [sys.executable, "-c", CHILD, module, json.dumps(event)],
        check=False,
        cwd=tree,
        env=env,
        capture_output=True,
        text=True,
    )
    if out.returncode:
        return {"error": out.stderr.strip().splitlines()[-1][:300]}
    return json.loads(out.stdout.strip().splitlines()[-1])


def cold_figures(runs: list[dict]) -> dict:
    errors = [r["error"] for r in runs if "error" in r]
    if errors:
        return {"error": errors[0]}
    total = [r["import_s"] + r["first_request_s"] for r in runs]
    return {
        "status": sorted({r["status"] for r in runs}),
        "median_total_ms": round(statistics.median(total) * 1000, 1),
        "median_import_ms": round(statistics.median(r["import_s"] for r in runs) * 1000, 1),
        "median_first_request_ms": round(
            statistics.median(r["first_request_s"] for r in runs) * 1000, 1
        ),
        # CPU time of import and first request: steadier than wall time on a shared machine.
        "median_cpu_ms": round(statistics.median(r["cpu_s"] for r in runs) * 1000, 1),
    }


def cold_starts(trees: dict[str, Path], token: str) -> dict:
    """Cold starts of every API function of each tree and of the bare baseline, in one run.

    The runs interleave (the baselines, then every function of every tree, COLD_RUNS
    times) so that a machine busier in one part of the run biases no side.
    """
    from cheese_runtime import resources

    probes = {}
    for function in resources.API_FUNCTIONS:
        route = next(r for r in function.routes if r.method == "GET" and "{" not in r.path)
        probes[function.name] = (function.module, route, event_for(route.method, route.path, token))
    baseline_runs: list[dict] = []
    frozen_baseline_runs: list[dict] = []
    runs: dict[str, dict[str, list[dict]]] = {
        label: {name: [] for name in probes} for label in trees
    }
    bytecode = Path(tempfile.mkdtemp(prefix="cheese-bench-pyc-"))
    # One unmeasured run of each writes its bytecode (and warms the file cache alike).
    for run in range(COLD_RUNS + 1):
        baseline = one_cold_start("bench.baseline_app", event_for_baseline(), ROOT, bytecode)
        frozen = one_cold_start("bench.baseline_frozen_app", event_for_baseline(), ROOT, bytecode)
        if run:
            baseline_runs.append(baseline)
            frozen_baseline_runs.append(frozen)
        for label, tree in trees.items():
            for name, (module, _route, event) in probes.items():
                figures = one_cold_start(module, event, tree, bytecode)
                if run:
                    runs[label][name].append(figures)
    shutil.rmtree(bytecode, ignore_errors=True)
    baseline = cold_figures(baseline_runs)
    frozen_baseline = cold_figures(frozen_baseline_runs)
    # The goal is against the bare baseline; the frozen one says how much of the margin is
    # the collector trick, which a bare handler could use too.
    result: dict = {"cold_start_baseline": baseline, "cold_start_baseline_frozen": frozen_baseline}
    for label in trees:
        functions = {}
        for name, (_module, route, _event) in probes.items():
            figures = cold_figures(runs[label][name])
            figures["request"] = f"{route.method} {route.path}"
            if "error" not in figures:
                figures["ratio_to_baseline"] = round(
                    figures["median_total_ms"] / baseline["median_total_ms"], 2
                )
                figures["cpu_ratio_to_baseline"] = round(
                    figures["median_cpu_ms"] / baseline["median_cpu_ms"], 2
                )
                figures["ratio_to_frozen_baseline"] = round(
                    figures["median_total_ms"] / frozen_baseline["median_total_ms"], 2
                )
            functions[name] = figures
        result["cold_start" if label == "after" else f"cold_start_{label}"] = functions
    return result


@contextmanager
def source_tree(ref: str) -> Iterator[Path]:
    """The tracked files of git revision ``ref``, exported to a temporary directory."""
    with tempfile.TemporaryDirectory(prefix="cheese-bench-") as directory:
        archive = subprocess.run(
            ["git", "archive", ref], cwd=ROOT, check=True, capture_output=True
        ).stdout
        subprocess.run(["tar", "-x", "-C", directory], input=archive, check=True)
        yield Path(directory)


def create_tables_of(tree: Path) -> None:
    """The DynamoDB tables ``tree``'s code declares, in the running stack's moto (an older
    revision may read a table the current one dropped, e.g. the revocations before 0019)."""
    subprocess.run(
        [sys.executable, "-c", "from cheese_local.bootstrap import create_tables; create_tables()"],
        check=True,
        cwd=tree,
        env={**os.environ, "PYTHONPATH": python_path(tree)},
    )


def event_for(method: str, path: str, token: str | None = None) -> dict:
    from cheese_local.events import http_api_event
    from cheese_runtime import resources

    _function, route, params = resources.match_route(method, path)
    headers = {"authorization": f"Bearer {token}"} if token else {}
    return http_api_event(
        method,
        path,
        route_key=f"{route.method} {route.path}",
        path_parameters=params,
        headers=headers,
    )


def handler_figures(database_url: str | None, before: str | None, cold_only: bool) -> dict:
    from cheese_local.gateway import invoke
    from cheese_local.stack import LocalStack
    from tests.conftest import signup

    with tempfile.TemporaryDirectory() as data_dir, ExitStack() as trees_stack:
        stack = LocalStack(data_dir=Path(data_dir), database_url=database_url)
        settings = stack.start()
        try:
            user = signup("bench")
            trees = {"after": ROOT}
            if before:
                trees[f"before_{before}"] = trees_stack.enter_context(source_tree(before))
                create_tables_of(trees[f"before_{before}"])
            figures = {
                "database": settings.sqlalchemy_url.split(":", 1)[0],
                **cold_starts(trees, user.access_token),
            }
            if cold_only:
                return figures

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
            return {**figures, "warm_me": summary_ms(times)}
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
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument(
        "--before",
        metavar="GIT_REF",
        help="also measure the cold starts of this revision, in the same run (e.g. main)",
    )
    parser.add_argument(
        "--cold-only", action="store_true", help="cold starts only: no warm /me, no load"
    )
    args = parser.parse_args()
    os.environ.setdefault("POWERTOOLS_METRICS_DISABLED", "true")
    os.environ.setdefault("POWERTOOLS_TRACE_DISABLED", "true")
    os.environ.setdefault("POWERTOOLS_LOG_LEVEL", "WARNING")
    with scratch_postgres("cheese_bench_auth") as pg_url:
        log("cold starts" + ("" if args.cold_only else " and warm /me"))
        handler_result = handler_figures(pg_url, args.before, args.cold_only)
    cold_ok = all(
        f.get("ratio_to_baseline", 99) <= 2 for f in handler_result["cold_start"].values()
    )
    if args.cold_only:
        print(json.dumps({**handler_result, "goals": {"cold_start_le_2x_baseline": cold_ok}}))
        return
    log("200 concurrent signup+login+me sequences against `cheese run`")
    with tempfile.TemporaryDirectory() as data_dir, local_stack_process(Path(data_dir)) as base:
        load = asyncio.run(concurrent_sequences(base))
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
