"""The one HTTP API: its routes are those of ``resources.API_FUNCTIONS``.

Authorization happens inside the functions, with the shared EdDSA verifier
(``cheese_runtime.auth.verify``): API Gateway's JWT authorizer accepts only
RSA-signed tokens, and our access tokens are Ed25519.
"""

from __future__ import annotations

import jsii
from aws_cdk import RemovalPolicy
from aws_cdk import aws_apigateway as apigateway
from aws_cdk import aws_apigatewayv2 as apigwv2
from aws_cdk import aws_apigatewayv2_integrations as integrations
from aws_cdk import aws_cloudwatch as cloudwatch
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_logs as logs
from constructs import Construct

from cheese_runtime import resources
from infra.components.monitoring import ALARM_PERIOD, Monitoring
from infra.config import StageConfig
from infra.nag import acknowledge


@jsii.implements(apigwv2.IAccessLogSettings)
class JsonAccessLogs:
    """One JSON line per request (with the request id) into a log group."""

    def __init__(self, log_group: logs.ILogGroup) -> None:
        self._destination = apigwv2.LogGroupLogDestination(log_group)

    @property
    def destination(self) -> apigwv2.IAccessLogDestination:
        return self._destination

    @property
    def format(self) -> apigateway.AccessLogFormat:
        return apigateway.AccessLogFormat.json_with_standard_fields(
            caller=False,
            http_method=True,
            ip=True,
            protocol=True,
            request_time=True,
            resource_path=True,
            response_length=True,
            status=True,
            user=False,
        )


# Stage-wide defaults; a route that needs tighter limits gets its own settings.
THROTTLE_RATE_PER_SECOND = 100
THROTTLE_BURST = 200


class HttpApi(Construct):
    def __init__(
        self, scope: Construct, construct_id: str, *, config: StageConfig, monitoring: Monitoring
    ) -> None:
        super().__init__(scope, construct_id)
        self.api = apigwv2.HttpApi(
            self, "Api", api_name=f"cheese-{config.stage}", create_default_stage=False
        )
        access_logs = logs.LogGroup(
            self, "AccessLogs", retention=config.log_retention, removal_policy=RemovalPolicy.DESTROY
        )
        self.stage = apigwv2.HttpStage(
            self,
            "DefaultStage",
            http_api=self.api,
            stage_name="$default",
            auto_deploy=True,
            throttle=apigwv2.ThrottleSettings(
                rate_limit=THROTTLE_RATE_PER_SECOND, burst_limit=THROTTLE_BURST
            ),
            access_log_settings=JsonAccessLogs(access_logs),
        )
        monitoring.alarm(
            self,
            "ServerErrorsAlarm",
            self.api.metric_server_error(period=ALARM_PERIOD, statistic=cloudwatch.Stats.SUM),
            threshold=1,
            description="HTTP API answered 5xx",
        )

    def add_function_routes(
        self, definition: resources.ApiFunction, function: lambda_.IFunction
    ) -> None:
        # One invoke permission per function for the whole API rather than one
        # per route: it keeps the stack well under CloudFormation's 500 resources.
        integration = integrations.HttpLambdaIntegration(
            f"{definition.name}Integration", function, scope_permission_to_route=False
        )
        for route in definition.routes:
            routes = self.api.add_routes(
                path=route.path, methods=[apigwv2.HttpMethod(route.method)], integration=integration
            )
            for http_route in routes:
                acknowledge(
                    http_route,
                    "AwsSolutions-APIG4",
                    "Tokens are verified in the function with our EdDSA verifier; API Gateway's "
                    "JWT authorizer supports only RSA keys."
                    if route.authorized
                    else "Public route by design (sign-up, login, JWKS...).",
                )
