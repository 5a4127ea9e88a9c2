"""The VPC of the database and of the functions that talk to it."""

from __future__ import annotations

from aws_cdk import RemovalPolicy
from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_logs as logs
from constructs import Construct

from infra.config import StageConfig
from infra.nag import acknowledge

# Interface endpoints for the AWS APIs the VPC functions call, so that they
# need no NAT gateway (~$33/month per AZ plus traffic, and an egress path to
# the internet that nothing here needs):
#  - Secrets Manager: the database credentials and the signing keys;
#  - SSM: the JWKS parameter the token verifier reads;
#  - EventBridge: PutEvents of the domain events (e.g. UserDeletionRequested).
# Not needed: SQS (the Lambda service polls the queues, not the function), CloudWatch
# Logs/X-Ray (Lambda ships logs and traces outside the function's network), STS
# (the execution role's credentials come with the invocation). A VPC function
# that calls another AWS API adds its endpoint here.
INTERFACE_ENDPOINTS: dict[str, ec2.InterfaceVpcEndpointAwsService] = {
    "SecretsManager": ec2.InterfaceVpcEndpointAwsService.SECRETS_MANAGER,
    "Ssm": ec2.InterfaceVpcEndpointAwsService.SSM,
    "EventBridge": ec2.InterfaceVpcEndpointAwsService.EVENTBRIDGE,
}


class Network(Construct):
    """Two AZs of isolated subnets: no internet route at all, AWS reached through endpoints."""

    def __init__(self, scope: Construct, construct_id: str, *, config: StageConfig) -> None:
        super().__init__(scope, construct_id)
        self.vpc = ec2.Vpc(
            self,
            "Vpc",
            max_azs=2,
            nat_gateways=0,
            subnet_configuration=[
                ec2.SubnetConfiguration(
                    name="isolated", subnet_type=ec2.SubnetType.PRIVATE_ISOLATED, cidr_mask=22
                ),
            ],
            # Gateway endpoints are free and cover S3 (photos) and DynamoDB (tables).
            gateway_endpoints={
                "S3": ec2.GatewayVpcEndpointOptions(service=ec2.GatewayVpcEndpointAwsService.S3),
                "DynamoDB": ec2.GatewayVpcEndpointOptions(
                    service=ec2.GatewayVpcEndpointAwsService.DYNAMODB
                ),
            },
        )
        for endpoint_id, service in INTERFACE_ENDPOINTS.items():
            endpoint = self.vpc.add_interface_endpoint(
                endpoint_id, service=service, private_dns_enabled=True
            )
            acknowledge(
                endpoint,
                "AwsSolutions-EC23",
                "The endpoint's security group admits HTTPS from the VPC's own CIDR only (an "
                "intrinsic cdk-nag cannot resolve), not from 0.0.0.0/0.",
            )
        flow_logs = logs.LogGroup(
            self, "FlowLogs", retention=config.log_retention, removal_policy=RemovalPolicy.DESTROY
        )
        self.vpc.add_flow_log(
            "FlowLog",
            destination=ec2.FlowLogDestination.to_cloud_watch_logs(flow_logs),
            traffic_type=ec2.FlowLogTrafficType.REJECT,
        )
        self.isolated_subnets = ec2.SubnetSelection(subnet_type=ec2.SubnetType.PRIVATE_ISOLATED)
