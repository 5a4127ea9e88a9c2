"""The local stack's SQS pollers read their queues as Lambda's event source mappings would."""

from __future__ import annotations

from typing import Any

from cheese_local.workers import SqsPoller
from cheese_runtime import resources


def test_every_consumer_polls_with_its_declared_batch_size(backend: Any) -> None:
    declared = {
        d.consumer: d.batch_size
        for d in (*resources.EVENT_SUBSCRIPTIONS, *resources.BUCKET_NOTIFICATIONS)
    }
    polled = {p.function_name: p.batch_size for p in backend.pollers if isinstance(p, SqsPoller)}
    # One-at-a-time consumers (erasure, video) were polled ten at a time before.
    assert polled == declared
