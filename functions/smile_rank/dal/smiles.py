"""Smile records, per-user totals and the materialised rankings."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import date

from sqlalchemy import (
    Connection,
    Date,
    and_,
    bindparam,
    delete,
    or_,
    select,
    text,
    update,
)
from sqlalchemy.orm import Session

from cheese_runtime.db.session import rowcount
from cheese_runtime.db.types import utcnow
from functions.smile_rank.dal.sql import dialect_insert
from functions.smile_rank.models import (
    CharityChoice,
    SmileDaily,
    SmilePhoto,
    SmileScoreCount,
    SmileTotal,
)

ALL = ("all", "all")  # the all-time ranking key


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

    def photos_of(self, user_id: str) -> list[SmilePhoto]:
        return list(self._session.scalars(select(SmilePhoto).where(SmilePhoto.user_id == user_id)))

    def photo(self, photo_id: str, *, for_update: bool = False) -> SmilePhoto | None:
        query = select(SmilePhoto).where(SmilePhoto.photo_id == photo_id)
        if for_update:
            query = query.with_for_update()
        return self._session.scalar(query)

    @property
    def _orm(self) -> Session:
        """The Session that ORM writes need (the hot reads may run on a Connection)."""
        if not isinstance(self._session, Session):
            raise TypeError(
                "this SmileRepository was given a Connection; ORM writes need a Session"
            )
        return self._session

    def add_photo(self, photo: SmilePhoto) -> None:
        self._orm.add(photo)
        self._orm.flush()

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
        rows = self._session.execute(
            select(
                SmilePhoto.photo_id, SmilePhoto.perceptual_hash, SmilePhoto.face_signature
            ).where(
                SmilePhoto.user_id == user_id,
                SmilePhoto.perceptual_hash.is_not(None),
                SmilePhoto.status != "reversed",
            )
        ).all()
        # The query keeps hashed photos only; the test narrows the nullable column's type.
        return [
            (photo_id, dhash, signature) for photo_id, dhash, signature in rows if dhash is not None
        ]

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
        return rowcount(
            self._session.execute(delete(SmilePhoto).where(SmilePhoto.user_id == user_id))
        )

    # --- reads for the API ----------------------------------------------------
    def standing(
        self, user_id: str, week: str, month: str, day: date
    ) -> tuple[dict[tuple[str, str], int], dict[tuple[str, str], int | None], int]:
        """(points, competition rank, today's points) of a user, in one statement (``_STANDING``)."""
        keys = [("week", week), ("month", month), ("all", "all")]
        points: dict[tuple[str, str], int] = dict.fromkeys(keys, 0)
        ranks: dict[tuple[str, str], int | None] = dict.fromkeys(keys)
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
