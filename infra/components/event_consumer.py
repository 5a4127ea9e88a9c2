"""An event subscription of ``resources.EVENT_SUBSCRIPTIONS``: EventBridge rule ->
SQS queue (with DLQ) -> Lambda with partial batch responses."""
from __future__ import annotations

from aws_cdk import Duration
from aws_cdk import aws_events as events
from aws_cdk import aws_events_targets as targets
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_lambda_event_sources as event_sources
from aws_cdk import aws_sqs as sqs
from cheese_runtime import resources
from constructs import Construct

from infra.components.monitoring import ALARM_PERIOD, Monitoring
from infra.config import StageConfig

# AWS's guidance: a message stays invisible for at least six times the
# consumer's timeout, so retries of a slow batch do not overlap it.
VISIBILITY_TO_TIMEOUT_RATIO = 6
DLQ_RETENTION = Duration.days(14)


def visibility_timeout_seconds(subscription: resources.EventSubscription) -> int:
    queue = resources.subscription_queue(subscription)
    return max(queue.visibility_timeout_seconds, VISIBILITY_TO_TIMEOUT_RATIO * subscription.timeout_seconds)


class EventConsumer(Construct):
    def __init__(self, scope: Construct, construct_id: str, *, subscription: resources.EventSubscription,
                 function: lambda_.Function, event_bus: events.IEventBus, config: StageConfig,
                 monitoring: Monitoring) -> None:
        super().__init__(scope, construct_id)
        definition = resources.subscription_queue(subscription)
        self.dead_letter_queue = sqs.Queue(
            self, "DeadLetterQueue",
            queue_name=config.physical_name(definition.dead_letter_name),
            encryption=sqs.QueueEncryption.SQS_MANAGED,
            enforce_ssl=True,
            retention_period=DLQ_RETENTION,
        )
        self.queue = sqs.Queue(
            self, "Queue",
            queue_name=config.physical_name(definition.name),
            # SSE-SQS: EventBridge can deliver to it without a customer managed key.
            encryption=sqs.QueueEncryption.SQS_MANAGED,
            enforce_ssl=True,
            visibility_timeout=Duration.seconds(visibility_timeout_seconds(subscription)),
            dead_letter_queue=sqs.DeadLetterQueue(max_receive_count=definition.max_receive_count,
                                                  queue=self.dead_letter_queue),
        )
        self.rule = events.Rule(
            self, "Rule",
            event_bus=event_bus,
            description=f"{', '.join(subscription.detail_types)} to {definition.name}",
            event_pattern=events.EventPattern(source=[resources.EVENT_SOURCE],
                                              detail_type=list(subscription.detail_types)),
            # Events EventBridge cannot deliver land in the same DLQ as poison messages.
            targets=[targets.SqsQueue(self.queue, dead_letter_queue=self.dead_letter_queue)],
        )
        function.add_event_source(event_sources.SqsEventSource(
            self.queue, batch_size=subscription.batch_size, report_batch_item_failures=True))
        monitoring.alarm(
            self, "DeadLettersAlarm",
            self.dead_letter_queue.metric_approximate_number_of_messages_visible(period=ALARM_PERIOD,
                                                                                statistic="Maximum"),
            threshold=1, description=f"{definition.dead_letter_name}: events failed for good and wait in the DLQ")
