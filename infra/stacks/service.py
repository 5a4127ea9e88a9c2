"""The serving side: the HTTP API and its functions and routes, the WebSocket
APIs, generated from the declarations of ``cheese_runtime.resources``, plus the
operational functions below (key rotation, migrations, WebSocket authorizer),
the alarm topic, and the background functions that post to WebSocket
connections. The other background functions are in the workers stack.
"""

from __future__ import annotations

from typing import Any

from aws_cdk import CfnOutput, Duration, Stack, triggers
from aws_cdk import aws_events as events
from aws_cdk import aws_events_targets as targets
from aws_cdk import aws_lambda as lambda_
from constructs import Construct

from cheese_runtime import resources
from infra.components.background import build_background_functions, manages_connections
from infra.components.functions import FunctionFactory
from infra.components.http_api import HttpApi
from infra.components.monitoring import Monitoring
from infra.components.websocket_api import WebSocketApi
from infra.config import StageConfig
from infra.declarations import (
    KEY_ROTATION,
    MIGRATIONS,
    WEBSOCKET_AUTHORIZER,
    api_function_spec,
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

        # Background functions that post to WebSocket connections live beside the API.
        self.background_functions = build_background_functions(
            self,
            self.functions,
            data=data,
            config=config,
            monitoring=self.monitoring,
            where=manages_connections,
        )

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

        # What must not run before the keys exist and the schema is current.
        serving = [
            *self.api_functions.values(),
            *self.background_functions.values(),
            self.websocket_authorizer,
            *self.websocket_handlers.values(),
        ]  # and the workers stack, which depends on this stack as a whole

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
