"""In one process (the local stack), every log line names the function that wrote it."""

from __future__ import annotations

import json
import threading
import uuid

from cheese_local.events import eventbridge_event, received_message, sqs_event
from cheese_local.gateway import invoke
from cheese_runtime import events
from tests.logs import captured_logs


def deletion_batch(queue: str) -> dict:
    detail = events.UserDeletionRequested(user_id=str(uuid.uuid4()), requested_at="now")
    body = json.dumps(eventbridge_event(detail.detail_type, detail.model_dump()))
    return sqs_event([received_message(body)], f"arn:aws:sqs:us-east-1:000000000000:{queue}")


def test_two_consumers_running_at_once_log_under_their_own_names(db) -> None:  # noqa: ANN001
    from functions.photos import erasure
    from functions.smile_rank import consumer

    runs = 10

    def deliver(handler, name: str) -> None:  # noqa: ANN001
        for _ in range(runs):
            assert invoke(handler, deletion_batch(f"cheese-{name}"), name) == {
                "batchItemFailures": []
            }

    with captured_logs() as lines:
        threads = [
            threading.Thread(target=deliver, args=(erasure.handler, "photos-erasure")),
            threading.Thread(target=deliver, args=(consumer.handler, "smile-rank")),
        ]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
    services = {
        message: {line["service"] for line in lines if line["message"] == message}
        for message in ("photos erased", "smile records erased")
    }
    assert services == {"photos erased": {"photos-erasure"}, "smile records erased": {"smile-rank"}}
    for message, function in (
        ("photos erased", "photos-erasure"),
        ("smile records erased", "smile-rank"),
    ):
        written = [line for line in lines if line["message"] == message]
        assert len(written) == runs
        assert {line["function_name"] for line in written} == {function}
