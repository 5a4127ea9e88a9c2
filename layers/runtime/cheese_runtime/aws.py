"""boto3 clients, created lazily once per process and reused across invocations.

Endpoints come from boto3's own configuration (``AWS_ENDPOINT_URL``), which is
how the local stack points every client at moto's server.

boto3 is imported by the first client, not by this module: most modules that
may publish an event or read an object import this one, and a route that
does neither should not pay for boto3 at import. All clients share one
session, so a second client reuses its credentials, its parsed endpoint
data and its event handlers instead of building them again.
"""

from __future__ import annotations

import threading
from functools import cache
from typing import TYPE_CHECKING, Any

from cheese_runtime.settings import get_settings

if TYPE_CHECKING:
    import boto3
    from botocore.config import Config


# A boto3 session may not create clients from two threads at once (the local
# stack serves requests on several).
_creating = threading.Lock()


@cache
def _session() -> boto3.session.Session:
    import boto3

    return boto3.session.Session()


def _config() -> Config:
    from botocore.config import Config

    return Config(
        retries={"mode": "standard", "max_attempts": 3}, connect_timeout=2, read_timeout=10
    )


# boto3-stubs overload client() and resource() per literal service name only; these
# factories take the name at run time, so the call matches no overload.
@cache
def client(service: str) -> Any:
    with _creating:
        return _session().client(  # type: ignore[call-overload]
            service, region_name=get_settings().region, config=_config()
        )


@cache
def resource(service: str) -> Any:
    with _creating:
        return _session().resource(  # type: ignore[call-overload]
            service, region_name=get_settings().region, config=_config()
        )


def reset_clients() -> None:
    """Forget cached clients and their session (tests switch endpoints between moto servers)."""
    client.cache_clear()
    resource.cache_clear()
    _session.cache_clear()
