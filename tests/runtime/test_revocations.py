"""The revocation store (the database's revoked_sessions) and its per-container cache, with a fake clock."""

from __future__ import annotations

import time
import uuid

import pytest

from cheese_runtime.auth.revocation import Revocations
from cheese_runtime.settings import get_settings


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def clock() -> Clock:
    return Clock()


def ids() -> tuple[str, str]:
    return str(uuid.uuid4()), str(uuid.uuid4())


def test_a_revocation_reaches_another_container_within_the_cache_period(
    db,
    clock: Clock,  # noqa: ANN001
) -> None:
    revoking, other = Revocations(get_settings(), clock), Revocations(get_settings(), clock)
    session, user = ids()
    issued = time.time()
    assert not other.is_revoked(session, user, issued)  # cached as "not revoked"
    revoking.revoke_session(session, user)
    assert revoking.is_revoked(session, user, issued)  # at once where it was revoked
    clock.now += get_settings().revocation_cache_seconds - 1
    assert not other.is_revoked(session, user, issued)  # still trusting its cached answer
    clock.now += 2
    assert other.is_revoked(session, user, issued)  # asked again: revoked
    clock.now += 3600
    assert other.is_revoked(session, user, issued)  # and it stays revoked
    assert not other.is_revoked(str(uuid.uuid4()), user, issued)  # other sessions are fine


def test_a_deleted_account_revokes_tokens_issued_before_it(db, clock: Clock) -> None:  # noqa: ANN001
    revoking, other = Revocations(get_settings(), clock), Revocations(get_settings(), clock)
    session, user = ids()
    before = time.time() - 5
    revoking.revoke_user(user)
    assert revoking.is_revoked(session, user, before)
    assert other.is_revoked(str(uuid.uuid4()), user, before)
    assert not other.is_revoked(session, user, time.time() + 5)  # a later login of a kept account


def stored_rows() -> dict[str, tuple[int, int]]:
    from sqlalchemy import text

    from cheese_runtime.db.session import read_scope

    with read_scope() as connection:
        rows = connection.execute(
            text("SELECT revoked_key, revoked_at, expires_at FROM revoked_sessions")
        ).all()
    return {key: (revoked_at, expires_at) for key, revoked_at, expires_at in rows}


def test_records_expire_with_the_last_token_they_concern(db) -> None:  # noqa: ANN001
    settings = get_settings()
    session, user = ids()
    Revocations(settings).revoke_session(session, user)
    _revoked_at, expires_at = stored_rows()[f"sid#{session}"]
    lifetime = expires_at - time.time()
    assert settings.access_token_ttl_seconds < lifetime <= settings.access_token_ttl_seconds + 120


def test_a_revocation_deletes_the_rows_no_token_can_concern_any_more(
    db,  # noqa: ANN001
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    settings = get_settings()
    old_session, user = ids()
    Revocations(settings).revoke_session(old_session, user)
    real_time = time.time
    later = real_time() + settings.access_token_ttl_seconds + 3600
    monkeypatch.setattr(time, "time", lambda: later)
    new_session = str(uuid.uuid4())
    Revocations(settings).revoke_session(new_session, user)
    rows = stored_rows()
    assert f"sid#{new_session}" in rows
    assert f"sid#{old_session}" not in rows


def test_revoking_twice_keeps_one_row_with_the_later_time(db, monkeypatch) -> None:  # noqa: ANN001
    settings = get_settings()
    _session, user = ids()
    Revocations(settings).revoke_user(user)
    first, _ = stored_rows()[f"user#{user}"]
    later = time.time() + 60
    monkeypatch.setattr(time, "time", lambda: later)
    Revocations(settings).revoke_user(user)
    second, _ = stored_rows()[f"user#{user}"]
    assert second == int(later) + 1 > first
