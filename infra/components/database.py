"""Aurora PostgreSQL Serverless v2 behind RDS Proxy.

Why RDS Proxy rather than the RDS Data API: the proxy keeps the standard
psycopg2 driver and SQLAlchemy dialect, so the code that runs in Lambda is the
same code that runs against local PostgreSQL (and SQLite) in the local stack
and the tests; and it pools connections across Lambda concurrency, so a burst
of cold starts does not exhaust the database's connection slots. The Data API
would need a different SQLAlchemy dialect (so different code in AWS than
locally) and adds ~10-30 ms of HTTPS round trip to every query.
"""

from __future__ import annotations

from aws_cdk import Duration, RemovalPolicy
from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_logs as logs
from aws_cdk import aws_rds as rds
from constructs import Construct

from infra.components.network import Network
from infra.config import StageConfig
from infra.nag import acknowledge
from infra.settings_env import setting_env

DATABASE_NAME = "cheese"
ADMIN_USER = "cheese_admin"
# 16.6 and earlier 16.x minors are deprecated for new clusters (cfn-lint W3690).
ENGINE_VERSION = rds.AuroraPostgresEngineVersion.VER_17_9
# RDS Proxy listens on the engine's default port.
POSTGRES_PORT = 5432


class Database(Construct):
    def __init__(
        self, scope: Construct, construct_id: str, *, network: Network, config: StageConfig
    ) -> None:
        super().__init__(scope, construct_id)
        cluster_identifier = f"cheese-{config.stage}"
        # Created here with its retention (rather than through the cluster's
        # cloudwatch_logs_retention, which deploys a log-retention Lambda).
        postgres_logs = logs.LogGroup(
            self,
            "PostgresLogs",
            log_group_name=f"/aws/rds/cluster/{cluster_identifier}/postgresql",
            retention=config.log_retention,
            removal_policy=RemovalPolicy.DESTROY,
        )
        self.cluster = rds.DatabaseCluster(
            self,
            "Cluster",
            cluster_identifier=cluster_identifier,
            engine=rds.DatabaseClusterEngine.aurora_postgres(version=ENGINE_VERSION),
            writer=rds.ClusterInstance.serverless_v2("Writer", enable_performance_insights=True),
            readers=[
                rds.ClusterInstance.serverless_v2(
                    "Reader", scale_with_writer=True, enable_performance_insights=True
                )
            ]
            if config.aurora_reader
            else None,
            serverless_v2_min_capacity=config.aurora_min_acu,
            serverless_v2_max_capacity=config.aurora_max_acu,
            vpc=network.vpc,
            vpc_subnets=network.isolated_subnets,
            credentials=rds.Credentials.from_generated_secret(ADMIN_USER),
            default_database_name=DATABASE_NAME,
            storage_encrypted=True,
            iam_authentication=True,
            backup=rds.BackupProps(retention=Duration.days(config.backup_retention_days)),
            deletion_protection=config.deletion_protection,
            removal_policy=RemovalPolicy.SNAPSHOT,
            cloudwatch_logs_exports=["postgresql"],
        )
        self.cluster.node.add_dependency(postgres_logs)
        acknowledge(
            self.cluster,
            "AwsSolutions-RDS11",
            "Default port 5432 kept: a non-default port hides nothing from a client already inside "
            "the isolated VPC, and the functions reach the cluster through RDS Proxy on 5432.",
        )
        if not config.deletion_protection:
            acknowledge(
                self.cluster,
                "AwsSolutions-RDS10",
                f"Deletion protection switched off by context for the throwaway stage "
                f"'{config.stage}'.",
            )
        assert self.cluster.secret is not None
        self.secret = self.cluster.secret
        # The secret construct itself (``cluster.secret`` is its attachment).
        acknowledge(
            self.cluster.node.find_child("Secret"),
            "AwsSolutions-SMG4",
            "Not rotated yet: the functions cache the credentials for an hour (db/session.py) and "
            "have no re-read-on-authentication-failure path, so a rotation would fail requests "
            "until the cache expires. Rotation comes with that retry.",
        )
        self.proxy = self.cluster.add_proxy(
            "Proxy",
            secrets=[self.secret],
            vpc=network.vpc,
            vpc_subnets=network.isolated_subnets,
            require_tls=True,
        )

    def grant_connect(self, function: lambda_.Function) -> None:
        """Network path to the proxy, the credentials, and where to find them."""
        # A "remote" rule lives in the peer's (the function's) stack, so the data
        # stack never depends on a compute stack.
        for proxy_group in self.proxy.connections.security_groups:
            proxy_group.add_ingress_rule(
                function.connections.security_groups[0],
                ec2.Port.tcp(POSTGRES_PORT),
                "function to RDS Proxy",
                True,
            )
        self.secret.grant_read(function)
        function.add_environment(setting_env("database_secret_arn"), self.secret.secret_arn)
        function.add_environment(setting_env("database_proxy_host"), self.proxy.endpoint)
