"""SQS queues that feed a consumer function: the queue, its DLQ, the event source
mapping with partial batch responses, and the dead-letter alarm."""

from __future__ import annotations

from aws_cdk import Duration
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_lambda_event_sources as event_sources
from aws_cdk import aws_sqs as sqs
from constructs import Construct

from cheese_runtime import resources
from infra.components.monitoring import ALARM_PERIOD, Monitoring
from infra.config import StageConfig

# AWS's guidance: a message stays invisible for at least six times the
# consumer's timeout, so retries of a slow batch do not overlap it.
VISIBILITY_TO_TIMEOUT_RATIO = 6
DLQ_RETENTION = Duration.days(14)


def visibility_timeout_seconds(definition: resources.Queue, consumer_timeout_seconds: int) -> int:
    return max(
        definition.visibility_timeout_seconds,
        VISIBILITY_TO_TIMEOUT_RATIO * consumer_timeout_seconds,
    )


class ConsumerQueue(Construct):
    """A queue of ``resources.Queue`` shape with its dead-letter queue (SSE, TLS only)."""

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        definition: resources.Queue,
        consumer_timeout_seconds: int,
        config: StageConfig,
    ) -> None:
        super().__init__(scope, construct_id)
        self.definition = definition
        self.dead_letter_queue = sqs.Queue(
            self,
            "DeadLetterQueue",
            queue_name=config.physical_name(definition.dead_letter_name),
            encryption=sqs.QueueEncryption.SQS_MANAGED,
            enforce_ssl=True,
            retention_period=DLQ_RETENTION,
        )
        self.queue = sqs.Queue(
            self,
            "Queue",
            queue_name=config.physical_name(definition.name),
            # SSE-SQS: EventBridge and S3 can deliver to it without a customer managed key.
            encryption=sqs.QueueEncryption.SQS_MANAGED,
            enforce_ssl=True,
            visibility_timeout=Duration.seconds(
                visibility_timeout_seconds(definition, consumer_timeout_seconds)
            ),
            dead_letter_queue=sqs.DeadLetterQueue(
                max_receive_count=definition.max_receive_count, queue=self.dead_letter_queue
            ),
        )


def consume(
    scope: Construct,
    queue: ConsumerQueue,
    function: lambda_.Function,
    *,
    batch_size: int,
    monitoring: Monitoring,
) -> None:
    """``function`` consumes ``queue`` in batches, reporting failed records individually."""
    function.add_event_source(
        event_sources.SqsEventSource(
            queue.queue, batch_size=batch_size, report_batch_item_failures=True
        )
    )
    monitoring.alarm(
        scope,
        f"{queue.node.id}DeadLettersAlarm",
        queue.dead_letter_queue.metric_approximate_number_of_messages_visible(
            period=ALARM_PERIOD, statistic="Maximum"
        ),
        threshold=1,
        description=f"{queue.definition.dead_letter_name}: messages that failed for good",
    )
