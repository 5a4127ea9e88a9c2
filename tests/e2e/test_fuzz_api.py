"""Schemathesis fuzzes every function's API through the local stack: no input may cause a 5xx.

Runs on the database the whole suite uses: SQLite by default, PostgreSQL when
``TEST_DATABASE_URL`` is set (as ``.ci/run`` does). PostgreSQL is the one that
refuses NUL in text, so both matter. Besides schemathesis' own generation, a
second test puts control characters (NUL, other C0/C1 controls, a lone
surrogate) into one string input of each generated request, wherever
strings go: path parameters, query parameters, JSON body fields.
"""

from __future__ import annotations

from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from schemathesis.checks import not_a_server_error

from cheese_local.gateway import merged_openapi
from tests.conftest import signup

# DELETE /v1/auth/me would erase the shared fuzz account and void the remaining cases;
# its only input is the token, which every other route fuzzes already.
schema = schemathesis.openapi.from_dict(merged_openapi()).exclude(
    method="DELETE", path="/v1/auth/me"
)
OPERATIONS = [result.ok() for result in schema.get_all_operations()]

CONTROL_CHARACTERS = ["\x00", "\x01", "\x07", "\x1b", "\x7f", "\x85"]
# A lone surrogate cannot be percent-encoded (it is not UTF-8) but JSON escapes it.
BODY_CHARACTERS = [*CONTROL_CHARACTERS, "\ud800"]


@pytest.fixture(scope="module")
def access_token(backend) -> str:  # noqa: ANN001
    return signup("fuzz").access_token


@pytest.mark.parametrize("with_token", [False, True], ids=["anonymous", "authenticated"])
@schema.parametrize()
@settings(max_examples=15, deadline=None, suppress_health_check=list(HealthCheck))
def test_no_server_errors(case, with_token: bool, http_base_url: str, access_token: str) -> None:  # noqa: ANN001
    # With a valid token, authenticated routes are fuzzed past the token check.
    if with_token:
        case.headers = {**(case.headers or {}), "Authorization": f"Bearer {access_token}"}
    response = case.call(base_url=http_base_url)
    case.validate_response(response, checks=[not_a_server_error])


def _string_slots(case: Any) -> list[tuple[Any, Any, list[str]]]:
    """(container, key, characters to try) of every string in a request's path, query, body."""
    slots: list[tuple[Any, Any, list[str]]] = []
    for container in (case.path_parameters, case.query):
        slots += [
            (container, k, CONTROL_CHARACTERS)
            for k, v in (container or {}).items()
            if isinstance(v, str)
        ]

    # A lone surrogate cannot be encoded in a multipart form: JSON bodies only.
    body_characters = (
        BODY_CHARACTERS if case.media_type == "application/json" else CONTROL_CHARACTERS
    )

    def walk(node: Any) -> None:
        items = node.items() if isinstance(node, dict) else enumerate(node)
        for key, value in list(items):
            if isinstance(value, str):
                slots.append((node, key, body_characters))
            elif isinstance(value, dict | list):
                walk(value)

    if isinstance(case.body, dict | list):
        walk(case.body)
    return slots


@pytest.mark.parametrize("operation", OPERATIONS, ids=lambda op: op.label)
@settings(max_examples=5, deadline=None, suppress_health_check=list(HealthCheck))
@given(data=st.data())
def test_control_characters_in_any_string_are_refused_cleanly(
    operation: Any, data: st.DataObject, http_base_url: str, access_token: str
) -> None:
    case = data.draw(operation.as_strategy())
    slots = _string_slots(case)
    if not slots:
        return
    container, key, characters = data.draw(st.sampled_from(slots))
    value = container[key]
    at = data.draw(st.integers(0, len(value)))
    container[key] = value[:at] + data.draw(st.sampled_from(characters)) + value[at:]
    case.headers = {**(case.headers or {}), "Authorization": f"Bearer {access_token}"}
    response = case.call(base_url=http_base_url)
    assert response.status_code < 500, (case.method, case.formatted_path, response.text)
