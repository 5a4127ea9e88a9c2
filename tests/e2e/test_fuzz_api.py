"""Schemathesis fuzzes every function's API through the local stack: no input may cause a 5xx."""

from __future__ import annotations

import pytest
import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis.checks import not_a_server_error

from cheese_local.gateway import merged_openapi
from tests.conftest import signup

# DELETE /v1/auth/me would erase the shared fuzz account and void the remaining cases;
# its only input is the token, which every other route fuzzes already.
schema = schemathesis.openapi.from_dict(merged_openapi()).exclude(
    method="DELETE", path="/v1/auth/me"
)


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
