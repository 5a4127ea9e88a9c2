"""Charities and each user's choice of one, by effective period."""

from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy import (
    and_,
    func,
    select,
    tuple_,
)
from sqlalchemy.orm import Session

from cheese_runtime.db.types import utcnow
from functions.smile_rank.dal.sql import dialect_insert
from functions.smile_rank.models import (
    Charity,
    CharityChoice,
)


class CharityRepository:
    def __init__(self, session: Session) -> None:
        self._session = session

    def get(self, charity_id: str) -> Charity | None:
        return self._session.get(Charity, charity_id)

    def by_name(self, name: str) -> Charity | None:
        return self._session.scalar(select(Charity).where(Charity.name == name))

    def add(self, name: str, description: str) -> Charity:
        charity = Charity(name=name, description=description, active=True)
        self._session.add(charity)
        self._session.flush()
        return charity

    def page(self, limit: int, after: tuple[str, str] | None) -> list[Charity]:
        query = select(Charity).where(Charity.active.is_(True))
        if after is not None:
            query = query.where(tuple_(Charity.name, Charity.id) > tuple_(*after))
        return list(self._session.scalars(query.order_by(Charity.name, Charity.id).limit(limit)))

    def names(self, ids: Iterable[str]) -> dict[str, str]:
        ids = list(set(ids))
        if not ids:
            return {}
        # .all(): a Result has keys(), which dict() would take for a mapping's.
        return dict(
            self._session.execute(select(Charity.id, Charity.name).where(Charity.id.in_(ids))).all()
        )

    def choose(self, user_id: str, charity_id: str, effective_from: str) -> None:
        stmt = dialect_insert(self._session, CharityChoice).values(
            user_id=user_id,
            effective_from=effective_from,
            charity_id=charity_id,
            chosen_at=utcnow(),
        )
        self._session.execute(
            stmt.on_conflict_do_update(
                index_elements=["user_id", "effective_from"],
                set_={"charity_id": stmt.excluded.charity_id, "chosen_at": stmt.excluded.chosen_at},
            )
        )

    def effective_choice(self, user_id: str, period_id: str) -> str | None:
        return self._session.scalar(
            select(CharityChoice.charity_id)
            .where(
                CharityChoice.user_id == user_id,
                CharityChoice.effective_from <= period_id,
            )
            .order_by(CharityChoice.effective_from.desc())
            .limit(1)
        )

    def effective_choices(self, period_id: str) -> dict[str, str]:
        """user id → charity id in force during ``period_id`` (choices are made for the next period)."""
        latest = (
            select(CharityChoice.user_id, func.max(CharityChoice.effective_from).label("ef"))
            .where(CharityChoice.effective_from <= period_id)
            .group_by(CharityChoice.user_id)
            .subquery()
        )
        rows = self._session.execute(
            select(CharityChoice.user_id, CharityChoice.charity_id).join(
                latest,
                and_(
                    latest.c.user_id == CharityChoice.user_id,
                    latest.c.ef == CharityChoice.effective_from,
                ),
            )
        )
        return dict(rows.all())
