"""Parameters and secrets through the Parameters and Secrets extension's API (the local stack
serves it from moto), and what a token check no longer costs a cold start: botocore."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import urllib.error
import urllib.request

import pytest

from cheese_runtime import aws, parameters
from cheese_runtime.settings import get_settings
from tests.conftest import signup


def published_jwks() -> str:
    response = aws.client("ssm").get_parameter(Name=get_settings().jwks_parameter)
    return str(response["Parameter"]["Value"])


def test_reads_the_jwks_and_a_secret_through_the_extension(backend) -> None:  # noqa: ANN001
    assert parameters.extension_port()
    assert json.loads(parameters.get_parameter(get_settings().jwks_parameter))["keys"]
    assert parameters.get_parameter(get_settings().jwks_parameter) == published_jwks()
    key_set = json.loads(parameters.get_secret(get_settings().signing_keys_secret))
    assert key_set["keys"][0]["private_key_pem"].startswith("-----BEGIN PRIVATE KEY-----")


def test_an_unknown_name_is_a_clear_error(backend) -> None:  # noqa: ANN001
    with pytest.raises(parameters.ParameterUnavailable, match="400"):
        parameters.get_parameter("/cheese/no-such-parameter")


def test_the_extension_refuses_a_request_without_the_session_token(backend) -> None:  # noqa: ANN001
    url = (
        f"http://localhost:{parameters.extension_port()}/systemsmanager/parameters/get"
        f"?name={get_settings().jwks_parameter}"
    )
    with pytest.raises(urllib.error.HTTPError) as refused:
        urllib.request.urlopen(
            urllib.request.Request(url, headers={parameters.TOKEN_HEADER: "forged"}), timeout=5
        )
    assert refused.value.code == 401


def test_without_the_extension_and_when_forced_reads_go_to_the_service(
    backend,  # noqa: ANN001
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # A port nothing listens on: a read that went there would fail.
    monkeypatch.setenv(parameters.EXTENSION_PORT_ENV, "1")
    assert parameters.get_parameter(get_settings().jwks_parameter, force=True) == published_jwks()
    monkeypatch.delenv(parameters.EXTENSION_PORT_ENV)
    parameters.reset()  # nothing kept: the reads below go to the service
    assert parameters.get_parameter(get_settings().jwks_parameter) == published_jwks()
    assert json.loads(parameters.get_secret(get_settings().signing_keys_secret))["keys"]


FIRST_REQUEST = r"""
import json, sys
from cheese_local.events import http_api_event
from cheese_local.lambda_context import LocalLambdaContext
from functions.auth.handler import handler
event = http_api_event(
    "GET", "/v1/auth/me", route_key="GET /v1/auth/me",
    headers={"authorization": "Bearer " + sys.argv[1]},
)
result = handler(event, LocalLambdaContext(function_name="auth"))
print(json.dumps({
    "status": result["statusCode"],
    "botocore": sorted(m for m in sys.modules if m.split(".")[0] == "botocore" and m != "botocore"),
}))
"""


def test_a_cold_starts_token_check_imports_no_botocore(backend) -> None:  # noqa: ANN001
    """The JWKS comes through the extension and revocations from the database: a fresh
    process answers an authorized request without botocore's clients (bench/README.md)."""
    user = signup("cold")
    out = subprocess.run(
        [sys.executable, "-c", FIRST_REQUEST, user.access_token],
        env=dict(os.environ),
        capture_output=True,
        text=True,
        check=True,
    )
    answer = json.loads(out.stdout.strip().splitlines()[-1])
    assert answer["status"] == 200
    # Powertools imports the bare ``botocore`` package for its user agent; no client module.
    assert not [
        m for m in answer["botocore"] if m.startswith(("botocore.client", "botocore.session"))
    ]


def test_keys_that_cannot_be_read_answer_503_problem_not_500(
    backend,  # noqa: ANN001
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from cheese_runtime.auth.verify import get_verifier

    user = signup("keys-down")
    get_verifier.cache_clear()  # a fresh container: no keys read yet
    parameters.reset()
    monkeypatch.setenv(parameters.EXTENSION_PORT_ENV, "1")  # the extension is not answering
    try:
        response = user.call("GET", "/v1/auth/me")
        assert response.status == 503
        assert response.json()["type"].endswith("/keys-unavailable")
        assert response.headers["retry-after"] == "5"
    finally:
        monkeypatch.undo()
        get_verifier.cache_clear()
    assert user.call("GET", "/v1/auth/me").status == 200


def test_values_are_kept_for_max_age_and_a_forced_read_refreshes_them(
    backend,  # noqa: ANN001
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    name = get_settings().jwks_parameter
    parameters.reset()
    first = parameters.get_parameter(name, max_age=300)
    monkeypatch.setenv(parameters.EXTENSION_PORT_ENV, "1")  # a read now would fail
    assert parameters.get_parameter(name, max_age=300) == first  # kept, not read again
    with pytest.raises(parameters.ParameterUnavailable):
        parameters.get_parameter(name, max_age=0)  # too old: read again
    assert parameters.get_parameter(name, force=True) == published_jwks()  # past the extension
    monkeypatch.undo()
    parameters.reset()


def test_the_local_extension_answers_like_the_real_one_to_bad_requests(backend) -> None:  # noqa: ANN001
    token = {parameters.TOKEN_HEADER: os.environ.get("AWS_SESSION_TOKEN", "")}
    base = f"http://localhost:{parameters.extension_port()}"
    for path, status in (
        ("/systemsmanager/parameters/get", 400),  # no ?name=
        ("/secretsmanager/get", 400),  # no ?secretId=
        ("/nowhere?name=x", 404),
    ):
        with pytest.raises(urllib.error.HTTPError) as refused:
            urllib.request.urlopen(urllib.request.Request(base + path, headers=token), timeout=5)
        assert refused.value.code == status, path
