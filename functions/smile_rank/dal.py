"""Data access of smile_rank: smile records and rank materialisation, charities, periods, the ledger.

Written once for PostgreSQL and SQLite: ``insert … on conflict`` comes from the
session's dialect, row locks (``FOR UPDATE`` / ``FOR SHARE``) are rendered on
PostgreSQL and are no-ops on SQLite, whose writers are serialised anyway.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from sqlalchemy import (
    Connection,
    Date,
    and_,
    bindparam,
    delete,
    func,
    or_,
    select,
    text,
    tuple_,
    update,
)
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from functions.smile_rank.models import (
    Charity,
    CharityChoice,
    DonationPeriod,
    LedgerAccount,
    LedgerEntry,
    LedgerTransaction,
    PeriodAllocation,
    SmileDaily,
    SmilePhoto,
    SmileScoreCount,
    SmileTotal,
)
from cheese_runtime.db.session import read_scope
from cheese_runtime.db.types import UTCDateTime, utcnow

ALL = ("all", "all")


def dialect_insert(session: Session, table: Any) -> Any:
    name = session.get_bind().dialect.name
    return (postgresql.insert if name == "postgresql" else sqlite.insert)(table)


def bulk_insert(
    session: Session, table: Any, rows: list[dict[str, Any]], *, skip_conflicts: bool = False
) -> None:
    """Insert many rows in ONE statement on PostgreSQL (``unnest`` of one array per column), or executemany.

    One statement per call matters twice: statement-level triggers see the
    whole set at once, and the SQL is compiled once, whatever the row count.
    """
    if not rows:
        return
    table = getattr(table, "__table__", table)
    columns = list(rows[0])
    dialect = session.get_bind().dialect
    if dialect.name == "postgresql":
        arrays = ", ".join(
            f"CAST(:{c} AS {table.c[c].type.compile(dialect=dialect)}[])" for c in columns
        )
        sql = f"INSERT INTO {table.name} ({', '.join(columns)}) SELECT * FROM unnest({arrays})"
        if skip_conflicts:
            sql += " ON CONFLICT DO NOTHING"
        session.execute(text(sql), {c: [row[c] for row in rows] for c in columns})
        return
    stmt = sqlite.insert(table)
    session.execute(stmt.on_conflict_do_nothing() if skip_conflicts else stmt, rows)


def account_id(kind: str, owner_id: str, currency: str) -> str:
    """Account ids are their natural key: the same on every run, and computable in SQL (see PeriodCloser)."""
    return f"{kind}:{owner_id}:{currency}"


# --- smiles -------------------------------------------------------------------


class SmileRepository:
    # A Session for writes; the hot reads (standing, ranking_page, score_counts) also take a Connection.
    def __init__(self, session: Session | Connection) -> None:
        self._session = session

    def lock_user(self, user_id: str) -> None:
        """Serialise the writes of one user (dedup, cap, totals) on their all-time totals row.

        The insert comes first so that SQLite takes its write lock before any read.
        """
        self._session.execute(
            dialect_insert(self._session, SmileTotal)
            .values(scope="all", period_key="all", user_id=user_id, points=0, updated_at=utcnow())
            .on_conflict_do_nothing()
        )
        self._session.execute(
            select(SmileTotal.points)
            .where(
                SmileTotal.scope == "all",
                SmileTotal.period_key == "all",
                SmileTotal.user_id == user_id,
            )
            .with_for_update()
        )

    def photo(self, photo_id: str, *, for_update: bool = False) -> SmilePhoto | None:
        query = select(SmilePhoto).where(SmilePhoto.photo_id == photo_id)
        if for_update:
            query = query.with_for_update()
        return self._session.scalar(query)

    def add_photo(self, photo: SmilePhoto) -> None:
        self._session.add(photo)
        self._session.flush()

    def same_sha256(self, user_id: str, sha256: str) -> str | None:
        return self._session.scalar(
            select(SmilePhoto.photo_id)
            .where(
                SmilePhoto.user_id == user_id,
                SmilePhoto.sha256 == sha256,
                SmilePhoto.status != "reversed",
            )
            .limit(1)
        )

    def hashes(self, user_id: str) -> Sequence[tuple[str, int, str]]:
        """(photo id, dHash, face signature) of the user's photos that still count."""
        return self._session.execute(
            select(
                SmilePhoto.photo_id, SmilePhoto.perceptual_hash, SmilePhoto.face_signature
            ).where(
                SmilePhoto.user_id == user_id,
                SmilePhoto.perceptual_hash.is_not(None),
                SmilePhoto.status != "reversed",
            )
        ).all()

    def daily_points(self, user_id: str, day: date) -> int:
        return (
            self._session.scalar(
                select(SmileDaily.points).where(
                    SmileDaily.user_id == user_id, SmileDaily.day == day
                )
            )
            or 0
        )

    def add_daily(self, user_id: str, day: date, delta: int) -> None:
        stmt = dialect_insert(self._session, SmileDaily).values(
            user_id=user_id, day=day, points=delta
        )
        self._session.execute(
            stmt.on_conflict_do_update(
                index_elements=["user_id", "day"],
                set_={"points": SmileDaily.points + stmt.excluded.points},
            )
        )

    def totals(self, user_id: str, keys: Iterable[tuple[str, str]]) -> dict[tuple[str, str], int]:
        keys = list(keys)
        rows = self._session.execute(
            select(SmileTotal.scope, SmileTotal.period_key, SmileTotal.points).where(
                SmileTotal.user_id == user_id,
                or_(*(and_(SmileTotal.scope == s, SmileTotal.period_key == k) for s, k in keys)),
            )
        ).all()
        return {(r.scope, r.period_key): r.points for r in rows}

    def add_points(self, user_id: str, deltas: dict[tuple[str, str], int]) -> None:
        """Change the user's totals and keep the score counts in step (caller holds the user lock)."""
        old = self.totals(user_id, deltas)
        bucket_changes: dict[tuple[str, str, int], int] = {}
        now = utcnow()
        for key, delta in deltas.items():
            before = old.get(key, 0)
            after = before + delta
            if key in old:
                self._session.execute(
                    update(SmileTotal)
                    .where(
                        SmileTotal.scope == key[0],
                        SmileTotal.period_key == key[1],
                        SmileTotal.user_id == user_id,
                    )
                    .values(points=after, updated_at=now)
                )
            else:
                self._session.execute(
                    dialect_insert(self._session, SmileTotal).values(
                        scope=key[0],
                        period_key=key[1],
                        user_id=user_id,
                        points=after,
                        updated_at=now,
                    )
                )
            if before > 0:
                bucket_changes[(*key, before)] = bucket_changes.get((*key, before), 0) - 1
            if after > 0:
                bucket_changes[(*key, after)] = bucket_changes.get((*key, after), 0) + 1
        self._change_buckets(bucket_changes)

    def _change_buckets(self, changes: dict[tuple[str, str, int], int]) -> None:
        # Always in the same order, so two transactions never wait on each other in a cycle.
        for (scope, key, points), delta in sorted(changes.items()):
            if delta == 0:
                continue
            stmt = dialect_insert(self._session, SmileScoreCount).values(
                scope=scope, period_key=key, points=points, users=delta
            )
            self._session.execute(
                stmt.on_conflict_do_update(
                    index_elements=["scope", "period_key", "points"],
                    set_={"users": SmileScoreCount.users + stmt.excluded.users},
                )
            )

    def erase_user(self, user_id: str) -> int:
        """Remove a user's smile records and their place in every ranking; the ledger stays."""
        rows = self._session.execute(
            select(SmileTotal.scope, SmileTotal.period_key, SmileTotal.points).where(
                SmileTotal.user_id == user_id
            )
        ).all()
        changes = {(r.scope, r.period_key, r.points): -1 for r in rows if r.points > 0}
        self._change_buckets(changes)
        self._session.execute(delete(SmileTotal).where(SmileTotal.user_id == user_id))
        self._session.execute(delete(SmileDaily).where(SmileDaily.user_id == user_id))
        self._session.execute(delete(CharityChoice).where(CharityChoice.user_id == user_id))
        return self._session.execute(
            delete(SmilePhoto).where(SmilePhoto.user_id == user_id)
        ).rowcount

    # --- reads for the API ----------------------------------------------------
    def standing(self, user_id: str, week: str, month: str, day: date) -> tuple[dict, dict, int]:
        """(points, competition rank, today's points) of a user, in one statement (``_STANDING``)."""
        keys = [("week", week), ("month", month), ("all", "all")]
        points: dict[tuple[str, str], int] = {key: 0 for key in keys}
        ranks: dict[tuple[str, str], int | None] = {key: None for key in keys}
        today_points = 0
        rows = self._session.execute(
            _STANDING, {"user": user_id, "week": week, "month": month, "day": day}
        )
        for scope, key, p, n in rows:
            if scope == "day":
                today_points = int(p)
            elif p > 0:
                points[(scope, key)], ranks[(scope, key)] = int(p), 1 + int(n)
        return points, ranks, today_points

    def ranking_page(
        self, scope: str, period_key: str, limit: int, after: tuple[int, str] | None
    ) -> list[tuple[str, str, int]]:
        """(user id, display name, points) by points descending, ties by user id descending."""
        params = {"scope": scope, "key": period_key, "limit": limit}
        if after is None:
            return [tuple(r) for r in self._session.execute(_RANKING_FIRST, params)]
        params |= {"points": after[0], "user": after[1]}
        return [tuple(r) for r in self._session.execute(_RANKING_AFTER, params)]

    def score_counts(
        self, scope: str, period_key: str, low: int, high: int
    ) -> tuple[int, dict[int, int]]:
        """(users with more than ``high`` points, users per score in [low, high]), in one statement."""
        counts, users_above = {}, 0
        rows = self._session.execute(
            _SCORE_COUNTS, {"scope": scope, "key": period_key, "low": low, "high": high}
        )
        for points, users in rows:
            if points == -1:
                users_above = int(users)
            else:
                counts[int(points)] = int(users)
        return users_above, counts


# The hot reads, written once as SQL (no statement building per request). Ranks:
# 1 + the users above, summed over smile_score_counts (a short primary-key range).
_STANDING = text("""
SELECT t.scope, t.period_key, t.points,
       (SELECT COALESCE(SUM(c.users), 0) FROM smile_score_counts c
        WHERE c.scope = t.scope AND c.period_key = t.period_key AND c.points > t.points) AS above
FROM smile_totals t
WHERE t.user_id = :user
  AND ((t.scope = 'week' AND t.period_key = :week) OR (t.scope = 'month' AND t.period_key = :month)
       OR (t.scope = 'all' AND t.period_key = 'all'))
UNION ALL
SELECT 'day', '', COALESCE((SELECT d.points FROM smile_daily d WHERE d.user_id = :user AND d.day = :day), 0), 0
""").bindparams(bindparam("day", type_=Date))

_RANKING = """
SELECT t.user_id, u.display_name, t.points
FROM smile_totals t JOIN users u ON u.id = t.user_id
WHERE t.scope = :scope AND t.period_key = :key AND t.points > 0 {after}
ORDER BY t.points DESC, t.user_id DESC
LIMIT :limit
"""
_RANKING_FIRST = text(_RANKING.format(after=""))
# A row-value comparison: one index range from the cursor on (an OR would scan from the top).
_RANKING_AFTER = text(_RANKING.format(after="AND (t.points, t.user_id) < (:points, :user)"))

_SCORE_COUNTS = text("""
SELECT c.points, c.users FROM smile_score_counts c
WHERE c.scope = :scope AND c.period_key = :key AND c.points BETWEEN :low AND :high
UNION ALL
SELECT -1, COALESCE(SUM(c.users), 0) FROM smile_score_counts c
WHERE c.scope = :scope AND c.period_key = :key AND c.points > :high
""")


# --- charities ------------------------------------------------------------------


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
        return {
            i: n
            for i, n in self._session.execute(
                select(Charity.id, Charity.name).where(Charity.id.in_(ids))
            )
        }

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
        return {u: c for u, c in rows}


# --- periods --------------------------------------------------------------------


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

    def due(self, now: datetime) -> list[str]:
        return list(
            self._session.scalars(
                select(DonationPeriod.id)
                .where(DonationPeriod.ends_at <= now, DonationPeriod.status != "closed")
                .order_by(DonationPeriod.id)
            )
        )

    def week_points(self, period_id: str) -> dict[str, int]:
        return {
            u: p
            for u, p in self._session.execute(
                select(SmileTotal.user_id, SmileTotal.points).where(
                    SmileTotal.scope == "week",
                    SmileTotal.period_key == period_id,
                    SmileTotal.points > 0,
                )
            )
        }

    def add_allocations(self, rows: list[dict[str, Any]]) -> None:
        bulk_insert(self._session, PeriodAllocation, rows)

    def allocations(self, period_id: str, after_user: str, limit: int) -> list[PeriodAllocation]:
        return list(
            self._session.scalars(
                select(PeriodAllocation)
                .where(
                    PeriodAllocation.period_id == period_id,
                    PeriodAllocation.user_id > after_user,
                    PeriodAllocation.amount_minor > 0,
                )
                .order_by(PeriodAllocation.user_id)
                .limit(limit)
            )
        )


# --- ledger ---------------------------------------------------------------------


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


# --- period close: posting a batch inside the database -------------------------

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
            return self._session.execute(stmt, params).rowcount

        run(_POST_ACCOUNTS)
        posted = run(_POST_TRANSACTIONS)
        run(_POST_ENTRIES)
        return posted
