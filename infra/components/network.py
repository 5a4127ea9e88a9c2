"""The VPC of the database and of the functions that talk to it.

No NAT gateway unless a function in the VPC declares "internet": isolated
subnets reach AWS through VPC endpoints, derived from the grants of the
functions placed in the VPC (infra.grants.vpc_needs). A NAT gateway costs
~$33/month plus traffic and opens an egress path nothing else needs. Not
needed as endpoints: SQS (the Lambda service polls the queues, not the
function), CloudWatch Logs and X-Ray (Lambda ships logs and traces outside the
function's network), STS (the execution role's credentials come with the
invocation).
"""

from __future__ import annotations

from dataclasses import dataclass

from aws_cdk import RemovalPolicy
from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_logs as logs
from constructs import Construct

from infra.config import StageConfig
from infra.nag import acknowledge

# Isolated subnets come first so that adding the egress tier later leaves
# their address ranges (and the database's subnet group) untouched.
ISOLATED = ec2.SubnetConfiguration(
    name="isolated", subnet_type=ec2.SubnetType.PRIVATE_ISOLATED, cidr_mask=22
)
EGRESS_TIER = [
    ec2.SubnetConfiguration(
        name="egress", subnet_type=ec2.SubnetType.PRIVATE_WITH_EGRESS, cidr_mask=22
    ),
    ec2.SubnetConfiguration(name="public", subnet_type=ec2.SubnetType.PUBLIC, cidr_mask=26),
]


# (construct id, service) of one interface endpoint.
Endpoint = tuple[str, ec2.InterfaceVpcEndpointAwsService]


@dataclass(frozen=True)
class VpcNeeds:
    """What the functions placed in the VPC need from it (infra.grants.vpc_needs)."""

    interface_endpoints: tuple[Endpoint, ...]
    internet: bool


class Network(Construct):
    """Two AZs; the database and VPC functions in isolated subnets."""

    def __init__(
        self, scope: Construct, construct_id: str, *, config: StageConfig, needs: VpcNeeds
    ) -> None:
        super().__init__(scope, construct_id)
        self.vpc = ec2.Vpc(
            self,
            "Vpc",
            max_azs=2,
            # One NAT: it serves outbound fetches only; losing its AZ stops
            # those, not the API.
            nat_gateways=1 if needs.internet else 0,
            subnet_configuration=[ISOLATED, *(EGRESS_TIER if needs.internet else [])],
            gateway_endpoints={
                "S3": ec2.GatewayVpcEndpointOptions(service=ec2.GatewayVpcEndpointAwsService.S3),
                "DynamoDB": ec2.GatewayVpcEndpointOptions(
                    service=ec2.GatewayVpcEndpointAwsService.DYNAMODB
                ),
            },
        )
        for endpoint_id, service in needs.interface_endpoints:
            endpoint = self.vpc.add_interface_endpoint(
                endpoint_id,
                service=service,
                private_dns_enabled=True,
                subnets=self.isolated_subnets,
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

    @property
    def isolated_subnets(self) -> ec2.SubnetSelection:
        return ec2.SubnetSelection(subnet_type=ec2.SubnetType.PRIVATE_ISOLATED)

    def function_subnets(self, *, internet: bool) -> ec2.SubnetSelection:
        if internet:
            return ec2.SubnetSelection(subnet_type=ec2.SubnetType.PRIVATE_WITH_EGRESS)
        return self.isolated_subnets
