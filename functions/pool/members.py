"""A pool member's item (``M#<user>`` in the pool's partition) and what is computed from it.

The item is DynamoDB's shape, read with ``dal.de`` and written by partial
``SET``/``REMOVE`` updates and conditions on its attributes; ``MemberItem``
types it as it is stored (so every read and conditional write sees the same
names) instead of converting it at each of those places.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Literal, TypedDict, overload

MemberStatus = Literal["present", "away"]
AwayReason = Literal["user", "timeout", "disconnected"]


class MemberItem(TypedDict, total=False):
    pk: str
    sk: str
    pool_id: str
    user_id: str
    connection_id: str  # the connection the member is reachable on
    status: MemberStatus
    away_reason: AwayReason
    grace_until: float  # a dropped member keeps the seat until then
    entered_at: float
    last_seen: float  # the last heartbeat (or presence change)
    session_id: str
    score: int | None  # the last focus score, 0-100
    focused: bool  # the last score reached the threshold
    streak_start: float  # start of the open focused stretch
    focus_closed: float  # focused seconds of the closed stretches of this session
    hb: int  # heartbeats of this session
    ver: int  # bumped by every write: conditions on it detect concurrent writers
    avatar_key: str
    avatar_ver: int  # the avatar's upload time (ms): the newest upload wins


@overload
def iso(ts: float) -> str: ...
@overload
def iso(ts: None) -> None: ...
def iso(ts: float | None) -> str | None:
    if ts is None:
        return None
    return datetime.fromtimestamp(ts, UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def split_by_day(start: float, end: float) -> dict[str, float]:
    """Seconds of [start, end] in each UTC day."""
    out: dict[str, float] = {}
    t = start
    while t < end:
        day_start = datetime.fromtimestamp(t, UTC).replace(
            hour=0, minute=0, second=0, microsecond=0
        )
        boundary = (day_start + timedelta(days=1)).timestamp()
        stop = min(end, boundary)
        out[day_start.strftime("%Y-%m-%d")] = out.get(day_start.strftime("%Y-%m-%d"), 0.0) + (
            stop - t
        )
        t = stop
    return out


def open_stretch(member: MemberItem) -> tuple[float, float] | None:
    start = member.get("streak_start")
    if member.get("status") != "present" or not member.get("focused") or start is None:
        return None
    return float(start), float(member.get("last_seen", start))


def focused_seconds(member: MemberItem) -> float:
    total = float(member.get("focus_closed", 0))
    stretch = open_stretch(member)
    if stretch:
        total += max(0.0, stretch[1] - stretch[0])
    return total


def is_reachable(member: MemberItem) -> bool:
    return bool(member.get("connection_id")) and member.get("away_reason") != "disconnected"
