"""Turning a period's smile points into money (pure, deterministic).

Each participant's amount is ``points × rate`` (integer minor units). When the
sum exceeds the sponsor budget, the budget is shared in proportion to points:
each gets ``floor(budget × points / total_points)``, and the units left over
(fewer than the number of participants) go one each to the participants with
the largest remainders ``budget × points mod total_points``; ties by more
points, then by the smaller user id. The amounts then sum to the budget
exactly: no unit is lost to rounding, none is created.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Share:
    user_id: str
    points: int
    amount_minor: int
    remainder_unit: int  # 1 when the largest-remainder rule gave this user a leftover unit


@dataclass(frozen=True)
class Allocation:
    shares: list[Share]
    total_points: int
    allocated_minor: int
    budget_bound: bool


def allocate(points: dict[str, int], budget_minor: int, rate_minor_per_point: int) -> Allocation:
    if budget_minor < 0 or rate_minor_per_point < 0:
        raise ValueError("budget and rate must not be negative")
    participants = sorted((user, p) for user, p in points.items() if p > 0)
    total_points = sum(p for _, p in participants)
    requested = total_points * rate_minor_per_point
    if requested <= budget_minor:
        shares = [Share(user, p, p * rate_minor_per_point, 0) for user, p in participants]
        return Allocation(shares, total_points, requested, False)
    floors: dict[str, int] = {}
    remainders: list[tuple[int, int, str]] = []
    for user, p in participants:
        quotient, remainder = divmod(budget_minor * p, total_points)
        floors[user] = quotient
        remainders.append((-remainder, -p, user))
    leftover = budget_minor - sum(floors.values())
    assert 0 <= leftover < max(1, len(participants))
    lucky = {user for _, _, user in sorted(remainders)[:leftover]}
    shares = [
        Share(user, p, floors[user] + (user in lucky), int(user in lucky))
        for user, p in participants
    ]
    return Allocation(shares, total_points, budget_minor, True)
