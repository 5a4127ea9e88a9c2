"""cheese_runtime.consent: one record per (user, scope), checks, withdrawal hooks, the migration."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.orm import Session

from cheese_runtime import consent
from cheese_runtime.consent import ConsentRequired, Consents
from cheese_runtime.db import migrate
from cheese_runtime.db.session import session_scope
from cheese_runtime.errors import COMMON_ERRORS, problem_for
from cheese_runtime.settings import normalise_database_url


def test_a_user_never_asked_has_granted_nothing(make_user) -> None:  # noqa: ANN001
    user = make_user("consent-none")
    with session_scope() as session:
        decisions = Consents(session).decisions(user.id)
    assert set(decisions) == set(consent.SCOPES)
    assert all(not d.granted and d.changed_at is None for d in decisions.values())
    assert not consent.has_consent(user.id, consent.FACE_GROUPING)
    with pytest.raises(ConsentRequired) as required:
        consent.require_consent(user.id, consent.FACE_GROUPING)
    problem = problem_for(required.value, COMMON_ERRORS)
    assert (problem.status, problem.slug) == (409, "consent-required")


def test_decisions_are_recorded_per_scope_with_the_time_they_changed(make_user) -> None:  # noqa: ANN001
    user = make_user("consent-times")
    with session_scope() as session:
        Consents(session).decide(
            user.id, {consent.FACE_GROUPING: True, consent.EXPRESSION_ANALYSIS: False}
        )
    with session_scope() as session:
        first = Consents(session).decisions(user.id)
    assert first["face_grouping"].granted and not first["expression_analysis"].granted
    assert first["expression_analysis"].changed_at is not None  # a "no" is recorded too
    consent.require_consent(user.id, consent.FACE_GROUPING)
    with session_scope() as session:  # unchanged answers keep their time
        Consents(session).decide(user.id, {consent.FACE_GROUPING: True})
        Consents(session).decide(user.id, {consent.EXPRESSION_ANALYSIS: True})
    with session_scope() as session:
        second = Consents(session).decisions(user.id)
    assert second["face_grouping"].changed_at == first["face_grouping"].changed_at
    assert second["expression_analysis"].granted
    assert second["expression_analysis"].changed_at > first["expression_analysis"].changed_at


def test_withdrawal_runs_the_scope_hooks_in_the_same_transaction(make_user, monkeypatch) -> None:  # noqa: ANN001
    user = make_user("consent-hooks")
    scope = consent.Scope("test_scope_" + uuid.uuid4().hex[:8], "Testing")
    monkeypatch.setitem(consent.SCOPES, scope.name, scope)
    erased: list[str] = []

    @consent.on_withdrawal(scope)
    def erase(session: Session, user_id: str) -> None:
        erased.append(user_id)
        if len(erased) == 1:
            raise RuntimeError("erasure failed")

    with session_scope() as session:
        assert Consents(session).decide(user.id, {scope: True}) == []
    assert erased == []  # granting erases nothing
    with pytest.raises(RuntimeError), session_scope() as session:
        Consents(session).decide(user.id, {scope: False})
    assert consent.has_consent(user.id, scope)  # the failed erasure left the consent granted
    with session_scope() as session:
        assert Consents(session).decide(user.id, {scope: False}) == [scope]
    assert erased == [user.id, user.id] and not consent.has_consent(user.id, scope)
    with session_scope() as session:  # withdrawing again is not a withdrawal
        assert Consents(session).decide(user.id, {scope: False}) == []
    assert len(erased) == 2


def test_an_undeclared_scope_is_refused(make_user) -> None:  # noqa: ANN001
    user = make_user("consent-undeclared")
    with pytest.raises(KeyError), session_scope() as session:
        Consents(session).decide(user.id, {consent.Scope("pose_examples_typo", "x"): True})


# --- the migration from one column pair per scope --------------------------------------------


@pytest.fixture(params=["sqlite", "postgresql"])
def empty_database(request, tmp_path) -> Iterator[str]:  # noqa: ANN001
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'consent-migration.db'}"
        return
    if not os.environ.get("TEST_DATABASE_URL"):
        pytest.skip("TEST_DATABASE_URL not set")
    base = normalise_database_url(os.environ["TEST_DATABASE_URL"])
    engine = create_engine(base)
    with engine.begin() as conn:
        conn.execute(text("DROP SCHEMA IF EXISTS consent_migration CASCADE"))
        conn.execute(text("CREATE SCHEMA consent_migration"))
    yield f"{base}{'&' if '?' in base else '?'}options=-csearch_path%3Dconsent_migration"
    with engine.begin() as conn:
        conn.execute(text("DROP SCHEMA IF EXISTS consent_migration CASCADE"))
    engine.dispose()


def test_the_migration_keeps_every_decision_and_back(empty_database: str) -> None:
    migrate.upgrade(empty_database, "0003_photos")
    engine = create_engine(normalise_database_url(empty_database))
    with engine.begin() as conn:
        for user in ("u1", "u2"):
            conn.execute(
                text(
                    "INSERT INTO users (id, email, email_normalized, display_name, password_hash,"
                    " status, roles, created_at, updated_at) VALUES (:id, :e, :e, 'x', 'x',"
                    " 'active', '', '2026-01-01 00:00:00', '2026-01-01 00:00:00')"
                ),
                {"id": user, "e": f"{user}@example.com"},
            )
        conn.execute(
            text(
                "INSERT INTO consents VALUES ('u1', :t, '2026-01-02 00:00:00', :f,"
                " '2026-01-03 00:00:00'), ('u2', :f, NULL, :f, NULL)"
            ),
            {"t": True, "f": False},
        )
    migrate.upgrade(empty_database)
    with engine.connect() as conn:
        rows = conn.execute(
            text("SELECT user_id, scope, granted FROM consent_records ORDER BY user_id, scope")
        ).all()
    # u2's row was only ever a lock (never decided): no record, so not granted.
    assert [(u, s, bool(g)) for u, s, g in rows] == [
        ("u1", "expression_analysis", False),
        ("u1", "face_grouping", True),
    ]
    migrate.downgrade(empty_database, "0003_photos")
    with engine.connect() as conn:
        back = conn.execute(
            text(
                "SELECT user_id, face_grouping, expression_analysis, face_grouping_changed_at"
                " FROM consents"
            )
        ).all()
    assert [(u, bool(f), bool(e)) for u, f, e, _ in back] == [("u1", True, False)]
    assert back[0][3] is not None
    engine.dispose()
