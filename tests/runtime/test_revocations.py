"""The revocation store and its per-container cache, against moto's DynamoDB with a fake clock."""

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
    backend,
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


def test_a_deleted_account_revokes_tokens_issued_before_it(backend, clock: Clock) -> None:  # noqa: ANN001
    revoking, other = Revocations(get_settings(), clock), Revocations(get_settings(), clock)
    session, user = ids()
    before = time.time() - 5
    revoking.revoke_user(user)
    assert revoking.is_revoked(session, user, before)
    assert other.is_revoked(str(uuid.uuid4()), user, before)
    assert not other.is_revoked(session, user, time.time() + 5)  # a later login of a kept account


def test_records_expire_with_the_last_token_they_concern(backend) -> None:  # noqa: ANN001
    from cheese_runtime import aws

    settings = get_settings()
    session, user = ids()
    Revocations(settings).revoke_session(session, user)
    item = aws.client("dynamodb").get_item(
        TableName=settings.revocations_table, Key={"pk": {"S": f"sid#{session}"}}
    )["Item"]
    lifetime = int(item["expires_at"]["N"]) - time.time()
    assert settings.access_token_ttl_seconds < lifetime <= settings.access_token_ttl_seconds + 120
