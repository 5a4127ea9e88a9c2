"""Login back-off (functions/auth/throttle.py), against moto's DynamoDB with an injected clock."""

from __future__ import annotations

import uuid

import pytest

from cheese_runtime import resources
from functions.auth.throttle import BackOff, FailureCounters, LoginThrottle

WINDOW = 900
START = 1_800_000_000.0


@pytest.fixture
def throttle(backend) -> LoginThrottle:  # noqa: ANN001
    return LoginThrottle(
        FailureCounters(resources.THROTTLE_TABLE.name),
        account_client=BackOff("account-client", 3, 1.0, 60.0, WINDOW),
        client=BackOff("client", 10, 1.0, 60.0, WINDOW),
        account_slowdown_after=5,
        account_slowdown_seconds=1.0,
        window_seconds=WINDOW,
    )


def keys() -> tuple[str, str]:
    return f"{uuid.uuid4().hex}@example.com", f"10.0.{uuid.uuid4().int % 250}.1"


def test_back_off_doubles_after_the_free_failures(throttle: LoginThrottle) -> None:
    account, client = keys()
    waits = []
    now = START
    for _ in range(9):
        verdict = throttle.check(account, client, now)
        if verdict.retry_after:
            now += verdict.retry_after  # the client waits as told, then fails again
            assert throttle.check(account, client, now).retry_after is None
        throttle.record_failure(account, client, now)
        waits.append(throttle.check(account, client, now).retry_after)
    assert waits == [None, None, 1, 2, 4, 8, 16, 32, 60]


def test_only_the_failing_client_waits(throttle: LoginThrottle) -> None:
    account, attacker = keys()
    for i in range(4):
        throttle.record_failure(account, attacker, START + i)
    assert throttle.check(account, attacker, START + 4).retry_after
    owner = "192.0.2.7"
    assert throttle.check(account, owner, START + 4).retry_after is None


def test_many_clients_failing_slow_the_account_but_refuse_no_one(
    throttle: LoginThrottle,
) -> None:
    account, _ = keys()
    for i in range(5):
        throttle.record_failure(account, f"198.51.100.{i}", START)
    verdict = throttle.check(account, "203.0.113.9", START + 1)
    assert verdict.retry_after is None and verdict.delay_seconds == 1.0
    other_account, _ = keys()
    assert throttle.check(other_account, "203.0.113.9", START + 1).delay_seconds == 0


def test_one_client_spraying_many_accounts_backs_off(throttle: LoginThrottle) -> None:
    _, client = keys()
    for i in range(10):
        throttle.record_failure(f"victim{i}-{uuid.uuid4().hex}@example.com", client, START)
    fresh_account = f"{uuid.uuid4().hex}@example.com"
    assert throttle.check(fresh_account, client, START).retry_after == 1


def test_failures_are_forgotten_a_window_after_the_last_one(throttle: LoginThrottle) -> None:
    account, client = keys()
    for _ in range(6):
        throttle.record_failure(account, client, START)
    assert throttle.check(account, client, START + WINDOW - 1).retry_after is None  # waited 60 s
    throttle.record_failure(account, client, START + WINDOW + 1)
    # Counting started again: one failure, free.
    assert throttle.check(account, client, START + WINDOW + 2).retry_after is None


def test_a_success_clears_only_that_client_on_that_account(throttle: LoginThrottle) -> None:
    account, client = keys()
    for _ in range(3):
        throttle.record_failure(account, client, START)
    assert throttle.check(account, client, START).retry_after == 1
    throttle.record_success(account, client)
    assert throttle.check(account, client, START).retry_after is None
