"""Compute: the functions, their triggers and their alarms, generated from the
declarations of ``cheese_runtime.resources`` (HTTP API functions and routes,
event subscriptions, WebSocket APIs, S3 notifications, scheduled jobs) plus the
operational functions below (key rotation, migrations, WebSocket authorizer).
"""

from __future__ import annotations

from typing import Any

from aws_cdk import CfnOutput, Duration, Stack, triggers
from aws_cdk import aws_events as events
from aws_cdk import aws_events_targets as targets
from aws_cdk import aws_lambda as lambda_
from constructs import Construct

from cheese_runtime import resources
from infra.components.event_consumer import EventConsumer
from infra.components.functions import FunctionFactory
from infra.components.http_api import HttpApi
from infra.components.monitoring import Monitoring
from infra.components.queues import consume
from infra.components.websocket_api import WebSocketApi
from infra.config import StageConfig
from infra.declarations import (
    KEY_ROTATION,
    MIGRATIONS,
    WEBSOCKET_AUTHORIZER,
    api_function_spec,
    notification_spec,
    scheduled_job_spec,
    subscription_spec,
    websocket_handler_spec,
)
from infra.grants import GrantTargets
from infra.nag import acknowledge
from infra.stacks.data import DataStack

KEY_ROTATION_INTERVAL = Duration.days(30)


class ServiceStack(Stack):
    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        data: DataStack,
        config: StageConfig,
        **kwargs: Any,
    ) -> None:
        super().__init__(scope, construct_id, **kwargs)
        self.monitoring = Monitoring(self, "Monitoring", config=config)

        # Created before the functions: "websocket_management" grants point at them.
        self.websocket_apis = {
            definition.name: WebSocketApi(
                self,
                f"WebSocket-{definition.name}",
                definition=definition,
                config=config,
                monitoring=self.monitoring,
            )
            for definition in resources.WEBSOCKET_APIS
        }
        # "websocket_management" names the WebSocket API when there is exactly one.
        apis = list(self.websocket_apis.values())
        grant_targets = GrantTargets(data, websocket_api=apis[0] if len(apis) == 1 else None)
        self.functions = FunctionFactory(
            self, "Functions", targets=grant_targets, config=config, monitoring=self.monitoring
        )

        self.http_api = HttpApi(self, "HttpApi", config=config, monitoring=self.monitoring)
        self.api_functions: dict[str, lambda_.Function] = {}
        for api_function in resources.API_FUNCTIONS:
            function = self.functions.create(
                self,
                f"Api-{api_function.name}",
                api_function_spec(api_function),
            )
            self.http_api.add_function_routes(api_function, function)
            self.api_functions[api_function.name] = function

        self.event_consumers: dict[str, lambda_.Function] = {}
        for subscription in resources.EVENT_SUBSCRIPTIONS:
            function = self.functions.create(
                self,
                f"Consumer-{subscription.consumer}",
                subscription_spec(subscription),
            )
            EventConsumer(
                self,
                f"Subscription-{subscription.consumer}",
                subscription=subscription,
                function=function,
                event_bus=data.event_bus,
                config=config,
                monitoring=self.monitoring,
            )
            self.event_consumers[subscription.consumer] = function

        self.notification_consumers: dict[str, lambda_.Function] = {}
        for notification in resources.BUCKET_NOTIFICATIONS:
            function = self.functions.create(
                self,
                f"Notification-{notification.consumer}",
                notification_spec(notification),
            )
            consume(
                self,
                data.notification_queues[notification.consumer],
                function,
                batch_size=notification.batch_size,
                monitoring=self.monitoring,
            )
            self.notification_consumers[notification.consumer] = function

        # The $connect authorizer, also exported for WebSocket APIs of other stacks.
        self.websocket_authorizer = self.functions.create(
            self, "WebSocketAuthorizer", WEBSOCKET_AUTHORIZER
        )
        self.websocket_handlers: dict[str, lambda_.Function] = {}
        for name, websocket_api in self.websocket_apis.items():
            definition = websocket_api.definition
            if definition.authorizer_module != WEBSOCKET_AUTHORIZER.module:
                raise ValueError(
                    f"WebSocket API {name!r}: $connect must use {WEBSOCKET_AUTHORIZER.module}"
                )
            handler = self.functions.create(
                self,
                f"WebSocketHandler-{name}",
                websocket_handler_spec(definition),
            )
            websocket_api.add_routes(handler, self.websocket_authorizer)
            self.websocket_handlers[name] = handler

        self.scheduled_jobs: dict[str, lambda_.Function] = {}
        for job in resources.SCHEDULED_JOBS:
            function = self.functions.create(self, f"Job-{job.name}", scheduled_job_spec(job))
            events.Rule(
                self,
                f"Job-{job.name}Schedule",
                schedule=events.Schedule.expression(job.schedule),
                description=f"Run {job.module}",
                targets=[targets.LambdaFunction(function)],
            )
            self.scheduled_jobs[job.name] = function

        # What must not run before the keys exist and the schema is current.
        serving = [
            *self.api_functions.values(),
            *self.event_consumers.values(),
            *self.notification_consumers.values(),
            self.websocket_authorizer,
            *self.websocket_handlers.values(),
            *self.scheduled_jobs.values(),
        ]

        # Signing keys: rotated on a schedule, and once at the first deploy so
        # that the secret and the JWKS hold a key before any function serves.
        self.key_rotation = self.functions.create(self, "KeyRotation", KEY_ROTATION)
        acknowledge(
            self.key_rotation,
            "Annotation::@aws-cdk/aws-lambda:addPermissionsToVersionOrAlias",
            "The schedule invokes the unqualified function; its version exists only for the "
            "deploy trigger, which invokes it with the trigger's own permission.",
        )
        events.Rule(
            self,
            "KeyRotationSchedule",
            schedule=events.Schedule.rate(KEY_ROTATION_INTERVAL),
            description="Rotate the access-token signing keys",
            targets=[targets.LambdaFunction(self.key_rotation)],
        )
        triggers.Trigger(
            self,
            "InitialKeyRotation",
            handler=self.key_rotation,
            execute_on_handler_change=False,
            execute_after=[data.signing_keys_secret, data.jwks_parameter],
            execute_before=serving,
        )

        # Schema migrations: on every deploy that changes the code or the layer
        # (which carries the Alembic versions), before the new code serves.
        self.migrations = self.functions.create(self, "Migrations", MIGRATIONS)
        triggers.Trigger(
            self,
            "MigrateDatabase",
            handler=self.migrations,
            timeout=Duration.seconds(MIGRATIONS.timeout_seconds),
            execute_after=[data.database],
            execute_before=serving,
        )

        CfnOutput(self, "HttpApiUrl", value=self.http_api.api.api_endpoint)
        for name, websocket_api in self.websocket_apis.items():
            CfnOutput(self, f"WebSocketUrl-{name}", value=websocket_api.stage.url)
        CfnOutput(self, "AlarmTopicArn", value=self.monitoring.topic.topic_arn)
