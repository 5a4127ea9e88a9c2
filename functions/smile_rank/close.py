"""Closing a donation period: points → amounts → balanced ledger transactions, exactly once.

The period row is a small state machine, ``open → closing → closed``:

1. *Snapshot* (one database transaction): the period turns ``closing`` (no
   more points can enter it or leave it: the consumer holds a shared lock on
   the row while it writes, and moves to the next period when it is not
   open), the budget and rate are frozen, every participant's points and
   charity are read, the amounts computed (``allocation.allocate``) and
   stored in ``period_allocations``.
2. *Batches* (one database transaction each, the period row locked): for
   ``close_batch_size`` allocations in user-id order, one ledger transaction
   per user whose id is its idempotency key ``period-close:<period>:<user>``:
   sponsor pool −a, pledge +a, pledge −a, charity +a — written by three
   ``INSERT … SELECT`` statements from ``period_allocations`` (accounts,
   transactions, entries), so no row travels through Python.
3. *Finalise* (one database transaction): the posted totals are checked
   against the allocation and the period turns ``closed``.

A crash anywhere rolls back the open database transaction and leaves
committed work in place. A re-run reads the state: ``open`` → start over (the
snapshot did not commit), ``closing`` → post every batch again (transactions
already posted are skipped by ``on conflict do nothing`` on their key, and as a
transaction commits with all its entries, its entries are found and skipped
too), ``closed`` → nothing to do.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import datetime
from typing import TYPE_CHECKING, Any

from aws_lambda_powertools.metrics import MetricUnit
from pydantic import BaseModel, ConfigDict

from cheese_runtime.db.session import session_scope
from cheese_runtime.db.types import utcnow
from cheese_runtime.handlers import scheduled_handler
from cheese_runtime.observability import logger, metrics
from functions.smile_rank.allocation import allocate
from functions.smile_rank.config import SmileSettings, get_smile_settings
from functions.smile_rank.dal import (
    CharityRepository,
    CloseRepository,
    LedgerRepository,
    PeriodRepository,
)
from functions.smile_rank.errors import PeriodNotEnded
from functions.smile_rank.periods import period_bounds, period_id, previous_period
from functions.smile_rank.schemas import CloseResult
from functions.smile_rank.service import ensure_period, period_admin_out

if TYPE_CHECKING:
    from sqlalchemy import Select

Fault = Callable[[str], None]


class LedgerMismatch(RuntimeError):
    pass


def _no_fault(step: str) -> None:
    return None


class PeriodCloser:
    def __init__(self, settings: SmileSettings, fault: Fault = _no_fault) -> None:
        self._settings = settings
        # Test hook: called at every step ("snapshot", "batch:3:before-commit", …); may raise.
        self._fault = fault

    def close(
        self, pid: str, now: datetime | None = None, time_budget_seconds: float | None = None
    ) -> CloseResult:
        now = now or utcnow()
        _, ends_at = period_bounds(pid)
        if ends_at > now:
            raise PeriodNotEnded(
                f"Period {pid} ends at {ends_at.isoformat()}; it can close after that."
            )
        started = time.monotonic()
        self._snapshot(pid, now)
        posted, last_user, batch = 0, "", 0
        while True:
            with session_scope() as session:
                # The period row's lock serialises closers of the same period, batch by batch.
                period = PeriodRepository(session).existing(pid, for_update=True)
                if period.status == "closed":
                    break
                closing = CloseRepository(session)
                found = closing.next_batch(pid, last_user, self._settings.close_batch_size)
                if found is None:
                    break
                _, batch_last = found
                posted += closing.post_batch(pid, period.currency, last_user, batch_last, now)
                last_user = batch_last
                self._fault(f"batch:{batch}:before-commit")
            self._fault(f"batch:{batch}")
            batch += 1
            if time_budget_seconds is not None and time.monotonic() - started > time_budget_seconds:
                with session_scope() as session:
                    return CloseResult(
                        period=period_admin_out(PeriodRepository(session).existing(pid)),
                        posted_now=posted,
                        complete=False,
                    )
        result = self._finalise(pid, now, posted)
        return result

    def _snapshot(self, pid: str, now: datetime) -> None:
        with session_scope() as session:
            periods = PeriodRepository(session)
            ensure_period(periods, pid, self._settings)
            period = periods.existing(pid, for_update=True)
            if period.status != "open":
                return
            period.status, period.closing_started_at = "closing", now
            session.flush()  # takes the row lock before reading the points
            points = periods.week_points(pid)
            choices = CharityRepository(session).effective_choices(pid)
            # Only users who chose a charity take part: the others' points buy nothing.
            participating = {u: p for u, p in points.items() if u in choices}
            result = allocate(participating, period.budget_minor, period.rate_minor_per_point)
            periods.add_allocations(
                [
                    {
                        "period_id": pid,
                        "user_id": s.user_id,
                        "points": s.points,
                        "charity_id": choices[s.user_id],
                        "amount_minor": s.amount_minor,
                        "remainder_unit": s.remainder_unit,
                    }
                    for s in result.shares
                ]
            )
            period.participants = len(result.shares)
            period.total_points = result.total_points
            period.allocated_minor = result.allocated_minor
            period.budget_bound = result.budget_bound
            self._fault("snapshot:before-commit")
        logger.info(
            "period closing",
            extra={
                "period_id": pid,
                "participants": len(result.shares),
                "allocated_minor": result.allocated_minor,
                "budget_bound": result.budget_bound,
            },
        )
        self._fault("snapshot")

    def _finalise(self, pid: str, now: datetime, posted: int) -> CloseResult:
        with session_scope() as session:
            periods = PeriodRepository(session)
            period = periods.existing(pid, for_update=True)
            if period.status == "closing":
                transactions, credited, balance = LedgerRepository(session).period_totals(pid)
                expected = session.scalar(_count_paid(pid))
                if credited != period.allocated_minor or transactions != expected or balance != 0:
                    raise LedgerMismatch(
                        f"{pid}: posted {transactions} transactions / {credited}, "
                        f"allocated {expected} / {period.allocated_minor}"
                    )
                period.status, period.closed_at = "closed", now
                self._fault("finalise:before-commit")
                newly_closed = True
            else:
                newly_closed = False
            session.flush()
            out = period_admin_out(period)
        self._fault("finalise")
        if newly_closed:
            metrics.add_metric(name="DonationPeriodsClosed", unit=MetricUnit.Count, value=1)
            metrics.add_metric(
                name="DonatedMinorUnits", unit=MetricUnit.Count, value=out.allocated_minor or 0
            )
            logger.info(
                "period closed", extra={"period_id": pid, "allocated_minor": out.allocated_minor}
            )
        return CloseResult(period=out, posted_now=posted, complete=True)


def _count_paid(pid: str) -> Select[int]:
    from sqlalchemy import func, select

    from functions.smile_rank.models import PeriodAllocation

    return (
        select(func.count())
        .select_from(PeriodAllocation)
        .where(PeriodAllocation.period_id == pid, PeriodAllocation.amount_minor > 0)
    )


def due_periods(now: datetime) -> list[str]:
    """Periods to close now: the one that just ended, and any ended one left open or half-closed."""
    with session_scope() as session:
        pending = PeriodRepository(session).due(now)
    last = previous_period(period_id(now))
    return sorted(set(pending) | {last})


class ClosePayload(BaseModel):
    """``{"period_id": "2026-W47"}`` closes that period (a manual run); none: every ended one."""

    model_config = ConfigDict(extra="forbid")

    period_id: str | None = None


def run(payload: ClosePayload) -> dict[str, Any]:
    """The scheduled job (weekly): close every ended period not closed yet, or the one asked for."""
    closer = PeriodCloser(get_smile_settings())
    now = utcnow()
    targets = [payload.period_id] if payload.period_id else due_periods(now)
    results = {}
    for pid in targets:
        result = closer.close(pid, now)
        results[pid] = {
            "status": result.period.status,
            "posted_now": result.posted_now,
            "allocated_minor": result.period.allocated_minor,
        }
    return {"closed": results}


handler = scheduled_handler(run, ClosePayload)
