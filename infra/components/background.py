"""The background functions of ``cheese_runtime.resources`` (event consumers, S3
notification consumers, scheduled jobs) with their triggers, built in a stack.

``where`` picks which of them a stack holds: the functions that post to WebSocket
connections stay in the service stack beside the WebSocket API (a grant across
stacks would name the API through a stack output), the rest go to the workers
stack.
"""

from __future__ import annotations

from collections.abc import Callable

from aws_cdk import Stack
from aws_cdk import aws_events as events
from aws_cdk import aws_events_targets as targets
from aws_cdk import aws_lambda as lambda_

from cheese_runtime import resources
from infra.components.event_consumer import EventConsumer
from infra.components.functions import FunctionFactory
from infra.components.monitoring import Monitoring
from infra.components.queues import consume
from infra.config import StageConfig
from infra.declarations import (
    FunctionSpec,
    notification_spec,
    scheduled_job_spec,
    subscription_spec,
)
from infra.stacks.data import DataStack


def manages_connections(spec: FunctionSpec) -> bool:
    return "websocket_management" in spec.grants


def build_background_functions(
    stack: Stack,
    functions: FunctionFactory,
    *,
    data: DataStack,
    config: StageConfig,
    monitoring: Monitoring,
    where: Callable[[FunctionSpec], bool],
) -> dict[str, lambda_.Function]:
    """Create the selected background functions and their triggers; by logical id prefix."""
    created: dict[str, lambda_.Function] = {}
    for subscription in resources.EVENT_SUBSCRIPTIONS:
        spec = subscription_spec(subscription)
        if not where(spec):
            continue
        function = functions.create(stack, f"Consumer-{subscription.consumer}", spec)
        EventConsumer(
            stack,
            f"Subscription-{subscription.consumer}",
            subscription=subscription,
            function=function,
            event_bus=data.event_bus,
            config=config,
            monitoring=monitoring,
        )
        created[f"Consumer-{subscription.consumer}"] = function

    for notification in resources.BUCKET_NOTIFICATIONS:
        spec = notification_spec(notification)
        if not where(spec):
            continue
        function = functions.create(stack, f"Notification-{notification.consumer}", spec)
        consume(
            stack,
            data.notification_queues[notification.consumer],
            function,
            batch_size=notification.batch_size,
            monitoring=monitoring,
        )
        created[f"Notification-{notification.consumer}"] = function

    for job in resources.SCHEDULED_JOBS:
        spec = scheduled_job_spec(job)
        if not where(spec):
            continue
        function = functions.create(stack, f"Job-{job.name}", spec)
        events.Rule(
            stack,
            f"Job-{job.name}Schedule",
            schedule=events.Schedule.expression(job.schedule),
            description=f"Run {job.module}",
            targets=[targets.LambdaFunction(function)],
        )
        created[f"Job-{job.name}"] = function
    return created
