"""The double-entry donation ledger: accounts, balanced transactions posted at most once."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import (
    and_,
    func,
    or_,
    select,
)
from sqlalchemy.orm import Session

from cheese_runtime.db.types import utcnow
from functions.smile_rank.dal.sql import bulk_insert
from functions.smile_rank.models import (
    LedgerAccount,
    LedgerEntry,
    LedgerTransaction,
)


def account_id(kind: str, owner_id: str, currency: str) -> str:
    """Account ids are their natural key: the same on every run, and computable in SQL (see PeriodCloser)."""
    return f"{kind}:{owner_id}:{currency}"


@dataclass(frozen=True)
class Posting:
    """A transaction to post: entries are (account kind, owner, signed amount)."""

    idempotency_key: str
    kind: str
    period_id: str | None
    user_id: str | None
    memo: str
    currency: str
    entries: tuple[tuple[str, str, int], ...]


class UnbalancedTransaction(ValueError):
    pass


class LedgerRepository:
    def __init__(self, session: Session) -> None:
        self._session = session

    def post(self, postings: Sequence[Posting]) -> int:
        """Post each transaction at most once (by idempotency key); returns how many were new.

        The caller holds a lock that serialises posters of these keys (the
        period row, for a close). Transactions already in the ledger are
        skipped; the new ones and all their entries are written in the
        caller's database transaction, entries in one statement: a transaction
        row exists if and only if all its entries do. A racing poster without
        the lock would hit the unique key and roll back, never post twice.
        """
        if not postings:
            return 0
        for posting in postings:
            if sum(amount for _, _, amount in posting.entries) != 0:
                raise UnbalancedTransaction(posting.idempotency_key)
        ids = {p.idempotency_key: p for p in postings}
        existing = set(
            self._session.scalars(
                select(LedgerTransaction.id).where(LedgerTransaction.id.in_(list(ids)))
            )
        )
        new = [(tid, p) for tid, p in ids.items() if tid not in existing]
        if not new:
            return 0
        now = utcnow()
        accounts = sorted(
            {(kind, owner, p.currency) for _, p in new for kind, owner, _ in p.entries}
        )
        bulk_insert(
            self._session,
            LedgerAccount,
            [
                {
                    "id": account_id(*a),
                    "kind": a[0],
                    "owner_id": a[1],
                    "currency": a[2],
                    "created_at": now,
                }
                for a in accounts
            ],
            skip_conflicts=True,
        )
        bulk_insert(
            self._session,
            LedgerTransaction,
            [
                {
                    "id": tid,
                    "kind": p.kind,
                    "period_id": p.period_id,
                    "user_id": p.user_id,
                    "memo": p.memo,
                    "posted_at": now,
                }
                for tid, p in new
            ],
        )
        bulk_insert(
            self._session,
            LedgerEntry,
            [
                {
                    "transaction_id": tid,
                    "entry_no": n,
                    "account_id": account_id(kind, owner, p.currency),
                    "amount_minor": amount,
                    "currency": p.currency,
                    "posted_at": now,
                }
                for tid, p in new
                for n, (kind, owner, amount) in enumerate(p.entries, start=1)
            ],
        )
        return len(new)

    def period_totals(self, period_id: str) -> tuple[int, int, int]:
        """(donation transactions, amount credited to charities, sum of all their entries) of a period.

        Shaped for an index-driven plan even before statistics know the
        freshly posted rows: the period's transactions by index, each one's
        entries by primary key (the charity leg is entry 4).
        """
        row = self._session.execute(
            select(
                func.count().filter(LedgerEntry.entry_no == 1),
                func.coalesce(
                    func.sum(LedgerEntry.amount_minor).filter(LedgerEntry.entry_no == 4), 0
                ),
                func.coalesce(func.sum(LedgerEntry.amount_minor), 0),
            )
            .select_from(LedgerTransaction)
            .join(LedgerEntry, LedgerEntry.transaction_id == LedgerTransaction.id)
            .where(LedgerTransaction.period_id == period_id, LedgerTransaction.kind == "donation")
        ).one()
        return int(row[0]), int(row[1]), int(row[2])

    def charity_totals(self) -> list[tuple[str, str, int]]:
        """(charity id, currency, total credited) for every charity account."""
        rows = self._session.execute(
            select(
                LedgerAccount.owner_id, LedgerAccount.currency, func.sum(LedgerEntry.amount_minor)
            )
            .join(LedgerEntry, LedgerEntry.account_id == LedgerAccount.id)
            .where(LedgerAccount.kind == "charity")
            .group_by(LedgerAccount.owner_id, LedgerAccount.currency)
        ).all()
        return [(r[0], r[1], int(r[2])) for r in rows]

    def user_totals(self, user_id: str) -> list[tuple[str, str, int]]:
        """(charity id, currency, total) the user's pledges paid to each charity."""
        rows = self._session.execute(
            select(
                LedgerAccount.owner_id, LedgerAccount.currency, func.sum(LedgerEntry.amount_minor)
            )
            .select_from(LedgerTransaction)
            .join(LedgerEntry, LedgerEntry.transaction_id == LedgerTransaction.id)
            .join(LedgerAccount, LedgerAccount.id == LedgerEntry.account_id)
            .where(LedgerTransaction.user_id == user_id, LedgerAccount.kind == "charity")
            .group_by(LedgerAccount.owner_id, LedgerAccount.currency)
        ).all()
        return [(r[0], r[1], int(r[2])) for r in rows]

    def user_transactions(
        self, user_id: str, period_id: str | None, limit: int, after: tuple[str, str] | None
    ) -> list[LedgerTransaction]:
        query = select(LedgerTransaction).where(LedgerTransaction.user_id == user_id)
        if period_id is not None:
            query = query.where(LedgerTransaction.period_id == period_id)
        if after is not None:
            # Newest period first; within a period by id.
            query = query.where(
                or_(
                    LedgerTransaction.period_id < after[0],
                    and_(LedgerTransaction.period_id == after[0], LedgerTransaction.id > after[1]),
                )
            )
        return list(
            self._session.scalars(
                query.order_by(LedgerTransaction.period_id.desc(), LedgerTransaction.id).limit(
                    limit
                )
            )
        )

    def entries_of(self, transaction_ids: list[str]) -> list[tuple[LedgerEntry, LedgerAccount]]:
        if not transaction_ids:
            return []
        rows = self._session.execute(
            select(LedgerEntry, LedgerAccount)
            .join(LedgerAccount, LedgerAccount.id == LedgerEntry.account_id)
            .where(LedgerEntry.transaction_id.in_(transaction_ids))
            .order_by(LedgerEntry.transaction_id, LedgerEntry.entry_no)
        ).all()
        return [(e, a) for e, a in rows]
