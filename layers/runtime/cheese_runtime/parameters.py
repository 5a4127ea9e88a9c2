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
Powertools Parameters (boto3) instead.
"""

from __future__ import annotations

import json
import os
import urllib.error
import urllib.request
from functools import cache
from typing import TYPE_CHECKING, Any
from urllib.parse import urlencode

# The extension's own configuration variable (CDK's ParamsAndSecretsLayerVersion sets it).
EXTENSION_PORT_ENV = "PARAMETERS_SECRETS_EXTENSION_HTTP_PORT"
TOKEN_HEADER = "X-Aws-Parameters-Secrets-Token"
TIMEOUT_SECONDS = 5

if TYPE_CHECKING:
    from aws_lambda_powertools.utilities.parameters import SecretsProvider, SSMProvider


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


def get_parameter(name: str, *, max_age: int = 300, force: bool = False) -> str:
    """An SSM parameter's value (a String or a decrypted SecureString)."""
    port = extension_port()
    if port and not force:
        body = _from_extension(
            port, "/systemsmanager/parameters/get", {"name": name, "withDecryption": "true"}
        )
        return str(body["Parameter"]["Value"])
    value = _ssm_provider().get(name, max_age=max_age, force_fetch=force, decrypt=True)
    return value if isinstance(value, str) else json.dumps(value)


def get_secret(secret_id: str, *, max_age: int = 300, force: bool = False) -> str:
    """A Secrets Manager secret's string."""
    port = extension_port()
    if port and not force:
        body = _from_extension(port, "/secretsmanager/get", {"secretId": secret_id})
        return str(body["SecretString"])
    value = _secrets_provider().get(secret_id, max_age=max_age, force_fetch=force)
    return value if isinstance(value, str) else json.dumps(value)


# Powertools providers keep their cache per instance: one of each per process,
# on the process's shared boto3 session (cheese_runtime.aws).
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


def reset_providers() -> None:
    """Forget the providers and their caches (tests switch moto servers)."""
    _ssm_provider.cache_clear()
    _secrets_provider.cache_clear()
