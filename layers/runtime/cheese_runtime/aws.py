"""boto3 clients, created lazily once per process and reused across invocations.

Endpoints come from boto3's own configuration (``AWS_ENDPOINT_URL``), which is
how the local stack points every client at moto's server.
"""

from __future__ import annotations

from functools import cache
from typing import Any

import boto3
from botocore.config import Config

from cheese_runtime.settings import get_settings

_CONFIG = Config(
    retries={"mode": "standard", "max_attempts": 3}, connect_timeout=2, read_timeout=10
)


@cache
def client(service: str) -> Any:
    return boto3.session.Session().client(
        service, region_name=get_settings().region, config=_CONFIG
    )


@cache
def resource(service: str) -> Any:
    return boto3.session.Session().resource(
        service, region_name=get_settings().region, config=_CONFIG
    )


def reset_clients() -> None:
    """Forget cached clients (tests switch endpoints between moto servers)."""
    client.cache_clear()
    resource.cache_clear()
