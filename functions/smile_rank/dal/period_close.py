"""A period close's batches, posted inside the database (no rows through Python)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import (
    bindparam,
    select,
    text,
)
from sqlalchemy.orm import Session

from cheese_runtime.db.session import rowcount
from cheese_runtime.db.types import UTCDateTime
from functions.smile_rank.models import (
    PeriodAllocation,
)

_BATCH = (
    "a.period_id = :period AND a.user_id > :after AND a.user_id <= :last AND a.amount_minor > 0"
)
_KEY = "'period-close:' || CAST(:period AS VARCHAR) || ':' || a.user_id"
_CUR = "CAST(:currency AS VARCHAR)"

_POST_ACCOUNTS = f"""
INSERT INTO ledger_accounts (id, kind, owner_id, currency, created_at)
SELECT * FROM (
    SELECT 'pledge:' || a.user_id || ':' || {_CUR} AS id, 'pledge' AS kind, a.user_id AS owner_id,
           {_CUR} AS currency, :now AS created_at
    FROM period_allocations a WHERE {_BATCH}
    UNION
    SELECT 'charity:' || a.charity_id || ':' || {_CUR}, 'charity', a.charity_id, {_CUR}, :now
    FROM period_allocations a WHERE {_BATCH}
    UNION
    SELECT 'sponsor_pool:sponsor:' || {_CUR}, 'sponsor_pool', 'sponsor', {_CUR}, :now
) AS src WHERE true
ON CONFLICT DO NOTHING
"""

_POST_TRANSACTIONS = f"""
INSERT INTO ledger_transactions (id, kind, period_id, user_id, memo, posted_at)
SELECT * FROM (
    SELECT {_KEY} AS id, 'donation' AS kind, CAST(:period AS VARCHAR) AS period_id, a.user_id AS user_id,
           SUBSTR(CAST(a.points AS VARCHAR) || ' smile points in ' || CAST(:period AS VARCHAR) || ' for '
                  || c.name, 1, 256) AS memo,
           :now AS posted_at
    FROM period_allocations a JOIN charities c ON c.id = a.charity_id WHERE {_BATCH}
) AS src WHERE true
ON CONFLICT DO NOTHING
"""

# Four legs per user: sponsor pool −a, pledge +a, pledge −a, charity +a. A transaction
# posted by an earlier run already has all its entries (it committed with them): its
# first entry is enough to skip it.
_POST_ENTRIES = f"""
INSERT INTO ledger_entries (transaction_id, entry_no, account_id, amount_minor, currency, posted_at)
SELECT {_KEY}, l.n,
       CASE l.n WHEN 1 THEN 'sponsor_pool:sponsor:' || {_CUR}
                WHEN 4 THEN 'charity:' || a.charity_id || ':' || {_CUR}
                ELSE 'pledge:' || a.user_id || ':' || {_CUR} END,
       CASE WHEN l.n IN (1, 3) THEN -a.amount_minor ELSE a.amount_minor END,
       {_CUR}, :now
FROM period_allocations a
CROSS JOIN (SELECT 1 AS n UNION ALL SELECT 2 UNION ALL SELECT 3 UNION ALL SELECT 4) AS l
WHERE {_BATCH}
  AND NOT EXISTS (SELECT 1 FROM ledger_entries e WHERE e.transaction_id = {_KEY} AND e.entry_no = 1)
"""


class CloseRepository:
    """Posts a period's donations batch by batch, without moving the rows through Python.

    Each statement works on the allocations (user_id in (after, last]) of the
    batch; the caller holds the period row's lock and commits the batch as one
    database transaction.
    """

    def __init__(self, session: Session) -> None:
        self._session = session

    def next_batch(self, period_id: str, after_user: str, limit: int) -> tuple[int, str] | None:
        """(allocations to pay, last user id) of the next batch, or None when done."""
        users = list(
            self._session.scalars(
                select(PeriodAllocation.user_id)
                .where(
                    PeriodAllocation.period_id == period_id,
                    PeriodAllocation.user_id > after_user,
                    PeriodAllocation.amount_minor > 0,
                )
                .order_by(PeriodAllocation.user_id)
                .limit(limit)
            )
        )
        return (len(users), users[-1]) if users else None

    def post_batch(
        self, period_id: str, currency: str, after_user: str, last_user: str, now: datetime
    ) -> int:
        """Post the batch's missing transactions; returns how many were new."""
        params = {
            "period": period_id,
            "currency": currency,
            "after": after_user,
            "last": last_user,
            "now": now,
        }

        def run(sql: str) -> int:
            stmt = text(sql).bindparams(bindparam("now", type_=UTCDateTime))
            return rowcount(self._session.execute(stmt, params))

        run(_POST_ACCOUNTS)
        posted = run(_POST_TRANSACTIONS)
        run(_POST_ENTRIES)
        return posted
