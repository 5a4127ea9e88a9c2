"""Data access of smile_rank: smile records and rank materialisation, charities, periods, the ledger.

Written once for PostgreSQL and SQLite: ``insert … on conflict`` comes from the
session's dialect, row locks (``FOR UPDATE`` / ``FOR SHARE``) are rendered on
PostgreSQL and are no-ops on SQLite, whose writers are serialised anyway.
"""
from __future__ import annotations

import uuid
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from sqlalchemy import and_, delete, func, literal, or_, select, text, tuple_, union_all, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from cheese_runtime.db.models import (
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
    User,
)
from cheese_runtime.db.types import utcnow

LEDGER_NAMESPACE = uuid.UUID("5f0c3a1e-8c1b-4d7e-9a57-0c6b1e5a3f21")
ALL = ("all", "all")


def dialect_insert(session: Session, table: Any) -> Any:
    name = session.get_bind().dialect.name
    return (postgresql.insert if name == "postgresql" else sqlite.insert)(table)


def bulk_insert(session: Session, table: Any, rows: list[dict[str, Any]], *, skip_conflicts: bool = False) -> None:
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
        arrays = ", ".join(f"CAST(:{c} AS {table.c[c].type.compile(dialect=dialect)}[])" for c in columns)
        sql = f"INSERT INTO {table.name} ({', '.join(columns)}) SELECT * FROM unnest({arrays})"
        if skip_conflicts:
            sql += " ON CONFLICT DO NOTHING"
        session.execute(text(sql), {c: [row[c] for row in rows] for c in columns})
        return
    stmt = sqlite.insert(table)
    session.execute(stmt.on_conflict_do_nothing() if skip_conflicts else stmt, rows)


def stable_id(text: str) -> str:
    """A UUID derived from ``text``: re-running a job yields the same ids."""
    return str(uuid.uuid5(LEDGER_NAMESPACE, text))


def account_id(kind: str, owner_id: str, currency: str) -> str:
    return stable_id(f"account:{kind}:{owner_id}:{currency}")


def transaction_id(idempotency_key: str) -> str:
    return stable_id(f"transaction:{idempotency_key}")


# --- smiles -------------------------------------------------------------------

class SmileRepository:
    def __init__(self, session: Session) -> None:
        self._session = session

    def lock_user(self, user_id: str) -> None:
        """Serialise the writes of one user (dedup, cap, totals) on their all-time totals row.

        The insert comes first so that SQLite takes its write lock before any read.
        """
        self._session.execute(dialect_insert(self._session, SmileTotal).values(
            scope="all", period_key="all", user_id=user_id, points=0, updated_at=utcnow()).on_conflict_do_nothing())
        self._session.execute(select(SmileTotal.points).where(
            SmileTotal.scope == "all", SmileTotal.period_key == "all", SmileTotal.user_id == user_id,
        ).with_for_update())

    def photo(self, photo_id: str, *, for_update: bool = False) -> SmilePhoto | None:
        query = select(SmilePhoto).where(SmilePhoto.photo_id == photo_id)
        if for_update:
            query = query.with_for_update()
        return self._session.scalar(query)

    def add_photo(self, photo: SmilePhoto) -> None:
        self._session.add(photo)
        self._session.flush()

    def same_sha256(self, user_id: str, sha256: str) -> str | None:
        return self._session.scalar(select(SmilePhoto.photo_id).where(
            SmilePhoto.user_id == user_id, SmilePhoto.sha256 == sha256, SmilePhoto.status != "reversed",
        ).limit(1))

    def hashes(self, user_id: str) -> Sequence[tuple[str, int, str]]:
        """(photo id, dHash, face signature) of the user's photos that still count."""
        return self._session.execute(select(SmilePhoto.photo_id, SmilePhoto.perceptual_hash,
                                            SmilePhoto.face_signature).where(
            SmilePhoto.user_id == user_id, SmilePhoto.perceptual_hash.is_not(None),
            SmilePhoto.status != "reversed")).all()

    def daily_points(self, user_id: str, day: date) -> int:
        return self._session.scalar(select(SmileDaily.points).where(
            SmileDaily.user_id == user_id, SmileDaily.day == day)) or 0

    def add_daily(self, user_id: str, day: date, delta: int) -> None:
        stmt = dialect_insert(self._session, SmileDaily).values(user_id=user_id, day=day, points=delta)
        self._session.execute(stmt.on_conflict_do_update(
            index_elements=["user_id", "day"], set_={"points": SmileDaily.points + stmt.excluded.points}))

    def totals(self, user_id: str, keys: Iterable[tuple[str, str]]) -> dict[tuple[str, str], int]:
        keys = list(keys)
        rows = self._session.execute(select(SmileTotal.scope, SmileTotal.period_key, SmileTotal.points).where(
            SmileTotal.user_id == user_id,
            or_(*(and_(SmileTotal.scope == s, SmileTotal.period_key == k) for s, k in keys)))).all()
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
                self._session.execute(update(SmileTotal).where(
                    SmileTotal.scope == key[0], SmileTotal.period_key == key[1], SmileTotal.user_id == user_id,
                ).values(points=after, updated_at=now))
            else:
                self._session.execute(dialect_insert(self._session, SmileTotal).values(
                    scope=key[0], period_key=key[1], user_id=user_id, points=after, updated_at=now))
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
                scope=scope, period_key=key, points=points, users=delta)
            self._session.execute(stmt.on_conflict_do_update(
                index_elements=["scope", "period_key", "points"],
                set_={"users": SmileScoreCount.users + stmt.excluded.users}))

    def erase_user(self, user_id: str) -> int:
        """Remove a user's smile records and their place in every ranking; the ledger stays."""
        rows = self._session.execute(select(SmileTotal.scope, SmileTotal.period_key, SmileTotal.points).where(
            SmileTotal.user_id == user_id)).all()
        changes = {(r.scope, r.period_key, r.points): -1 for r in rows if r.points > 0}
        self._change_buckets(changes)
        self._session.execute(delete(SmileTotal).where(SmileTotal.user_id == user_id))
        self._session.execute(delete(SmileDaily).where(SmileDaily.user_id == user_id))
        self._session.execute(delete(CharityChoice).where(CharityChoice.user_id == user_id))
        return self._session.execute(delete(SmilePhoto).where(SmilePhoto.user_id == user_id)).rowcount

    # --- reads for the API ----------------------------------------------------
    def standing(self, user_id: str, keys: list[tuple[str, str]], day: date) -> tuple[dict, dict, int]:
        """(points, competition rank, today's points) of a user, in one statement.

        Points come from the user's rows of ``smile_totals`` (primary key), ranks
        from ``smile_score_counts`` (1 + users with more points: a short range of
        the primary key, never a scan of the users).
        """
        t, c = SmileTotal, SmileScoreCount
        above = (select(func.coalesce(func.sum(c.users), 0))
                 .where(c.scope == t.scope, c.period_key == t.period_key, c.points > t.points).scalar_subquery())
        totals = select(t.scope, t.period_key, t.points, above.label("above")).where(
            t.user_id == user_id, or_(*(and_(t.scope == s, t.period_key == k) for s, k in keys)))
        today = select(literal("day"), literal(""), func.coalesce(select(SmileDaily.points).where(
            SmileDaily.user_id == user_id, SmileDaily.day == day).scalar_subquery(), 0), literal(0))
        points: dict[tuple[str, str], int] = {key: 0 for key in keys}
        ranks: dict[tuple[str, str], int | None] = {key: None for key in keys}
        today_points = 0
        for scope, key, p, n in self._session.execute(union_all(totals, today)):
            if scope == "day":
                today_points = int(p)
            elif p > 0:
                points[(scope, key)], ranks[(scope, key)] = int(p), 1 + int(n)
        return points, ranks, today_points

    def ranking_page(self, scope: str, period_key: str, limit: int,
                     after: tuple[int, str] | None) -> list[tuple[str, str, int]]:
        """(user id, display name, points) by points descending, ties by user id descending."""
        query = (select(SmileTotal.user_id, User.display_name, SmileTotal.points)
                 .join(User, User.id == SmileTotal.user_id)
                 .where(SmileTotal.scope == scope, SmileTotal.period_key == period_key, SmileTotal.points > 0))
        if after is not None:
            query = query.where(tuple_(SmileTotal.points, SmileTotal.user_id) < tuple_(*after))
        query = query.order_by(SmileTotal.points.desc(), SmileTotal.user_id.desc()).limit(limit)
        return [tuple(r) for r in self._session.execute(query).all()]

    def score_counts(self, scope: str, period_key: str, low: int, high: int) -> tuple[int, dict[int, int]]:
        """(users with more than ``high`` points, users per score in [low, high]), in one statement."""
        c = SmileScoreCount
        in_page = select(c.points, c.users).where(c.scope == scope, c.period_key == period_key,
                                                  c.points >= low, c.points <= high)
        above = select(literal(-1), func.coalesce(func.sum(c.users), 0)).where(
            c.scope == scope, c.period_key == period_key, c.points > high)
        counts, users_above = {}, 0
        for points, users in self._session.execute(union_all(in_page, above)):
            if points == -1:
                users_above = int(users)
            else:
                counts[int(points)] = int(users)
        return users_above, counts


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
        return {i: n for i, n in self._session.execute(select(Charity.id, Charity.name).where(Charity.id.in_(ids)))}

    def choose(self, user_id: str, charity_id: str, effective_from: str) -> None:
        stmt = dialect_insert(self._session, CharityChoice).values(
            user_id=user_id, effective_from=effective_from, charity_id=charity_id, chosen_at=utcnow())
        self._session.execute(stmt.on_conflict_do_update(
            index_elements=["user_id", "effective_from"],
            set_={"charity_id": stmt.excluded.charity_id, "chosen_at": stmt.excluded.chosen_at}))

    def effective_choice(self, user_id: str, period_id: str) -> str | None:
        return self._session.scalar(select(CharityChoice.charity_id).where(
            CharityChoice.user_id == user_id, CharityChoice.effective_from <= period_id,
        ).order_by(CharityChoice.effective_from.desc()).limit(1))

    def effective_choices(self, period_id: str) -> dict[str, str]:
        """user id → charity id in force during ``period_id`` (choices are made for the next period)."""
        latest = (select(CharityChoice.user_id, func.max(CharityChoice.effective_from).label("ef"))
                  .where(CharityChoice.effective_from <= period_id).group_by(CharityChoice.user_id).subquery())
        rows = self._session.execute(select(CharityChoice.user_id, CharityChoice.charity_id).join(
            latest, and_(latest.c.user_id == CharityChoice.user_id, latest.c.ef == CharityChoice.effective_from)))
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

    def ensure(self, period_id: str, starts_at: datetime, ends_at: datetime, defaults: PeriodDefaults) -> None:
        self._session.execute(dialect_insert(self._session, DonationPeriod).values(
            id=period_id, starts_at=starts_at, ends_at=ends_at, status="open", currency=defaults.currency,
            budget_minor=defaults.budget_minor, rate_minor_per_point=defaults.rate_minor_per_point,
            updated_at=utcnow()).on_conflict_do_nothing())

    def status_for_share(self, period_id: str) -> str | None:
        """The status, holding a shared lock until commit: a close cannot start under our feet."""
        return self._session.scalar(select(DonationPeriod.status).where(DonationPeriod.id == period_id)
                                    .with_for_update(read=True))

    def get(self, period_id: str, *, for_update: bool = False) -> DonationPeriod | None:
        query = select(DonationPeriod).where(DonationPeriod.id == period_id)
        if for_update:
            query = query.with_for_update()
        return self._session.scalar(query)

    def due(self, now: datetime) -> list[str]:
        return list(self._session.scalars(select(DonationPeriod.id).where(
            DonationPeriod.ends_at <= now, DonationPeriod.status != "closed").order_by(DonationPeriod.id)))

    def week_points(self, period_id: str) -> dict[str, int]:
        return {u: p for u, p in self._session.execute(select(SmileTotal.user_id, SmileTotal.points).where(
            SmileTotal.scope == "week", SmileTotal.period_key == period_id, SmileTotal.points > 0))}

    def add_allocations(self, rows: list[dict[str, Any]]) -> None:
        bulk_insert(self._session, PeriodAllocation, rows)

    def allocations(self, period_id: str, after_user: str, limit: int) -> list[PeriodAllocation]:
        return list(self._session.scalars(select(PeriodAllocation).where(
            PeriodAllocation.period_id == period_id, PeriodAllocation.user_id > after_user,
            PeriodAllocation.amount_minor > 0).order_by(PeriodAllocation.user_id).limit(limit)))


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
        ids = {transaction_id(p.idempotency_key): p for p in postings}
        existing = set(self._session.scalars(select(LedgerTransaction.id).where(LedgerTransaction.id.in_(list(ids)))))
        new = [(tid, p) for tid, p in ids.items() if tid not in existing]
        if not new:
            return 0
        now = utcnow()
        accounts = sorted({(kind, owner, p.currency) for _, p in new for kind, owner, _ in p.entries})
        bulk_insert(self._session, LedgerAccount, [
            {"id": account_id(*a), "kind": a[0], "owner_id": a[1], "currency": a[2], "created_at": now}
            for a in accounts], skip_conflicts=True)
        bulk_insert(self._session, LedgerTransaction, [
            {"id": tid, "idempotency_key": p.idempotency_key, "kind": p.kind, "period_id": p.period_id,
             "user_id": p.user_id, "memo": p.memo, "posted_at": now} for tid, p in new])
        bulk_insert(self._session, LedgerEntry, [
            {"transaction_id": tid, "entry_no": n, "account_id": account_id(kind, owner, p.currency),
             "amount_minor": amount, "currency": p.currency, "posted_at": now}
            for tid, p in new for n, (kind, owner, amount) in enumerate(p.entries, start=1)])
        return len(new)

    def period_totals(self, period_id: str) -> tuple[int, int, int]:
        """(donation transactions, amount credited to charities, sum of all their entries) of a period.

        Shaped for an index-driven plan even before statistics know the
        freshly posted rows: the period's transactions by index, each one's
        entries by primary key (the charity leg is entry 4).
        """
        row = self._session.execute(
            select(func.count().filter(LedgerEntry.entry_no == 1),
                   func.coalesce(func.sum(LedgerEntry.amount_minor).filter(LedgerEntry.entry_no == 4), 0),
                   func.coalesce(func.sum(LedgerEntry.amount_minor), 0))
            .select_from(LedgerTransaction)
            .join(LedgerEntry, LedgerEntry.transaction_id == LedgerTransaction.id)
            .where(LedgerTransaction.period_id == period_id, LedgerTransaction.kind == "donation")).one()
        return int(row[0]), int(row[1]), int(row[2])

    def charity_totals(self) -> list[tuple[str, str, int]]:
        """(charity id, currency, total credited) for every charity account."""
        rows = self._session.execute(
            select(LedgerAccount.owner_id, LedgerAccount.currency, func.sum(LedgerEntry.amount_minor))
            .join(LedgerEntry, LedgerEntry.account_id == LedgerAccount.id)
            .where(LedgerAccount.kind == "charity")
            .group_by(LedgerAccount.owner_id, LedgerAccount.currency)).all()
        return [(r[0], r[1], int(r[2])) for r in rows]

    def user_totals(self, user_id: str) -> list[tuple[str, str, int]]:
        """(charity id, currency, total) the user's pledges paid to each charity."""
        rows = self._session.execute(
            select(LedgerAccount.owner_id, LedgerAccount.currency, func.sum(LedgerEntry.amount_minor))
            .select_from(LedgerTransaction)
            .join(LedgerEntry, LedgerEntry.transaction_id == LedgerTransaction.id)
            .join(LedgerAccount, LedgerAccount.id == LedgerEntry.account_id)
            .where(LedgerTransaction.user_id == user_id, LedgerAccount.kind == "charity")
            .group_by(LedgerAccount.owner_id, LedgerAccount.currency)).all()
        return [(r[0], r[1], int(r[2])) for r in rows]

    def user_transactions(self, user_id: str, period_id: str | None, limit: int,
                          after: tuple[str, str] | None) -> list[LedgerTransaction]:
        query = select(LedgerTransaction).where(LedgerTransaction.user_id == user_id)
        if period_id is not None:
            query = query.where(LedgerTransaction.period_id == period_id)
        if after is not None:
            # Newest period first; within a period by id.
            query = query.where(or_(LedgerTransaction.period_id < after[0],
                                    and_(LedgerTransaction.period_id == after[0], LedgerTransaction.id > after[1])))
        return list(self._session.scalars(query.order_by(LedgerTransaction.period_id.desc(),
                                                         LedgerTransaction.id).limit(limit)))

    def entries_of(self, transaction_ids: list[str]) -> list[tuple[LedgerEntry, LedgerAccount]]:
        if not transaction_ids:
            return []
        rows = self._session.execute(select(LedgerEntry, LedgerAccount)
                                     .join(LedgerAccount, LedgerAccount.id == LedgerEntry.account_id)
                                     .where(LedgerEntry.transaction_id.in_(transaction_ids))
                                     .order_by(LedgerEntry.transaction_id, LedgerEntry.entry_no)).all()
        return [(e, a) for e, a in rows]
