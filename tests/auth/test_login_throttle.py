"""Login throttle windows, against moto's DynamoDB with an injected clock."""

from __future__ import annotations

import uuid

from cheese_runtime import resources
from functions.auth.dal import LoginThrottle, ThrottleRule

RULE = ThrottleRule("account", limit=3, window_seconds=900)


def test_failures_across_a_window_boundary_still_count(backend) -> None:  # noqa: ANN001
    throttle = LoginThrottle(resources.THROTTLE_TABLE.name)
    key = uuid.uuid4().hex
    boundary = 900 * 2_000_000
    throttle.record_failure(RULE, key, now=boundary - 2)
    throttle.record_failure(RULE, key, now=boundary - 1)
    assert throttle.retry_after(RULE, key, now=boundary + 1) is None
    throttle.record_failure(RULE, key, now=boundary + 1)
    assert throttle.retry_after(RULE, key, now=boundary + 2) == 898
    # Two windows later everything is forgotten.
    assert throttle.retry_after(RULE, key, now=boundary + 1800) is None


def test_a_full_window_of_failures_blocks_through_the_next_window(backend) -> None:  # noqa: ANN001
    throttle = LoginThrottle(resources.THROTTLE_TABLE.name)
    key = uuid.uuid4().hex
    start = 900 * 2_000_000 + 100
    for _ in range(3):
        throttle.record_failure(RULE, key, now=start)
    assert throttle.retry_after(RULE, key, now=start) == 800 + 900
    throttle.clear(RULE, key, now=start)
    assert throttle.retry_after(RULE, key, now=start) is None
