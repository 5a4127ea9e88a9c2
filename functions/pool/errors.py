"""What the pool service refuses, in its own words; functions/pool/app.py maps each to HTTP."""

from __future__ import annotations

from cheese_runtime.errors import DomainError, ResourceNotFound


class PoolError(DomainError):
    """Every refusal of the pool function."""


class PoolNotFound(PoolError, ResourceNotFound):
    """No such pool, or one the caller may not see."""

    default_detail = "No such pool."


class InvitedUserNotFound(PoolError, ResourceNotFound):
    """The invited account does not exist (or is being deleted)."""

    default_detail = "No such user."


class NotPoolOwner(PoolError):
    slug = "forbidden"
    title = "Forbidden"
    default_detail = "Only the pool's owner invites members."


class CapacityTooLarge(PoolError):
    slug = "capacity-too-large"
    title = "Capacity too large"


class NotInPool(PoolError):
    slug = "not-in-pool"
    title = "Conflict"
    default_detail = "Enter the pool before uploading an avatar."
