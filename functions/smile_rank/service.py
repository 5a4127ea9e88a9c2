"""Smile points (award, reversal, erasure), the ranking, charities and the donation reads."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import TYPE_CHECKING

from aws_lambda_powertools.metrics import MetricUnit
from sqlalchemy.exc import IntegrityError

from cheese_runtime.accounts import lock_active_user
from cheese_runtime.db.session import read_scope, session_scope
from cheese_runtime.db.types import utcnow
from cheese_runtime.errors import InvalidCursor
from cheese_runtime.events import MeFacesChanged, PhotoAnalyzed, PhotoDeleted
from cheese_runtime.observability import logger, metrics
from cheese_runtime.pagination import decode_cursor, encode_cursor
from functions.smile_rank import scoring
from functions.smile_rank.config import SmileSettings
from functions.smile_rank.dal import (
    ALL,
    CharityRepository,
    LedgerRepository,
    PeriodDefaults,
    PeriodRepository,
    SmileRepository,
)
from functions.smile_rank.errors import CharityExists, CharityNotFound, PeriodClosed, PhotoNotFound
from functions.smile_rank.models import Charity, DonationPeriod, SmilePhoto
from functions.smile_rank.periods import (
    month_key,
    next_period,
    parse_period,
    period_bounds,
    period_id,
)

if TYPE_CHECKING:
    from sqlalchemy import Select

    from functions.smile_rank.models import LedgerAccount, LedgerEntry
from functions.smile_rank.schemas import (
    COUNTERPARTY_KINDS,
    Amount,
    CharityIn,
    CharityOut,
    CharityPage,
    CharityTotal,
    DonationSummary,
    FaceSmile,
    MyCharity,
    MySmiles,
    PeriodAdminOut,
    PeriodOut,
    PeriodSettingsIn,
    PhotoSmiles,
    RankingEntry,
    RankingPage,
    RankingScope,
    ScopeStanding,
    Statement,
    StatementEntry,
)

# An analysis claiming to be from the future is taken as happening now.
CLOCK_SKEW = timedelta(minutes=5)


def parse_time(value: str, now: datetime) -> datetime:
    try:
        moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except (TypeError, ValueError):
        return now
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return now if moment > now + CLOCK_SKEW else min(moment, now)


def defaults(settings: SmileSettings) -> PeriodDefaults:
    return PeriodDefaults(
        settings.currency, settings.default_budget_minor, settings.default_rate_minor_per_point
    )


def ensure_period(periods: PeriodRepository, pid: str, settings: SmileSettings) -> None:
    start, end = parse_period(pid)
    periods.ensure(pid, start, end, defaults(settings))


def charity_out(charity: Charity) -> CharityOut:
    return CharityOut(id=charity.id, name=charity.name, description=charity.description)


def period_admin_out(period: DonationPeriod) -> PeriodAdminOut:
    return PeriodAdminOut.model_validate(period, from_attributes=True)


class SmileService:
    def __init__(self, settings: SmileSettings) -> None:
        self._settings = settings

    # --- consuming events -----------------------------------------------------
    def award(self, event: PhotoAnalyzed, now: datetime | None = None) -> SmilePhoto:
        """Record an analysed photo and award its points once (idempotent per photo id)."""
        now = now or utcnow()
        s = self._settings
        with session_scope() as session:
            smiles = SmileRepository(session)
            existing = smiles.photo(event.photo_id)
            if existing is not None:
                return existing
            smiles.lock_user(event.user_id)
            existing = smiles.photo(event.photo_id)
            if existing is not None:
                return existing
            scores = scoring.score_faces(event.faces, s.me_weight)
            raw = scoring.photo_points(scores, s.photo_cap)
            phash = scoring.parse_dhash(event.perceptual_hash)
            signature = scoring.face_signature(event.faces)
            sha256 = event.sha256.lower()
            analyzed_at = parse_time(event.analyzed_at, now)
            photo = SmilePhoto(
                photo_id=event.photo_id,
                user_id=event.user_id,
                sha256=sha256,
                perceptual_hash=phash,
                face_signature=signature,
                faces=[x.as_json() for x in scores],
                points=0,
                created_at=now,
                analyzed_at=analyzed_at,
            )
            duplicate = smiles.same_sha256(event.user_id, sha256)
            if duplicate is None and phash is not None:
                for other_id, other_hash, other_signature in smiles.hashes(event.user_id):
                    if (
                        other_signature == signature
                        and scoring.hamming(other_hash, phash) <= s.near_duplicate_bits
                    ):
                        duplicate = other_id
                        break
            if duplicate is not None:
                photo.status, photo.duplicate_of = "duplicate", duplicate
                smiles.add_photo(photo)
                metrics.add_metric(name="DuplicatePhotos", unit=MetricUnit.Count, value=1)
                return photo
            periods = PeriodRepository(session)
            earned_at = analyzed_at
            pid = period_id(earned_at)
            ensure_period(periods, pid, s)
            if periods.status_for_share(pid) != "open":
                # A late event for a period already closing or closed earns in the current one.
                earned_at = now
                pid = period_id(now)
                ensure_period(periods, pid, s)
                while periods.status_for_share(pid) != "open":
                    pid = next_period(pid)
                    ensure_period(periods, pid, s)
            day = earned_at.date()
            awarded = min(raw, max(0, s.daily_cap - smiles.daily_points(event.user_id, day)))
            photo.points, photo.period_id, photo.month_key, photo.earned_on = (
                awarded,
                pid,
                month_key(earned_at),
                day,
            )
            photo.status = "counted" if awarded > 0 else ("capped" if raw > 0 else "no_smiles")
            smiles.add_photo(photo)
            if awarded > 0:
                smiles.add_daily(event.user_id, day, awarded)
                smiles.add_points(
                    event.user_id,
                    {("week", pid): awarded, ("month", photo.month_key): awarded, ALL: awarded},
                )
        metrics.add_metric(name="SmilePointsAwarded", unit=MetricUnit.Count, value=awarded)
        if photo.status == "capped":
            metrics.add_metric(name="SmilePhotosCapped", unit=MetricUnit.Count, value=1)
        return photo

    def reverse(self, event: PhotoDeleted, now: datetime | None = None) -> str:
        """Take a deleted photo's points back while its period is open; returns the photo's new status."""
        now = now or utcnow()
        with session_scope() as session:
            smiles = SmileRepository(session)
            smiles.lock_user(event.user_id)
            photo = smiles.photo(event.photo_id, for_update=True)
            if photo is None:
                # Deleted before its analysis arrived: a tombstone makes the late PhotoAnalyzed a no-op.
                try:
                    with session.begin_nested():
                        smiles.add_photo(
                            SmilePhoto(
                                photo_id=event.photo_id,
                                user_id=event.user_id,
                                status="deleted",
                                points=0,
                                faces=[],
                                face_signature="",
                                created_at=now,
                                reversed_at=now,
                            )
                        )
                except IntegrityError:
                    pass
                return "deleted"
            if photo.user_id != event.user_id:
                logger.warning(
                    "PhotoDeleted for another user's photo ignored",
                    extra={"photo_id": event.photo_id},
                )
                return photo.status
            if photo.status in ("reversed", "deleted"):
                return photo.status
            earned = _earned_in(photo)
            if (
                earned is not None
                and PeriodRepository(session).status_for_share(earned[0]) != "open"
            ):
                photo.status, photo.reversed_at = (
                    "deleted",
                    now,
                )  # paid out already: the points stay
                return photo.status
            reversed_points = photo.points
            if earned is not None:
                week, month, day = earned
                smiles.add_daily(photo.user_id, day, -reversed_points)
                smiles.add_points(
                    photo.user_id,
                    {
                        ("week", week): -reversed_points,
                        ("month", month): -reversed_points,
                        ALL: -reversed_points,
                    },
                )
            photo.status, photo.points, photo.reversed_at = "reversed", 0, now
        if reversed_points:
            metrics.add_metric(
                name="SmilePointsReversed", unit=MetricUnit.Count, value=reversed_points
            )
        return "reversed"

    def mark_me(self, event: MeFacesChanged) -> int:
        """Say which of the user's faces are "me" now; returns how many photos changed.

        Points stay as awarded: a photo earns once, when it is analysed.
        """
        me = set(event.face_ids)
        changed = 0
        with session_scope() as session:
            for photo in SmileRepository(session).photos_of(event.user_id):
                faces = [{**f, "is_me": f["face_id"] in me} for f in photo.faces]
                if faces != photo.faces:
                    photo.faces = faces
                    changed += 1
        return changed

    def erase_user(self, user_id: str) -> int:
        with session_scope() as session:
            smiles = SmileRepository(session)
            smiles.lock_user(user_id)
            return smiles.erase_user(user_id)

    # --- reads ------------------------------------------------------------------
    def me(self, user_id: str, now: datetime | None = None) -> MySmiles:
        now = now or utcnow()
        pid, mkey = period_id(now), month_key(now)
        keys = [("week", pid), ("month", mkey), ALL]
        with read_scope() as connection:
            points, ranks, today = SmileRepository(connection).standing(
                user_id, pid, mkey, now.date()
            )
        start, end = parse_period(pid)
        standing = {k[0]: ScopeStanding(key=k[1], points=points[k], rank=ranks[k]) for k in keys}
        return MySmiles(
            period=PeriodOut(id=pid, starts_at=start, ends_at=end),
            week=standing["week"],
            month=standing["month"],
            all=standing["all"],
            today_points=today,
            daily_cap=self._settings.daily_cap,
        )

    def ranking(
        self,
        user_id: str,
        scope: RankingScope,
        limit: int,
        cursor: str | None,
        now: datetime | None = None,
    ) -> RankingPage:
        now = now or utcnow()
        key = {"week": period_id(now), "month": month_key(now), "all": "all"}[scope]
        after = None
        position = decode_cursor(cursor)
        if position is not None:
            try:
                if position["s"] != scope:
                    raise ValueError("cursor of another ranking")
                key, after = str(position["k"]), (int(position["p"]), str(position["u"]))
            except (KeyError, TypeError, ValueError):
                raise InvalidCursor() from None
        with read_scope() as connection:
            smiles = SmileRepository(connection)
            rows = smiles.ranking_page(scope, key, limit + 1, after)
            page, more = rows[:limit], len(rows) > limit
            items: list[RankingEntry] = []
            if page:
                high, low = page[0][2], page[-1][2]
                above, counts = smiles.score_counts(scope, key, low, high)
                # Competition rank of a score p: 1 + users above p (kept in smile_score_counts).
                rank_of: dict[int, int] = {}
                running = above
                for p in sorted(counts, reverse=True):
                    rank_of[p] = running + 1
                    running += counts[p]
                items = [
                    RankingEntry(
                        rank=rank_of.get(p, above + 1),
                        display_name=name,
                        points=p,
                        is_me=u == user_id,
                    )
                    for u, name, p in page
                ]
        next_cursor = (
            encode_cursor({"s": scope, "k": key, "p": page[-1][2], "u": page[-1][0]})
            if more
            else None
        )
        return RankingPage(period=scope, key=key, items=items, next_cursor=next_cursor)

    def photo_smiles(self, user_id: str, photo_id: str) -> PhotoSmiles:
        with session_scope() as session:
            photo = SmileRepository(session).photo(photo_id)
            if photo is None or photo.user_id != user_id or photo.sha256 is None:
                raise PhotoNotFound()
            return PhotoSmiles(
                photo_id=photo.photo_id,
                status=photo.status,
                points=photo.points,
                period_id=photo.period_id,
                duplicate_of=photo.duplicate_of,
                faces=[FaceSmile(**f) for f in photo.faces],
            )


class CharityService:
    def __init__(self, settings: SmileSettings) -> None:
        self._settings = settings

    def list(self, limit: int, cursor: str | None) -> CharityPage:
        position = decode_cursor(cursor)
        try:
            after = (str(position["n"]), str(position["i"])) if position is not None else None
        except KeyError:
            raise InvalidCursor() from None
        with session_scope() as session:
            rows = CharityRepository(session).page(limit + 1, after)
            items = [charity_out(c) for c in rows[:limit]]
        more = len(rows) > limit
        return CharityPage(
            items=items,
            next_cursor=encode_cursor({"n": items[-1].name, "i": items[-1].id}) if more else None,
        )

    def create(self, body: CharityIn) -> CharityOut:
        with session_scope() as session:
            charities = CharityRepository(session)
            if charities.by_name(body.name) is not None:
                raise CharityExists()
            try:
                charity = charities.add(body.name, body.description)
            except IntegrityError:
                raise CharityExists() from None
            out = charity_out(charity)
        logger.info("charity created", extra={"charity_id": out.id})
        return out

    def mine(self, user_id: str, now: datetime | None = None) -> MyCharity:
        now = now or utcnow()
        pid = period_id(now)
        with session_scope() as session:
            charities = CharityRepository(session)
            current_id = charities.effective_choice(user_id, pid)
            latest_id = charities.effective_choice(user_id, next_period(pid))
            from_period = None
            if latest_id is not None:
                from_period = session.scalar(_latest_choice_period(user_id))
            current = charities.get(current_id) if current_id else None
            latest = charities.get(latest_id) if latest_id else None
            return MyCharity(
                current=charity_out(current) if current else None,
                current_period=pid,
                chosen=charity_out(latest) if latest else None,
                effective_from=from_period,
            )

    def choose(self, user_id: str, charity_id: str, now: datetime | None = None) -> MyCharity:
        """The choice applies from the next period: the current one's donations are already promised."""
        now = now or utcnow()
        with session_scope() as session:
            lock_active_user(session, user_id)
            charities = CharityRepository(session)
            charity = charities.get(charity_id)
            if charity is None or not charity.active:
                raise CharityNotFound()
            charities.choose(user_id, charity_id, next_period(period_id(now)))
        metrics.add_metric(name="CharityChosen", unit=MetricUnit.Count, value=1)
        return self.mine(user_id, now)


def _earned_in(photo: SmilePhoto) -> tuple[str, str, date] | None:
    """The period, month and day a photo's points count in; None if it earned none."""
    if photo.points <= 0 or not (photo.period_id and photo.month_key and photo.earned_on):
        return None
    return photo.period_id, photo.month_key, photo.earned_on


def _latest_choice_period(user_id: str) -> Select[str]:
    from sqlalchemy import func, select

    from functions.smile_rank.models import CharityChoice

    return select(func.max(CharityChoice.effective_from)).where(CharityChoice.user_id == user_id)


class DonationService:
    def __init__(self, settings: SmileSettings) -> None:
        self._settings = settings

    def summary(self, user_id: str) -> DonationSummary:
        with session_scope() as session:
            ledger = LedgerRepository(session)
            everyone = ledger.charity_totals()
            mine = ledger.user_totals(user_id)
            names = CharityRepository(session).names([c for c, _, _ in everyone + mine])

        def totals(rows: list[tuple[str, str, int]]) -> list[CharityTotal]:
            return sorted(
                (
                    CharityTotal(charity_id=c, name=names.get(c, ""), currency=cur, amount_minor=a)
                    for c, cur, a in rows
                ),
                key=lambda t: (-t.amount_minor, t.name, t.charity_id),
            )

        per_currency: dict[str, int] = {}
        for _, currency, amount in mine:
            per_currency[currency] = per_currency.get(currency, 0) + amount
        return DonationSummary(
            charities=totals(everyone),
            mine=totals(mine),
            my_totals=[Amount(currency=c, amount_minor=a) for c, a in sorted(per_currency.items())],
        )

    def statement(
        self, user_id: str, period: str | None, limit: int, cursor: str | None
    ) -> Statement:
        if period is not None:
            period_bounds(period)
        position = decode_cursor(cursor)
        try:
            after = (str(position["p"]), str(position["t"])) if position is not None else None
        except KeyError:
            raise InvalidCursor() from None
        with session_scope() as session:
            ledger = LedgerRepository(session)
            transactions = ledger.user_transactions(user_id, period, limit + 1, after)
            page = transactions[:limit]
            entries = ledger.entries_of([t.id for t in page])
            names = CharityRepository(session).names(
                [a.owner_id for _, a in entries if a.kind == "charity"]
            )
        by_tx: dict[str, list[tuple[LedgerEntry, LedgerAccount]]] = {}
        for entry, account in entries:
            by_tx.setdefault(entry.transaction_id, []).append((entry, account))
        items: list[StatementEntry] = []
        for tx in page:
            legs = by_tx.get(tx.id, [])
            others = [(e, a) for e, a in legs if a.kind != "pledge"]
            for entry, account in legs:
                if account.kind != "pledge" or account.owner_id != user_id:
                    continue
                # The counterparty is the other leg with the opposite sign.
                counter = next(
                    ((e, a) for e, a in others if e.amount_minor == -entry.amount_minor), None
                )
                if counter is None:
                    continue
                c_account = counter[1]
                items.append(
                    StatementEntry(
                        transaction_id=tx.id,
                        period_id=tx.period_id,
                        posted_at=entry.posted_at,
                        entry_no=entry.entry_no,
                        amount_minor=entry.amount_minor,
                        currency=entry.currency,
                        counterparty_kind=COUNTERPARTY_KINDS[c_account.kind],
                        counterparty_id=c_account.owner_id,
                        counterparty_name=names.get(c_account.owner_id, "")
                        if c_account.kind == "charity"
                        else "Smile sponsor pool",
                        memo=tx.memo,
                    )
                )
        more = len(transactions) > limit
        return Statement(
            items=items,
            next_cursor=encode_cursor({"p": page[-1].period_id, "t": page[-1].id})
            if more
            else None,
        )


class PeriodAdminService:
    def __init__(self, settings: SmileSettings) -> None:
        self._settings = settings

    def get(self, pid: str) -> PeriodAdminOut:
        start, end = period_bounds(pid)
        with session_scope() as session:
            periods = PeriodRepository(session)
            period = periods.get(pid)
            if period is None:
                # Not stored yet: what it would be.
                d = defaults(self._settings)
                return PeriodAdminOut(
                    id=pid,
                    starts_at=start,
                    ends_at=end,
                    status="open",
                    currency=d.currency,
                    budget_minor=d.budget_minor,
                    rate_minor_per_point=d.rate_minor_per_point,
                    participants=None,
                    total_points=None,
                    allocated_minor=None,
                    budget_bound=None,
                    closed_at=None,
                )
            return period_admin_out(period)

    def configure(self, pid: str, body: PeriodSettingsIn) -> PeriodAdminOut:
        period_bounds(pid)
        with session_scope() as session:
            periods = PeriodRepository(session)
            ensure_period(periods, pid, self._settings)
            period = periods.existing(pid, for_update=True)
            if period.status != "open":
                raise PeriodClosed()
            period.budget_minor = body.budget_minor
            period.rate_minor_per_point = body.rate_minor_per_point
            period.currency = body.currency
            session.flush()
            out = period_admin_out(period)
        logger.info(
            "period configured",
            extra={
                "period_id": pid,
                "budget_minor": body.budget_minor,
                "rate_minor_per_point": body.rate_minor_per_point,
            },
        )
        return out
