"""The owner's invitation rate limit: 429 problem+json with Retry-After past it."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import update

from cheese_runtime.db.session import session_scope
from cheese_runtime.db.types import utcnow
from functions.diary.config import get_diary_settings
from functions.diary.models import ChannelInvitation
from tests.conftest import TestUser, signup

LIMIT, WINDOW = 3, 600


@pytest.fixture
def small_limit(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    monkeypatch.setenv("CHEESE_DIARY_INVITATIONS_PER_WINDOW", str(LIMIT))
    monkeypatch.setenv("CHEESE_DIARY_INVITATION_WINDOW_SECONDS", str(WINDOW))
    get_diary_settings.cache_clear()
    yield
    monkeypatch.undo()
    get_diary_settings.cache_clear()


def _channel(owner: TestUser, name: str = "friends") -> str:
    created = owner.call("POST", "/v1/channels", json_body={"name": name})
    assert created.status == 201, created.body
    return str(created.json()["channel_id"])


def _invite(owner: TestUser, channel_id: str, email: str) -> Any:
    return owner.call("POST", f"/v1/channels/{channel_id}/invitations", json_body={"email": email})


def test_an_owner_sending_too_many_invitations_gets_429_until_the_window_moves(
    db: Any, small_limit: None
) -> None:
    owner, other = signup("inviter"), signup("other-owner")
    first, second = _channel(owner, "one"), _channel(owner, "two")
    # Counted over all the owner's channels.
    for i, channel_id in enumerate([first, first, second]):
        assert _invite(owner, channel_id, f"friend{i}@example.com").status == 202

    refused = _invite(owner, second, "friend9@example.com")
    assert refused.status == 429
    assert refused.headers["content-type"] == "application/problem+json"
    problem = json.loads(refused.body)
    assert problem["type"].endswith("/too-many-invitations") and problem["status"] == 429
    retry_after = int(refused.headers["retry-after"])
    assert 0 < retry_after <= WINDOW and problem["retry_after"] == retry_after
    # Nothing was written, and a refusal does not push the wait further.
    with session_scope() as session:
        assert session.query(ChannelInvitation).filter_by(invited_by=owner.id).count() == LIMIT
    assert int(_invite(owner, first, "friend9@example.com").headers["retry-after"]) <= retry_after

    # Another owner has a limit of their own.
    assert _invite(other, _channel(other), "friend0@example.com").status == 202

    # Once the oldest invitation is older than the window, one more fits (and only one).
    with session_scope() as session:
        oldest = (
            session.query(ChannelInvitation)
            .filter_by(invited_by=owner.id)
            .order_by(ChannelInvitation.created_at)
            .first()
        )
        assert oldest is not None
        session.execute(
            update(ChannelInvitation)
            .where(ChannelInvitation.id == oldest.id)
            .values(created_at=utcnow() - timedelta(seconds=WINDOW + 1))
        )
    assert _invite(owner, second, "friend9@example.com").status == 202
    assert _invite(owner, second, "friend10@example.com").status == 429


def test_the_limit_does_not_tell_whether_an_email_has_an_account(
    db: Any, small_limit: None
) -> None:
    owner, invitee = signup("prober"), signup("invitee")
    channel_id = _channel(owner)
    for email in ("nobody1@example.com", "nobody2@example.com", "nobody3@example.com"):
        assert _invite(owner, channel_id, email).status == 202
    known, unknown = (
        _invite(owner, channel_id, invitee.email),
        _invite(owner, channel_id, "nobody4@example.com"),
    )
    assert known.status == unknown.status == 429
    assert json.loads(known.body)["detail"] == json.loads(unknown.body)["detail"]
