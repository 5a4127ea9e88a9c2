"""Donation periods are ISO weeks in UTC ("2026-W47": Monday 00:00 to the next Monday 00:00)."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, time, timedelta

from functions.smile_rank.errors import InvalidPeriod

PERIOD_RE = re.compile(r"^(\d{4})-W(\d{2})$")


def period_id(moment: datetime | date) -> str:
    day = moment.astimezone(UTC).date() if isinstance(moment, datetime) else moment
    year, week, _ = day.isocalendar()
    return f"{year:04d}-W{week:02d}"


def month_key(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m")


def parse_period(value: str) -> tuple[datetime, datetime]:
    """The [start, end) of a period id; raises ValueError when it is not one."""
    match = PERIOD_RE.match(value)
    if not match:
        raise ValueError(f"not a period id: {value!r}")
    start = date.fromisocalendar(int(match.group(1)), int(match.group(2)), 1)
    starts_at = datetime.combine(start, time(0), tzinfo=UTC)
    return starts_at, starts_at + timedelta(days=7)


def period_bounds(value: str) -> tuple[datetime, datetime]:
    """Like :func:`parse_period`, answering a client's bad id with a 422 problem."""
    try:
        return parse_period(value)
    except ValueError:
        raise InvalidPeriod() from None


def next_period(value: str) -> str:
    _, end = parse_period(value)
    return period_id(end)


def previous_period(value: str) -> str:
    start, _ = parse_period(value)
    return period_id(start - timedelta(days=1))
