"""One source of truth for the names and shapes of shared AWS resources.

The CDK stacks create exactly these tables, queues and routes, and the local
stack creates them in moto from the same definitions, so code, infra and the
local stack cannot drift apart.
"""
from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Index:
    name: str
    partition_key: str
    sort_key: str | None = None


@dataclass(frozen=True)
class Table:
    """A DynamoDB table: string keys, on-demand billing."""

    name: str
    partition_key: str
    sort_key: str | None = None
    ttl_attribute: str | None = None
    global_indexes: tuple[Index, ...] = ()
    # The Settings field carrying the deployed table name; a function that
    # declares this name in its ``grants`` gets item read/write on the table.
    setting: str | None = None


# Login failure counters per account and per IP, in fixed windows (expire by TTL).
THROTTLE_TABLE = Table(name="cheese-auth-throttle", partition_key="pk", ttl_attribute="expires_at",
                       setting="throttle_table")
# Powertools Idempotency records for event consumers.
IDEMPOTENCY_TABLE = Table(name="cheese-idempotency", partition_key="id", ttl_attribute="expiration",
                          setting="idempotency_table")

TABLES: tuple[Table, ...] = (THROTTLE_TABLE, IDEMPOTENCY_TABLE)

EVENT_BUS = "cheese-events"
EVENT_SOURCE = "cheese"
SIGNING_KEYS_SECRET = "cheese/jwt-signing-keys"
JWKS_PARAMETER = "/cheese/jwks"
PHOTOS_BUCKET = "cheese-photos"


@dataclass(frozen=True)
class Route:
    method: str
    path: str  # API Gateway route path, with {param} placeholders
    authorized: bool = True


# What a function may reach, named in ``grants`` (the CDK app turns each into
# least-privilege IAM, the CHEESE_* environment variable and, for "database",
# a place in the VPC): "database", a Table's ``setting`` ("throttle_table",
# "idempotency_table"), "event_bus", "signing_keys_read", "signing_keys_write",
# "jwks", "jwks_write", "photos_bucket".


@dataclass(frozen=True)
class ApiFunction:
    """A deployable HTTP function and the API Gateway routes it owns."""

    name: str
    module: str  # the Python module whose ``handler`` Lambda invokes
    routes: tuple[Route, ...]
    grants: tuple[str, ...] = ()
    # The HTTP API gives up on an integration after 30 s.
    timeout_seconds: int = 15
    memory_mb: int = 512


@dataclass(frozen=True)
class EventSubscription:
    """An EventBridge rule delivering detail types to a consumer's SQS queue."""

    consumer: str  # queue base name
    detail_types: tuple[str, ...]
    module: str  # module whose ``handler`` consumes the SQS batch
    max_receive_count: int = 5
    grants: tuple[str, ...] = ()
    timeout_seconds: int = 30
    memory_mb: int = 512
    batch_size: int = 10


AUTH = ApiFunction(
    name="auth",
    module="functions.auth.handler",
    routes=(
        Route("POST", "/v1/auth/signup", authorized=False),
        Route("POST", "/v1/auth/login", authorized=False),
        Route("POST", "/v1/auth/refresh", authorized=False),
        Route("POST", "/v1/auth/logout", authorized=False),
        Route("GET", "/v1/auth/me"),
        Route("DELETE", "/v1/auth/me"),
        Route("GET", "/.well-known/jwks.json", authorized=False),
    ),
    grants=("database", "throttle_table", "event_bus", "signing_keys_read", "jwks"),
    # argon2id hashes with 64 MiB and 4 lanes: Lambda's CPU share grows with memory.
    memory_mb=1024,
)

# Smile points, ranking, charities and the donation ledger (functions/smile_rank/README.md).
SMILE_RANK = ApiFunction(
    name="smile-rank",
    module="functions.smile_rank.handler",
    routes=(
        Route("GET", "/v1/smiles/me"),
        Route("GET", "/v1/smiles/ranking"),
        Route("GET", "/v1/photos/{photo_id}/smiles"),
        Route("GET", "/v1/charities"),
        Route("GET", "/v1/me/charity"),
        Route("PUT", "/v1/me/charity"),
        Route("GET", "/v1/donations/summary"),
        Route("GET", "/v1/donations/statement"),
        Route("POST", "/v1/admin/charities"),
        Route("GET", "/v1/admin/periods/{period_id}"),
        Route("PUT", "/v1/admin/periods/{period_id}"),
        Route("POST", "/v1/admin/periods/{period_id}/close"),
    ),
    grants=("database", "jwks"),
    # An admin close posts for up to 20 s, then answers; the HTTP API gives up at 30 s.
    timeout_seconds=29,
    memory_mb=1024,
)

API_FUNCTIONS: tuple[ApiFunction, ...] = (AUTH, SMILE_RANK)

USER_DELETION_REQUESTED = "UserDeletionRequested"
PHOTO_ANALYZED = "PhotoAnalyzed"
PHOTO_DELETED = "PhotoDeleted"

EVENT_SUBSCRIPTIONS: tuple[EventSubscription, ...] = (
    EventSubscription(
        consumer="auth-erasure",
        detail_types=(USER_DELETION_REQUESTED,),
        module="functions.auth.erasure",
        grants=("database",),
    ),
    # Smile points of analysed photos, reversals of deleted ones, erasure of a leaving user's smiles.
    EventSubscription(
        consumer="smile-rank",
        detail_types=(PHOTO_ANALYZED, PHOTO_DELETED, USER_DELETION_REQUESTED),
        module="functions.smile_rank.consumer",
        grants=("database",),
    ),
)


@dataclass(frozen=True)
class Queue:
    name: str
    dead_letter_name: str
    max_receive_count: int
    visibility_timeout_seconds: int = 180


def subscription_queue(sub: EventSubscription) -> Queue:
    return Queue(
        name=f"cheese-{sub.consumer}",
        dead_letter_name=f"cheese-{sub.consumer}-dlq",
        max_receive_count=sub.max_receive_count,
    )


def match_route(method: str, path: str) -> tuple[ApiFunction, Route, dict[str, str]] | None:
    """The function, route and path parameters API Gateway would pick for a request."""
    path_parts = path.strip("/").split("/")
    for function in API_FUNCTIONS:
        for route in function.routes:
            if route.method != method.upper():
                continue
            params = _match(route.path.strip("/").split("/"), path_parts)
            if params is not None:
                return function, route, params
    return None


def _match(template_parts: list[str], path_parts: list[str]) -> dict[str, str] | None:
    if len(template_parts) != len(path_parts):
        return None
    params: dict[str, str] = {}
    for t, p in zip(template_parts, path_parts):
        if t.startswith("{") and t.endswith("}"):
            if not p:
                return None
            params[t[1:-1]] = p
        elif t != p:
            return None
    return params
