"""Compute: the HTTP API functions, the event consumers, key rotation, database
migrations, the WebSocket authorizer, and their alarms.

Everything here is generated from declarations: the routes and grants of
``resources.API_FUNCTIONS``, the subscriptions of ``resources.EVENT_SUBSCRIPTIONS``,
and the operational functions below.
"""
from __future__ import annotations

from aws_cdk import CfnOutput, Duration, Stack, triggers
from aws_cdk import aws_events as events
from aws_cdk import aws_events_targets as targets
from aws_cdk import aws_lambda as lambda_
from cheese_runtime import resources
from constructs import Construct

from infra.components.event_consumer import EventConsumer
from infra.components.functions import FunctionFactory, FunctionSpec
from infra.components.http_api import HttpApi
from infra.components.monitoring import Monitoring
from infra.config import StageConfig
from infra.nag import acknowledge
from infra.stacks.data import DataStack

KEY_ROTATION = FunctionSpec("key-rotation", "functions.auth.rotation",
                            grants=("signing_keys_write", "jwks_write"), timeout_seconds=30)
# Alembic on a cold cluster: Serverless v2 may first have to scale up.
MIGRATIONS = FunctionSpec("migrations", "functions.auth.migrations", grants=("database",), timeout_seconds=300)
WEBSOCKET_AUTHORIZER = FunctionSpec("websocket-authorizer", "functions.auth.authorizer", grants=("jwks",),
                                    timeout_seconds=10)
KEY_ROTATION_INTERVAL = Duration.days(30)


class ServiceStack(Stack):
    def __init__(self, scope: Construct, construct_id: str, *, data: DataStack, config: StageConfig,
                 **kwargs) -> None:
        super().__init__(scope, construct_id, **kwargs)
        self.monitoring = Monitoring(self, "Monitoring", config=config)
        self.functions = FunctionFactory(self, "Functions", data=data, config=config, monitoring=self.monitoring)

        self.http_api = HttpApi(self, "HttpApi", config=config, monitoring=self.monitoring)
        self.api_functions: dict[str, lambda_.Function] = {}
        for definition in resources.API_FUNCTIONS:
            function = self.functions.create(self, f"Api-{definition.name}", FunctionSpec.of_api(definition))
            self.http_api.add_function_routes(definition, function)
            self.api_functions[definition.name] = function

        self.event_consumers: dict[str, EventConsumer] = {}
        for subscription in resources.EVENT_SUBSCRIPTIONS:
            function = self.functions.create(self, f"Consumer-{subscription.consumer}",
                                              FunctionSpec.of_subscription(subscription))
            self.event_consumers[subscription.consumer] = EventConsumer(
                self, f"Subscription-{subscription.consumer}", subscription=subscription, function=function,
                event_bus=data.event_bus, config=config, monitoring=self.monitoring)

        serving = [*self.api_functions.values(), *(c.queue for c in self.event_consumers.values())]

        # Signing keys: rotated on a schedule, and once at the first deploy so
        # that the secret and the JWKS hold a key before any function serves.
        self.key_rotation = self.functions.create(self, "KeyRotation", KEY_ROTATION)
        acknowledge(self.key_rotation, "Annotation::@aws-cdk/aws-lambda:addPermissionsToVersionOrAlias",
                    "The schedule invokes the unqualified function; its version exists only for the "
                    "deploy trigger, which invokes it with the trigger's own permission.")
        events.Rule(self, "KeyRotationSchedule", schedule=events.Schedule.rate(KEY_ROTATION_INTERVAL),
                    description="Rotate the access-token signing keys",
                    targets=[targets.LambdaFunction(self.key_rotation)])
        triggers.Trigger(self, "InitialKeyRotation", handler=self.key_rotation,
                         execute_on_handler_change=False,
                         execute_after=[data.signing_keys_secret, data.jwks_parameter],
                         execute_before=serving)

        # Schema migrations: on every deploy that changes the code or the layer
        # (which carries the Alembic versions), before the new code serves.
        self.migrations = self.functions.create(self, "Migrations", MIGRATIONS)
        triggers.Trigger(self, "MigrateDatabase", handler=self.migrations,
                         timeout=Duration.seconds(MIGRATIONS.timeout_seconds),
                         execute_after=[data.database],
                         execute_before=serving)

        # The $connect authorizer of the WebSocket API that the pool stack adds.
        self.websocket_authorizer = self.functions.create(self, "WebSocketAuthorizer", WEBSOCKET_AUTHORIZER)

        CfnOutput(self, "HttpApiUrl", value=self.http_api.api.api_endpoint)
        CfnOutput(self, "AlarmTopicArn", value=self.monitoring.topic.topic_arn)
