"""SQS event-source mappings: poll a moto queue and invoke a handler with SQS events.

Behaves like Lambda's SQS trigger: batches of up to 10, partial batch
responses (only reported failures are retried), failed messages come back
after their visibility timeout and move to the DLQ after maxReceiveCount.
"""

from __future__ import annotations

import importlib
import threading
from typing import Any

from cheese_local.events import scheduled_event, sqs_event
from cheese_local.gateway import invoke
from cheese_runtime import aws
from cheese_runtime.observability import logger

# Locally a failed message comes back after this many seconds, not the queue's full timeout.
RETRY_DELAY_SECONDS = 1


class SqsPoller(threading.Thread):
    def __init__(
        self, name: str, queue_url: str, queue_arn: str, module: str, batch_size: int = 10
    ) -> None:
        super().__init__(name=f"sqs-{name}", daemon=True)
        self.function_name = name
        self.queue_url = queue_url
        self.queue_arn = queue_arn
        self.module = module
        self.batch_size = batch_size
        self._stopping = threading.Event()
        self.idle = threading.Event()

    def stop(self) -> None:
        self._stopping.set()

    def run(self) -> None:
        handler = importlib.import_module(self.module).handler
        sqs = aws.client("sqs")
        while not self._stopping.is_set():
            try:
                messages = sqs.receive_message(
                    QueueUrl=self.queue_url,
                    MaxNumberOfMessages=self.batch_size,
                    WaitTimeSeconds=1,
                    AttributeNames=["All"],
                    MessageAttributeNames=["All"],
                ).get("Messages", [])
            except Exception:  # moto going away at shutdown
                if self._stopping.is_set():
                    return
                logger.exception("polling failed", extra={"queue": self.queue_url})
                self._stopping.wait(1)
                continue
            if not messages:
                self.idle.set()
                continue
            self.idle.clear()
            self.process(sqs, handler, messages)

    def process(self, sqs: Any, handler: Any, messages: list[dict[str, Any]]) -> None:
        event = sqs_event(messages, self.queue_arn)
        try:
            result = invoke(handler, event, self.function_name) or {}
            failed = {f["itemIdentifier"] for f in result.get("batchItemFailures", [])}
        except Exception:
            logger.exception(
                "consumer failed a whole batch", extra={"function": self.function_name}
            )
            failed = {m["MessageId"] for m in messages}
        for message in messages:
            if message["MessageId"] in failed:
                sqs.change_message_visibility(
                    QueueUrl=self.queue_url,
                    ReceiptHandle=message["ReceiptHandle"],
                    VisibilityTimeout=RETRY_DELAY_SECONDS,
                )
            else:
                sqs.delete_message(QueueUrl=self.queue_url, ReceiptHandle=message["ReceiptHandle"])


class ScheduledRunner(threading.Thread):
    """An EventBridge schedule: invokes a ``resources.ScheduledJob`` handler every ``rate(...)``.

    ``CHEESE_LOCAL_SCHEDULE_SECONDS`` overrides every interval locally (0: no
    schedules; tests invoke jobs themselves). ``cron(...)`` schedules are not run. A job with
    ``run_at_start`` runs when the stack starts, then on its rate.
    """

    def __init__(self, job: Any) -> None:
        super().__init__(name=f"schedule-{job.name}", daemon=True)
        self.job = job
        self._stopping = threading.Event()

    @staticmethod
    def interval(schedule: str) -> float | None:
        import os
        import re

        match = re.fullmatch(
            r"rate\((\d+) (minute|minutes|hour|hours|day|days)\)", schedule.strip()
        )
        if not match:
            return None
        override = os.environ.get("CHEESE_LOCAL_SCHEDULE_SECONDS")
        if override is not None:
            return float(override) or None
        unit = {"minute": 60, "hour": 3600, "day": 86400}[match.group(2).rstrip("s")]
        return int(match.group(1)) * unit

    def stop(self) -> None:
        self._stopping.set()

    def run(self) -> None:
        every = self.interval(self.job.schedule)
        if not every:
            return
        handler = importlib.import_module(self.job.module).handler
        # A job that declares run_at_start also runs at once: work a stopped stack left behind.
        wait = 0.0 if self.job.run_at_start else every
        while not self._stopping.wait(wait):
            wait = every
            try:
                invoke(handler, scheduled_event(self.job.name), self.job.name)
            except Exception:
                logger.exception("scheduled job failed", extra={"job": self.job.name})
