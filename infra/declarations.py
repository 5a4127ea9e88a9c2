"""Every Lambda function of the app, as plain data: the declarations of
``cheese_runtime.resources`` plus the operational functions the app adds.

Plain data so that the data stack can size the network (VPC endpoints, NAT)
for the functions before the service stack creates them.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

from cheese_runtime import resources


class Declaration(Protocol):
    """What every function declaration of ``resources`` has in common (read-only:
    the declarations are frozen dataclasses)."""

    @property
    def module(self) -> str: ...
    @property
    def grants(self) -> tuple[str, ...]: ...
    @property
    def timeout_seconds(self) -> int: ...
    @property
    def memory_mb(self) -> int: ...
    @property
    def ml_image(self) -> bool: ...
    @property
    def shared_modules(self) -> tuple[str, ...]: ...
    @property
    def ephemeral_storage_mb(self) -> int: ...


@dataclass(frozen=True)
class FunctionSpec:
    """One Lambda function: ``<module>.handler`` with the dependencies named in ``grants``."""

    name: str
    module: str  # functions.<package>.<module>
    grants: tuple[str, ...] = ()
    timeout_seconds: int = 15
    memory_mb: int = 512
    # In the ML container image rather than a zip with the runtime layer.
    ml_image: bool = False
    # Other functions' table modules shipped in this one's zip (see resources).
    shared_modules: tuple[str, ...] = ()
    ephemeral_storage_mb: int = 512

    @classmethod
    def declared(cls, name: str, declaration: Declaration) -> FunctionSpec:
        return cls(
            name,
            declaration.module,
            declaration.grants,
            declaration.timeout_seconds,
            declaration.memory_mb,
            declaration.ml_image,
            declaration.shared_modules,
            declaration.ephemeral_storage_mb,
        )

    @property
    def package(self) -> str:
        parts = self.module.split(".")
        if len(parts) < 3 or parts[0] != "functions":
            raise ValueError(f"{self.module!r} is not a module of a functions/<package>/")
        return parts[1]


KEY_ROTATION = FunctionSpec(
    "key-rotation",
    "functions.auth.rotation",
    grants=("signing_keys_write", "jwks_write"),
    timeout_seconds=30,
)
# Alembic on a cold cluster: Serverless v2 may first have to scale up.
MIGRATIONS = FunctionSpec(
    "migrations", "functions.auth.migrations", grants=("database",), timeout_seconds=300
)
# The $connect authorizer of every WebSocket API: it verifies access tokens
# (the revoked sessions it checks are in the database).
WEBSOCKET_AUTHORIZER = FunctionSpec(
    resources.WEBSOCKET_AUTHORIZER_FUNCTION,
    "functions.auth.authorizer",
    grants=("database", "jwks"),
    timeout_seconds=10,
)


def api_function_spec(function: resources.ApiFunction) -> FunctionSpec:
    return FunctionSpec.declared(function.name, function)


def subscription_spec(subscription: resources.EventSubscription) -> FunctionSpec:
    return FunctionSpec.declared(subscription.consumer, subscription)


def notification_spec(notification: resources.BucketNotification) -> FunctionSpec:
    return FunctionSpec.declared(notification.consumer, notification)


def websocket_handler_spec(websocket_api: resources.WebSocketApi) -> FunctionSpec:
    return FunctionSpec.declared(websocket_api.function_name, websocket_api)


def scheduled_job_spec(job: resources.ScheduledJob) -> FunctionSpec:
    return FunctionSpec.declared(job.name, job)


def all_function_specs() -> list[FunctionSpec]:
    return [
        *map(api_function_spec, resources.API_FUNCTIONS),
        *map(subscription_spec, resources.EVENT_SUBSCRIPTIONS),
        *map(notification_spec, resources.BUCKET_NOTIFICATIONS),
        *map(websocket_handler_spec, resources.WEBSOCKET_APIS),
        *map(scheduled_job_spec, resources.SCHEDULED_JOBS),
        KEY_ROTATION,
        MIGRATIONS,
        WEBSOCKET_AUTHORIZER,
    ]
