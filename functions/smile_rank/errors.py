"""What the smile_rank services refuse, in their own words; functions/smile_rank/app.py maps each to HTTP."""

from __future__ import annotations

from cheese_runtime.errors import DomainError, ResourceNotFound


class SmileRankError(DomainError):
    """Every refusal of the smile_rank function."""


class PhotoNotFound(SmileRankError, ResourceNotFound):
    default_detail = "No such photo."


class CharityNotFound(SmileRankError, ResourceNotFound):
    default_detail = "No such charity."


class CharityExists(SmileRankError):
    slug = "charity-exists"
    title = "Conflict"
    default_detail = "A charity with this name exists."


class PeriodClosed(SmileRankError):
    slug = "period-closed"
    title = "Conflict"
    default_detail = "The period is closing or closed; its budget and rate are final."


class PeriodNotEnded(SmileRankError):
    slug = "period-not-ended"
    title = "Conflict"


class InvalidPeriod(SmileRankError):
    slug = "invalid-period"
    title = "Invalid period"
    default_detail = "A period is an ISO week such as 2026-W47."
