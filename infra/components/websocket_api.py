"""A WebSocket API of ``resources.WEBSOCKET_APIS``: one handler for every route,
a Lambda REQUEST authorizer on ``$connect`` (API Gateway runs authorizers on
``$connect`` only), a stage with access logs and throttling."""

from __future__ import annotations

from aws_cdk import RemovalPolicy, Stack
from aws_cdk import aws_apigatewayv2 as apigwv2
from aws_cdk import aws_apigatewayv2_authorizers as authorizers
from aws_cdk import aws_apigatewayv2_integrations as integrations
from aws_cdk import aws_cloudwatch as cloudwatch
from aws_cdk import aws_iam as iam
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_logs as logs
from constructs import Construct

from cheese_runtime import resources
from infra.components.http_api import JsonAccessLogs
from infra.components.monitoring import ALARM_PERIOD, Monitoring
from infra.config import StageConfig
from infra.nag import acknowledge
from infra.settings_env import setting_env

THROTTLE_RATE_PER_SECOND = 500
THROTTLE_BURST = 1000


class WebSocketApi(Construct):
    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        definition: resources.WebSocketApi,
        config: StageConfig,
        monitoring: Monitoring,
    ) -> None:
        super().__init__(scope, construct_id)
        self.definition = definition
        self.api = apigwv2.WebSocketApi(
            self,
            "Api",
            api_name=f"cheese-{definition.name}-{config.stage}",
            route_selection_expression=definition.route_selection_expression,
        )
        access_logs = logs.LogGroup(
            self, "AccessLogs", retention=config.log_retention, removal_policy=RemovalPolicy.DESTROY
        )
        self.stage = apigwv2.WebSocketStage(
            self,
            "Stage",
            web_socket_api=self.api,
            stage_name=definition.stage,
            auto_deploy=True,
            throttle=apigwv2.ThrottleSettings(
                rate_limit=THROTTLE_RATE_PER_SECOND, burst_limit=THROTTLE_BURST
            ),
            access_log_settings=JsonAccessLogs(access_logs),
        )
        monitoring.alarm(
            self,
            "IntegrationErrorsAlarm",
            cloudwatch.Metric(
                namespace="AWS/ApiGateway",
                metric_name="IntegrationError",
                dimensions_map={"ApiId": self.api.api_id, "Stage": definition.stage},
                period=ALARM_PERIOD,
                statistic=cloudwatch.Stats.SUM,
            ),
            threshold=1,
            description=f"WebSocket API {definition.name}: the handler failed",
        )

    def add_routes(self, handler: lambda_.IFunction, authorizer: lambda_.IFunction) -> None:
        integration = integrations.WebSocketLambdaIntegration(
            f"{self.definition.name}Integration", handler
        )
        self.api.add_route(
            "$connect",
            integration=integration,
            authorizer=authorizers.WebSocketLambdaAuthorizer(
                "Authorizer",
                authorizer,
                identity_source=list(self.definition.authorizer_identity_sources),
            ),
        )
        routes = [
            self.api.add_route(key, integration=integration)
            for key in ("$disconnect", "$default", *self.definition.routes)
        ]
        for route in routes:
            acknowledge(
                route,
                "AwsSolutions-APIG4",
                "API Gateway authorizes a WebSocket connection once, on $connect; later frames "
                "travel on that authorized connection.",
            )

    def grant_manage_connections(self, function: lambda_.Function) -> None:
        """Post to, read and close this stage's connections; the @connections endpoint."""
        stack = Stack.of(self)
        function.add_to_role_policy(
            iam.PolicyStatement(
                actions=["execute-api:ManageConnections"],
                resources=[
                    stack.format_arn(
                        service="execute-api",
                        resource=self.api.api_id,
                        resource_name=f"{self.definition.stage}/*/@connections/*",
                    )
                ],
            )
        )
        function.add_environment(setting_env("websocket_endpoint"), self.stage.callback_url)
        api_logical_id = stack.get_logical_id(self.api.node.default_child)  # type: ignore[arg-type]
        acknowledge(
            function,
            "AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:execute-api:<AWS::Region>:"
            f"<AWS::AccountId>:<{api_logical_id}>/{self.definition.stage}/*/@connections/*]",
            "Connection ids are created per client at run time; the grant is limited to this "
            "API's stage and to ManageConnections.",
        )
