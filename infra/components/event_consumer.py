"""An event subscription of ``resources.EVENT_SUBSCRIPTIONS``: EventBridge rule ->
SQS queue (with DLQ) -> Lambda with partial batch responses.

The rule is on Cheese's bus, or on the account's default bus for the events
AWS services send (``subscription.on_default_bus``: Transcribe's)."""

from __future__ import annotations

from aws_cdk import aws_events as events
from aws_cdk import aws_events_targets as targets
from aws_cdk import aws_lambda as lambda_
from constructs import Construct

from cheese_runtime import resources
from infra.components.monitoring import Monitoring
from infra.components.queues import ConsumerQueue, consume
from infra.config import StageConfig


class EventConsumer(Construct):
    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        subscription: resources.EventSubscription,
        function: lambda_.Function,
        event_bus: events.IEventBus,
        config: StageConfig,
        monitoring: Monitoring,
    ) -> None:
        super().__init__(scope, construct_id)
        self.queue = ConsumerQueue(
            self,
            "Queue",
            definition=resources.subscription_queue(subscription),
            consumer_timeout_seconds=subscription.timeout_seconds,
            config=config,
        )
        bus = (
            events.EventBus.from_event_bus_name(self, "DefaultBus", "default")
            if subscription.on_default_bus
            else event_bus
        )
        self.rule = events.Rule(
            self,
            "Rule",
            event_bus=bus,
            description=f"{', '.join(subscription.detail_types)} to {self.queue.definition.name}",
            event_pattern=events.EventPattern(
                source=[subscription.source], detail_type=list(subscription.detail_types)
            ),
            # Events EventBridge cannot deliver land in the same DLQ as poison messages.
            targets=[
                targets.SqsQueue(self.queue.queue, dead_letter_queue=self.queue.dead_letter_queue)
            ],
        )
        consume(
            self, self.queue, function, batch_size=subscription.batch_size, monitoring=monitoring
        )
