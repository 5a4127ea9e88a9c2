"""SSM parameters and Secrets Manager secrets, read through the Parameters and Secrets extension.

Why not boto3: every API function's first request reads the JWKS (and, in
AWS, the database secret). Through boto3 that costs the import of botocore
and the building of a client, about 200 ms of CPU, more than the whole rest
of the request. The AWS Parameters and Secrets Lambda Extension serves both
over plain HTTP on localhost, authenticated by the function's own session
token, and caches them for its TTL (5 minutes); the standard library's
``urllib`` is all a read needs. CDK attaches the extension to every zip
function that declares the ``jwks`` or ``database`` grant
(``infra/components/functions.py``); the local stack serves the same API
(``cheese_local/extension.py``).

Where the extension's port is not in the environment (container-image
functions, which take no layers) and for ``force`` reads (a just-rotated key:
the extension would answer from its cache), reads go to the service through
Powertools Parameters (boto3) instead. Either way the value is kept in the
process for the caller's ``max_age``, one cache for both ways of reading (a
forced read refreshes it).
"""

from __future__ import annotations

import json
import os
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from functools import cache
from typing import TYPE_CHECKING, Any
from urllib.parse import urlencode

# The extension's own configuration variable (CDK's ParamsAndSecretsLayerVersion sets it).
EXTENSION_PORT_ENV = "PARAMETERS_SECRETS_EXTENSION_HTTP_PORT"
TOKEN_HEADER = "X-Aws-Parameters-Secrets-Token"
TIMEOUT_SECONDS = 5

if TYPE_CHECKING:
    from aws_lambda_powertools.utilities.parameters import SecretsProvider, SSMProvider


# Values kept in the process for their ``max_age``, whichever way they were read: the key
# set is read on every token issue, the database secret once per engine.
_read_at: dict[tuple[str, str], tuple[float, str]] = {}
_read_lock = threading.Lock()


class ParameterUnavailable(Exception):
    """The extension could not answer (unknown name, no permission, service down)."""


def extension_port() -> str | None:
    return os.environ.get(EXTENSION_PORT_ENV) or None


def _from_extension(port: str, path: str, query: dict[str, str]) -> dict[str, Any]:
    request = urllib.request.Request(
        f"http://localhost:{port}{path}?{urlencode(query)}",
        headers={TOKEN_HEADER: os.environ.get("AWS_SESSION_TOKEN", "")},
    )
    try:
        with urllib.request.urlopen(request, timeout=TIMEOUT_SECONDS) as response:
            body: dict[str, Any] = json.loads(response.read())
    except urllib.error.HTTPError as exc:
        # The extension answers 400 with the service's error text (names, never values).
        detail = exc.read(500).decode(errors="replace")
        raise ParameterUnavailable(f"{path} answered {exc.code}: {detail}") from exc
    except (urllib.error.URLError, OSError, ValueError) as exc:
        raise ParameterUnavailable(f"{path}: {exc}") from exc
    return body


def _read(
    key: tuple[str, str],
    *,
    max_age: int,
    force: bool,
    from_extension: Callable[[str], str],
    from_service: Callable[[], str],
) -> str:
    """``key``'s value kept for ``max_age`` seconds; a forced read refreshes what is kept."""
    now = time.monotonic()
    if not force:
        with _read_lock:
            kept = _read_at.get(key)
        if kept is not None and now - kept[0] < max_age:
            return kept[1]
    port = extension_port()
    value = from_extension(port) if port and not force else from_service()
    with _read_lock:
        _read_at[key] = (now, value)
    return value


def _text(value: Any) -> str:
    return value if isinstance(value, str) else json.dumps(value)


def get_parameter(name: str, *, max_age: int = 300, force: bool = False) -> str:
    """An SSM parameter's value (a String or a decrypted SecureString)."""
    return _read(
        ("parameter", name),
        max_age=max_age,
        force=force,
        from_extension=lambda port: str(
            _from_extension(
                port, "/systemsmanager/parameters/get", {"name": name, "withDecryption": "true"}
            )["Parameter"]["Value"]
        ),
        from_service=lambda: _text(_ssm_provider().get(name, force_fetch=True, decrypt=True)),
    )


def get_secret(secret_id: str, *, max_age: int = 300, force: bool = False) -> str:
    """A Secrets Manager secret's string."""
    return _read(
        ("secret", secret_id),
        max_age=max_age,
        force=force,
        from_extension=lambda port: str(
            _from_extension(port, "/secretsmanager/get", {"secretId": secret_id})["SecretString"]
        ),
        from_service=lambda: _text(_secrets_provider().get(secret_id, force_fetch=True)),
    )


# One provider of each per process, on the process's shared boto3 session
# (cheese_runtime.aws); their reads are always fresh: _read keeps the values.
@cache
def _ssm_provider() -> SSMProvider:
    from aws_lambda_powertools.utilities.parameters import SSMProvider

    from cheese_runtime import aws

    return SSMProvider(boto3_client=aws.client("ssm"))


@cache
def _secrets_provider() -> SecretsProvider:
    from aws_lambda_powertools.utilities.parameters import SecretsProvider

    from cheese_runtime import aws

    return SecretsProvider(boto3_client=aws.client("secretsmanager"))


def reset() -> None:
    """Forget the providers and every kept value (a fresh process; tests switch moto servers)."""
    _ssm_provider.cache_clear()
    _secrets_provider.cache_clear()
    with _read_lock:
        _read_at.clear()
