"""Donation periods: their rows, budgets and allocations."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import (
    select,
)
from sqlalchemy.orm import Session

from cheese_runtime.db.types import utcnow
from functions.smile_rank.dal.sql import bulk_insert, dialect_insert
from functions.smile_rank.models import (
    DonationPeriod,
    PeriodAllocation,
    SmileTotal,
)


@dataclass(frozen=True)
class PeriodDefaults:
    currency: str
    budget_minor: int
    rate_minor_per_point: int


class PeriodRepository:
    def __init__(self, session: Session) -> None:
        self._session = session

    def ensure(
        self, period_id: str, starts_at: datetime, ends_at: datetime, defaults: PeriodDefaults
    ) -> None:
        self._session.execute(
            dialect_insert(self._session, DonationPeriod)
            .values(
                id=period_id,
                starts_at=starts_at,
                ends_at=ends_at,
                status="open",
                currency=defaults.currency,
                budget_minor=defaults.budget_minor,
                rate_minor_per_point=defaults.rate_minor_per_point,
                updated_at=utcnow(),
            )
            .on_conflict_do_nothing()
        )

    def status_for_share(self, period_id: str) -> str | None:
        """The status, holding a shared lock until commit: a close cannot start under our feet."""
        return self._session.scalar(
            select(DonationPeriod.status)
            .where(DonationPeriod.id == period_id)
            .with_for_update(read=True)
        )

    def get(self, period_id: str, *, for_update: bool = False) -> DonationPeriod | None:
        query = select(DonationPeriod).where(DonationPeriod.id == period_id)
        if for_update:
            query = query.with_for_update()
        return self._session.scalar(query)

    def existing(self, period_id: str, *, for_update: bool = False) -> DonationPeriod:
        """A period that was ensured before: its absence is a bug, not a client's mistake."""
        period = self.get(period_id, for_update=for_update)
        if period is None:
            raise LookupError(f"donation period {period_id} does not exist")
        return period

    def due(self, now: datetime) -> list[str]:
        return list(
            self._session.scalars(
                select(DonationPeriod.id)
                .where(DonationPeriod.ends_at <= now, DonationPeriod.status != "closed")
                .order_by(DonationPeriod.id)
            )
        )

    def week_points(self, period_id: str) -> dict[str, int]:
        return dict(
            self._session.execute(
                select(SmileTotal.user_id, SmileTotal.points).where(
                    SmileTotal.scope == "week",
                    SmileTotal.period_key == period_id,
                    SmileTotal.points > 0,
                )
            ).all()
        )

    def add_allocations(self, rows: list[dict[str, Any]]) -> None:
        bulk_insert(self._session, PeriodAllocation, rows)
