"""What a cold start imports: each API function's handler module, in a fresh interpreter.

The cold-start budget (bench/auth_bench.py: ≤ 2× a bare FastAPI + Mangum
handler) is mostly imports; these tests keep the ones no first request
needs out of the handlers' import.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

from cheese_runtime import resources

PROBE = r"""
import json, sys
import importlib
importlib.import_module(sys.argv[1])
print(json.dumps(sorted(m for m in sys.modules if m.split(".")[0] in {
    "aws_xray_sdk", "numpy", "cheese_ml", "boto3", "botocore", "PIL", "cv2", "onnxruntime",
    "sqlalchemy", "psycopg", "psycopg2",
})))
"""


def imported_by(module: str, **env: str) -> set[str]:
    out = subprocess.run(
        [sys.executable, "-c", PROBE, module],
        env={**os.environ, **env},
        capture_output=True,
        text=True,
        check=True,
    )
    return set(json.loads(out.stdout))


@pytest.mark.parametrize("function", resources.API_FUNCTIONS, ids=lambda f: f.name)
def test_api_handlers_import_no_tracing_sdk_and_no_ml(function: resources.ApiFunction) -> None:
    loaded = imported_by(function.module, POWERTOOLS_TRACE_DISABLED="true")
    assert "aws_xray_sdk.core" not in loaded
    assert not {m for m in loaded if m.split(".")[0] in {"numpy", "cheese_ml", "PIL", "cv2"}}


def test_the_pool_api_keeps_its_data_in_dynamodb_and_imports_no_orm() -> None:
    # Its only SQL is the token check's revocation read (core SQL); the ORM is ~30 ms.
    loaded = imported_by("functions.pool.handler")
    assert "sqlalchemy" in loaded
    assert "sqlalchemy.orm" not in loaded


@pytest.mark.parametrize("function", resources.API_FUNCTIONS, ids=lambda f: f.name)
def test_the_database_driver_is_imported_by_the_first_connection(
    function: resources.ApiFunction,
) -> None:
    loaded = imported_by(function.module)
    assert not {m for m in loaded if m.split(".")[0] in {"psycopg", "psycopg2"}}


def test_tracer_keeps_the_powertools_decorators_while_tracing_is_off() -> None:
    from cheese_runtime.observability import tracer

    @tracer.capture_method
    def add_one(value: int) -> int:
        return value + 1

    @tracer.capture_lambda_handler(capture_response=False)
    def handler(event: int, context: object) -> int:
        return add_one(event)

    assert tracer.disabled
    assert handler(1, None) == 2


def test_tracing_in_lambda_uses_the_xray_sdk() -> None:
    loaded = imported_by(
        "cheese_runtime.observability",
        LAMBDA_TASK_ROOT="/var/task",
        POWERTOOLS_TRACE_DISABLED="false",
    )
    assert "aws_xray_sdk.core" in loaded
