"""Stateful foundation: network, Aurora + RDS Proxy, DynamoDB tables, photos bucket,
event bus, signing-key secret and JWKS parameter. Names and shapes come from
``cheese_runtime.resources``."""
from __future__ import annotations

import json

from aws_cdk import Duration, RemovalPolicy, Stack
from aws_cdk import aws_dynamodb as dynamodb
from aws_cdk import aws_events as events
from aws_cdk import aws_s3 as s3
from aws_cdk import aws_secretsmanager as secretsmanager
from aws_cdk import aws_ssm as ssm
from cheese_runtime import resources
from constructs import Construct

from infra.components.database import Database
from infra.components.network import Network
from infra.config import StageConfig
from infra.nag import acknowledge

# Versioning keeps deleted photos as noncurrent versions: expiring them bounds
# how long an erased user's photos survive (GDPR erasure "without undue delay").
NONCURRENT_PHOTO_RETENTION = Duration.days(30)


class DataStack(Stack):
    def __init__(self, scope: Construct, construct_id: str, *, config: StageConfig, **kwargs) -> None:
        super().__init__(scope, construct_id, **kwargs)
        removal_policy = RemovalPolicy.RETAIN if config.deletion_protection else RemovalPolicy.DESTROY

        self.network = Network(self, "Network", config=config)
        self.database = Database(self, "Database", network=self.network, config=config)

        # Keyed by each table's ``setting``, the grant name functions declare.
        self.tables: dict[str, dynamodb.Table] = {}
        for definition in resources.TABLES:
            table = self._table(definition, config, removal_policy)
            if definition.setting:
                self.tables[definition.setting] = table

        self.photos_bucket = self._photos_bucket(removal_policy)
        self.event_bus = events.EventBus(self, "EventBus", event_bus_name=config.physical_name(resources.EVENT_BUS))

        # Filled by the key-rotation function (run once at deploy, then on a
        # schedule); the generated placeholder is replaced on the first run.
        self.signing_keys_secret = secretsmanager.Secret(
            self, "SigningKeys",
            secret_name=config.physical_name(resources.SIGNING_KEYS_SECRET),
            description="Private EdDSA signing keys of the access tokens (written by the rotation function)",
        )
        acknowledge(self.signing_keys_secret, "AwsSolutions-SMG4",
                    "Rotated by our own key-rotation function every 30 days (an EventBridge schedule), "
                    "not by Secrets Manager rotation: a rotation also republishes the JWKS parameter and "
                    "keeps the previous keys until the tokens they signed expire.")
        # Only the initial value is CloudFormation's: the rotation function
        # overwrites it, and the template never changes it again.
        self.jwks_parameter = ssm.StringParameter(
            self, "Jwks",
            parameter_name=config.physical_name(resources.JWKS_PARAMETER),
            string_value=json.dumps({"keys": []}),
            description="Public JWKS of the access-token signing keys (written by the rotation function)",
        )

    def _table(self, definition: resources.Table, config: StageConfig,
               removal_policy: RemovalPolicy) -> dynamodb.Table:
        def string_key(name: str | None) -> dynamodb.Attribute | None:
            return dynamodb.Attribute(name=name, type=dynamodb.AttributeType.STRING) if name else None

        table = dynamodb.Table(
            self, f"Table-{definition.name}",
            table_name=config.physical_name(definition.name),
            partition_key=string_key(definition.partition_key),
            sort_key=string_key(definition.sort_key),
            billing_mode=dynamodb.BillingMode.PAY_PER_REQUEST,
            encryption=dynamodb.TableEncryption.AWS_MANAGED,
            point_in_time_recovery_specification=dynamodb.PointInTimeRecoverySpecification(
                point_in_time_recovery_enabled=True),
            time_to_live_attribute=definition.ttl_attribute,
            deletion_protection=config.deletion_protection,
            removal_policy=removal_policy,
        )
        for index in definition.global_indexes:
            table.add_global_secondary_index(index_name=index.name, partition_key=string_key(index.partition_key),
                                             sort_key=string_key(index.sort_key))
        return table

    def _photos_bucket(self, removal_policy: RemovalPolicy) -> s3.Bucket:
        access_logs = s3.Bucket(
            self, "AccessLogs",
            # Server access log delivery supports SSE-S3 only.
            encryption=s3.BucketEncryption.S3_MANAGED,
            block_public_access=s3.BlockPublicAccess.BLOCK_ALL,
            enforce_ssl=True,
            lifecycle_rules=[s3.LifecycleRule(expiration=Duration.days(365))],
            removal_policy=removal_policy,
        )
        acknowledge(access_logs, "AwsSolutions-S1",
                    "This is the server access log bucket; logging it into itself would loop.")
        return s3.Bucket(
            self, "Photos",
            # SSE-S3 rather than SSE-KMS: no KMS request charge on every photo and
            # thumbnail read; who may read is governed by IAM and the bucket policy.
            encryption=s3.BucketEncryption.S3_MANAGED,
            block_public_access=s3.BlockPublicAccess.BLOCK_ALL,
            enforce_ssl=True,
            minimum_tls_version=1.2,
            versioned=True,
            server_access_logs_bucket=access_logs,
            server_access_logs_prefix="photos/",
            lifecycle_rules=[
                s3.LifecycleRule(noncurrent_version_expiration=NONCURRENT_PHOTO_RETENTION,
                                 abort_incomplete_multipart_upload_after=Duration.days(1),
                                 expired_object_delete_marker=True),
            ],
            removal_policy=removal_policy,
        )
