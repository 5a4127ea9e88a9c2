"""Ledger invariants (hypothesis) and a period close killed at every step, on the session's database.

In CI the ``db`` fixture is PostgreSQL, so these run there.
"""

from __future__ import annotations

import itertools
import uuid
from datetime import timedelta

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import func, select, text
from sqlalchemy.exc import DBAPIError

from cheese_runtime.db.session import session_scope
from functions.smile_rank.close import PeriodCloser
from functions.smile_rank.config import SmileSettings
from functions.smile_rank.dal import (
    CharityRepository,
    LedgerRepository,
    Posting,
    SmileRepository,
    UnbalancedTransaction,
)
from functions.smile_rank.models import (
    Charity,
    DonationPeriod,
    LedgerAccount,
    LedgerEntry,
    LedgerTransaction,
    PeriodAllocation,
)
from functions.smile_rank.periods import parse_period
from functions.smile_rank.service import ensure_period

_years = itertools.count(3001)


class Crash(Exception):
    pass


def fresh_period() -> str:
    return f"{next(_years)}-W30"


def make_charities(n: int) -> list[str]:
    with session_scope() as session:
        ids = [
            Charity(name=f"ledger-test {uuid.uuid4().hex}", description="", active=True)
            for _ in range(n)
        ]
        session.add_all(ids)
        session.flush()
        return [c.id for c in ids]


def seed(
    pid: str,
    users: list[tuple[str, int, str | None]],
    budget: int,
    rate: int,
    settings_: SmileSettings,
) -> None:
    """Points in the period's weekly totals and the users' charity choices, as the consumer leaves them."""
    with session_scope() as session:
        from functions.smile_rank.dal import PeriodRepository

        periods = PeriodRepository(session)
        ensure_period(periods, pid, settings_)
        period = periods.get(pid)
        period.budget_minor, period.rate_minor_per_point = budget, rate
        smiles, charities = SmileRepository(session), CharityRepository(session)
        for user_id, points, charity_id in users:
            if points:
                smiles.add_points(user_id, {("week", pid): points})
            if charity_id:
                charities.choose(user_id, charity_id, pid)


def ledger_of(pid: str) -> set[tuple]:
    """The period's ledger with the period id abstracted away, to compare two periods' closes."""
    with session_scope() as session:
        rows = session.execute(
            select(
                LedgerTransaction.id,
                LedgerTransaction.kind,
                LedgerTransaction.user_id,
                LedgerEntry.entry_no,
                LedgerAccount.kind,
                LedgerAccount.owner_id,
                LedgerEntry.amount_minor,
                LedgerEntry.currency,
            )
            .join(LedgerEntry, LedgerEntry.transaction_id == LedgerTransaction.id)
            .join(LedgerAccount, LedgerAccount.id == LedgerEntry.account_id)
            .where(LedgerTransaction.period_id == pid)
        ).all()
    return {(r[0].replace(pid, "P"), *r[1:]) for r in rows}


def check_invariants(
    pid: str, users: list[tuple[str, int, str | None]], budget: int, rate: int
) -> None:
    with session_scope() as session:
        unbalanced = session.execute(
            select(LedgerEntry.transaction_id)
            .join(LedgerTransaction)
            .where(LedgerTransaction.period_id == pid)
            .group_by(LedgerEntry.transaction_id, LedgerEntry.currency)
            .having(func.sum(LedgerEntry.amount_minor) != 0)
        ).all()
        assert unbalanced == [], "every transaction sums to zero"
        period = session.get(DonationPeriod, pid)
        allocated = session.scalar(
            select(func.coalesce(func.sum(PeriodAllocation.amount_minor), 0)).where(
                PeriodAllocation.period_id == pid
            )
        )
    paid = {}
    for _key, _, user_id, _, account_kind, _owner, amount, _ in ledger_of(pid):
        if account_kind == "charity":
            paid[user_id] = paid.get(user_id, 0) + amount
    requested = sum(p for _, p, c in users if c and p) * rate
    assert period.status == "closed"
    assert sum(paid.values()) <= budget, "total donated never exceeds the budget"
    assert sum(paid.values()) == allocated == period.allocated_minor == min(budget, requested), (
        "rounding loses no unit"
    )
    assert set(paid) <= {u for u, p, c in users if c and p}


scenarios = st.lists(
    st.tuples(st.integers(0, 400), st.integers(0, 3)),  # points, charity index (3 = none chosen)
    min_size=0,
    max_size=12,
)


@settings(
    max_examples=15, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    scenario=scenarios,
    budget=st.integers(0, 50_000),
    rate=st.integers(0, 50),
    batch=st.integers(1, 5),
)
def test_period_close_keeps_the_ledger_invariants(
    db,
    scenario,
    budget: int,
    rate: int,  # noqa: ANN001
    batch: int,
) -> None:
    charities = make_charities(3)
    users = [(str(uuid.uuid4()), points, charities[c] if c < 3 else None) for points, c in scenario]
    pid = fresh_period()
    s = SmileSettings(close_batch_size=batch)
    seed(pid, users, budget, rate, s)
    _, end = parse_period(pid)
    PeriodCloser(s).close(pid, now=end)
    check_invariants(pid, users, budget, rate)
    before = ledger_of(pid)
    again = PeriodCloser(s).close(pid, now=end + timedelta(days=1))
    assert again.posted_now == 0
    assert ledger_of(pid) == before, "re-runs change nothing"


def scenario_users(charities: list[str]) -> list[tuple[str, int, str | None]]:
    # Fixed user ids: two periods closed with the same inputs must post the same ledger.
    ids = [str(uuid.UUID(int=i + 1)) for i in range(8)]
    points = [120, 7, 33, 0, 250, 19, 64, 5]
    return [
        (u, p, None if i == 5 else charities[i % 2])
        for i, (u, p) in enumerate(zip(ids, points, strict=True))
    ]


@pytest.fixture(scope="module")
def clean_run(backend):  # noqa: ANN001, ANN201
    """A clean close of the fault-injection scenario, and the steps it went through."""
    charities = make_charities(2)
    users = scenario_users(charities)
    pid = fresh_period()
    s = SmileSettings(close_batch_size=3)
    seed(pid, users, 10_001, 13, s)
    steps: list[str] = []
    _, end = parse_period(pid)
    PeriodCloser(s, fault=steps.append).close(pid, now=end)
    return charities, users, ledger_of(pid), steps


def test_the_fault_scenario_binds_the_budget_and_takes_several_batches(db, clean_run) -> None:  # noqa: ANN001
    _, _, ledger, steps = clean_run
    # 6 participants in batches of 3, and the sponsor's budget binds (491 points × 13 > 10,001).
    assert steps == [
        "snapshot:before-commit",
        "snapshot",
        "batch:0:before-commit",
        "batch:0",
        "batch:1:before-commit",
        "batch:1",
        "finalise:before-commit",
        "finalise",
    ]
    assert len({row[0] for row in ledger}) == 6


@pytest.mark.parametrize(
    "crash_at",
    [
        "snapshot:before-commit",
        "snapshot",
        "batch:0:before-commit",
        "batch:0",
        "batch:1:before-commit",
        "batch:1",
        "finalise:before-commit",
        "finalise",
    ],
)
def test_a_close_killed_at_any_step_and_rerun_equals_a_clean_run(
    db, clean_run, crash_at: str
) -> None:  # noqa: ANN001
    _charities, users, clean_ledger, steps = clean_run
    assert crash_at in steps
    pid = fresh_period()
    s = SmileSettings(close_batch_size=3)
    seed(pid, users, 10_001, 13, s)
    _, end = parse_period(pid)

    def fault(step: str) -> None:
        if step == crash_at:
            raise Crash(step)

    with pytest.raises(Crash):
        PeriodCloser(s, fault=fault).close(pid, now=end)
    # Nothing half-written: every posted transaction is complete and balanced.
    partial = ledger_of(pid)
    assert partial <= clean_ledger
    # Re-run twice: the first finishes the job, the second finds nothing to do.
    PeriodCloser(s).close(pid, now=end + timedelta(hours=1))
    PeriodCloser(s).close(pid, now=end + timedelta(hours=2))
    assert ledger_of(pid) == clean_ledger
    check_invariants(pid, users, 10_001, 13)


def test_a_close_killed_twice_still_posts_each_entry_once(db, clean_run) -> None:  # noqa: ANN001
    _, users, clean_ledger, _ = clean_run
    pid = fresh_period()
    s = SmileSettings(close_batch_size=3)
    seed(pid, users, 10_001, 13, s)
    _, end = parse_period(pid)
    for crash_at in ("batch:0", "batch:1:before-commit", "finalise:before-commit"):

        def fault(step: str, crash_at: str = crash_at) -> None:
            if step == crash_at:
                raise Crash(step)

        with pytest.raises(Crash):
            PeriodCloser(s, fault=fault).close(pid, now=end)
    assert PeriodCloser(s).close(pid, now=end).period.status == "closed"
    assert ledger_of(pid) == clean_ledger


def test_points_cannot_enter_a_closing_period(db) -> None:  # noqa: ANN001
    """Between the snapshot and the end of the close, new points go to the next period."""
    from functions.smile_rank.service import SmileService
    from tests.smile_rank.helpers import analyzed, face

    pid = fresh_period()
    start, end = parse_period(pid)
    user = str(uuid.uuid4())
    s = SmileSettings()
    seed(pid, [(user, 10, make_charities(1)[0])], 1000, 1, s)
    with pytest.raises(Crash):
        PeriodCloser(
            s, fault=lambda step: (_ for _ in ()).throw(Crash()) if step == "snapshot" else None
        ).close(pid, now=end)
    photo = SmileService(s).award(analyzed(user, [face(80)], at=start + timedelta(days=1)), now=end)
    assert photo.period_id != pid
    PeriodCloser(s).close(pid, now=end)
    with session_scope() as session:
        assert session.get(DonationPeriod, pid).total_points == 10


def test_the_ledger_is_append_only(db, clean_run) -> None:  # noqa: ANN001
    for statement in (
        "UPDATE ledger_entries SET amount_minor = amount_minor + 1",
        "DELETE FROM ledger_entries",
        "UPDATE ledger_transactions SET memo = 'x'",
        "DELETE FROM ledger_transactions",
    ):
        with pytest.raises(DBAPIError), session_scope() as session:
            session.execute(text(statement))


def test_unbalanced_transactions_are_refused(db) -> None:  # noqa: ANN001
    posting = Posting(
        "test:unbalanced",
        "test",
        None,
        None,
        "",
        "KRW",
        (("sponsor_pool", "sponsor", -5), ("charity", "c", 4)),
    )
    with pytest.raises(UnbalancedTransaction), session_scope() as session:
        LedgerRepository(session).post([posting])


def test_the_database_refuses_unbalanced_entries_on_postgresql(db) -> None:  # noqa: ANN001
    with session_scope() as session:
        if session.get_bind().dialect.name != "postgresql":
            pytest.skip(
                "the balance trigger is PostgreSQL's (SQLite relies on LedgerRepository.post)"
            )
    good = Posting(
        f"test:{uuid.uuid4()}",
        "test",
        None,
        None,
        "",
        "KRW",
        (("sponsor_pool", "sponsor", -5), ("charity", "c", 5)),
    )
    with session_scope() as session:
        LedgerRepository(session).post([good])
    with pytest.raises(DBAPIError, match="does not sum to zero"), session_scope() as session:
        session.execute(
            text(
                "INSERT INTO ledger_entries (transaction_id, entry_no, account_id, amount_minor, "
                "currency, posted_at) SELECT transaction_id, 9, account_id, 1, currency, posted_at "
                "FROM ledger_entries WHERE transaction_id = :t AND entry_no = 1"
            ),
            {"t": good.idempotency_key},
        )
