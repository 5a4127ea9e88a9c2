"""Stateful foundation: network, Aurora + RDS Proxy, DynamoDB tables, photos bucket,
event bus, signing-key secret and JWKS parameter. Names and shapes come from
``cheese_runtime.resources``."""

from __future__ import annotations

import json
import re
from typing import Any

from aws_cdk import Aws, Duration, RemovalPolicy, Stack
from aws_cdk import aws_dynamodb as dynamodb
from aws_cdk import aws_events as events
from aws_cdk import aws_rekognition as rekognition
from aws_cdk import aws_s3 as s3
from aws_cdk import aws_s3_notifications as s3_notifications
from aws_cdk import aws_secretsmanager as secretsmanager
from aws_cdk import aws_ssm as ssm
from constructs import Construct

from cheese_runtime import resources
from infra.components.database import Database
from infra.components.network import Network
from infra.components.queues import ConsumerQueue
from infra.config import StageConfig
from infra.declarations import all_function_specs
from infra.grants import vpc_needs
from infra.nag import acknowledge
from infra.settings_env import default_setting

# The singleton Lambda that CDK deploys to configure S3 notifications.
BUCKET_NOTIFICATIONS_HANDLER = "BucketNotificationsHandler050a0587b7544547bf325f094a3db834"
# Versioning keeps deleted photos as noncurrent versions: expiring them bounds
# how long an erased user's photos survive (GDPR erasure "without undue delay").
NONCURRENT_PHOTO_RETENTION = Duration.days(30)


def s3_event_type(name: str) -> s3.EventType:
    """The EventType of an S3 event name: ``s3:ObjectCreated:*`` -> ``OBJECT_CREATED``."""
    parts = [part for part in name.removeprefix("s3:").split(":") if part != "*"]
    return s3.EventType["_".join(re.sub(r"(?<!^)(?=[A-Z])", "_", part) for part in parts).upper()]


class DataStack(Stack):
    def __init__(
        self, scope: Construct, construct_id: str, *, config: StageConfig, **kwargs: Any
    ) -> None:
        super().__init__(scope, construct_id, **kwargs)
        self.config = config
        removal_policy = (
            RemovalPolicy.RETAIN if config.deletion_protection else RemovalPolicy.DESTROY
        )

        self.network = Network(
            self, "Network", config=config, needs=vpc_needs(all_function_specs(), config)
        )
        self.database = Database(self, "Database", network=self.network, config=config)

        # Functions reach them by their declared names (see infra.grants).
        for definition in resources.TABLES:
            self._table(definition, config, removal_policy)

        # Named (bucket names are global, hence account and region) so that the
        # service stack refers to it by name rather than through a cross-stack output.
        photos_base = config.physical_name(resources.PHOTOS_BUCKET)
        self.photos_bucket_name = f"{photos_base}-{Aws.ACCOUNT_ID}-{Aws.REGION}"
        # The same name as cdk-nag prints it in findings.
        self.photos_bucket_name_pattern = f"{photos_base}-<AWS::AccountId>-<AWS::Region>"
        self.photos_bucket = self._photos_bucket(removal_policy)
        # Keyed by the Settings field naming each bucket.
        self.buckets: dict[str, s3.Bucket] = {"photos_bucket": self.photos_bucket}
        # The queues of S3 notifications live with their bucket: the notification
        # configuration is part of the bucket, and a queue in the compute stack
        # would make this stack depend on it. Their consumers are in the service stack.
        self.notification_queues: dict[str, ConsumerQueue] = {}
        for notification in resources.BUCKET_NOTIFICATIONS:
            queue = ConsumerQueue(
                self,
                f"Notification-{notification.consumer}",
                definition=resources.notification_queue(notification),
                consumer_timeout_seconds=notification.timeout_seconds,
                config=config,
            )
            for event in notification.events:
                self.buckets[notification.bucket_setting].add_event_notification(
                    s3_event_type(event),
                    s3_notifications.SqsDestination(queue.queue),
                    s3.NotificationKeyFilter(prefix=notification.prefix),
                )
            self.notification_queues[notification.consumer] = queue
        notifications_handler = self.node.try_find_child(BUCKET_NOTIFICATIONS_HANDLER)
        if notifications_handler is not None:
            acknowledge(
                notifications_handler,
                "AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/"
                "service-role/AWSLambdaBasicExecutionRole]",
                "CDK's bucket-notification handler: AWS's minimal policy to write its own logs.",
            )
            acknowledge(
                notifications_handler,
                "AwsSolutions-IAM5[Resource::*]",
                "CDK's bucket-notification handler: s3:PutBucketNotification at deploy time.",
            )
        self.event_bus = events.EventBus(
            self, "EventBus", event_bus_name=config.physical_name(resources.EVENT_BUS)
        )

        # The external face index, only when the deployment chooses it.
        self.face_collection: rekognition.CfnCollection | None = None
        if config.face_index_backend == "rekognition":
            self.face_collection = rekognition.CfnCollection(
                self,
                "FaceCollection",
                collection_id=config.physical_name(default_setting("rekognition_collection_id")),
            )

        # Filled by the key-rotation function (run once at deploy, then on a
        # schedule); the generated placeholder is replaced on the first run.
        self.signing_keys_secret = secretsmanager.Secret(
            self,
            "SigningKeys",
            secret_name=config.physical_name(resources.SIGNING_KEYS_SECRET),
            description="Private EdDSA keys signing the access tokens (written by key rotation)",
        )
        acknowledge(
            self.signing_keys_secret,
            "AwsSolutions-SMG4",
            "Rotated by our own key-rotation function every 30 days (an EventBridge schedule), "
            "not by Secrets Manager rotation: a rotation also republishes the JWKS parameter and "
            "keeps the previous keys until the tokens they signed expire.",
        )
        # Only the initial value is CloudFormation's: the rotation function
        # overwrites it, and the template never changes it again.
        self.jwks_parameter = ssm.StringParameter(
            self,
            "Jwks",
            parameter_name=config.physical_name(resources.JWKS_PARAMETER),
            string_value=json.dumps({"keys": []}),
            description="Public JWKS of the access-token signing keys (written by key rotation)",
        )

    def _table(
        self, definition: resources.Table, config: StageConfig, removal_policy: RemovalPolicy
    ) -> dynamodb.Table:
        def string_key(name: str | None) -> dynamodb.Attribute | None:
            return (
                dynamodb.Attribute(name=name, type=dynamodb.AttributeType.STRING) if name else None
            )

        table = dynamodb.Table(
            self,
            f"Table-{definition.name}",
            table_name=config.physical_name(definition.name),
            partition_key=string_key(definition.partition_key),
            sort_key=string_key(definition.sort_key),
            billing_mode=dynamodb.BillingMode.PAY_PER_REQUEST,
            encryption=dynamodb.TableEncryption.AWS_MANAGED,
            point_in_time_recovery_specification=dynamodb.PointInTimeRecoverySpecification(
                point_in_time_recovery_enabled=True
            ),
            time_to_live_attribute=definition.ttl_attribute,
            deletion_protection=config.deletion_protection,
            removal_policy=removal_policy,
        )
        for index in definition.global_indexes:
            table.add_global_secondary_index(
                index_name=index.name,
                partition_key=string_key(index.partition_key),
                sort_key=string_key(index.sort_key),
            )
        return table

    def _photos_bucket(self, removal_policy: RemovalPolicy) -> s3.Bucket:
        access_logs = s3.Bucket(
            self,
            "AccessLogs",
            # Server access log delivery supports SSE-S3 only.
            encryption=s3.BucketEncryption.S3_MANAGED,
            block_public_access=s3.BlockPublicAccess.BLOCK_ALL,
            enforce_ssl=True,
            lifecycle_rules=[s3.LifecycleRule(expiration=Duration.days(365))],
            removal_policy=removal_policy,
        )
        acknowledge(
            access_logs,
            "AwsSolutions-S1",
            "This is the server access log bucket; logging it into itself would loop.",
        )
        return s3.Bucket(
            self,
            "Photos",
            bucket_name=self.photos_bucket_name,
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
                s3.LifecycleRule(
                    noncurrent_version_expiration=NONCURRENT_PHOTO_RETENTION,
                    abort_incomplete_multipart_upload_after=Duration.days(1),
                    expired_object_delete_marker=True,
                ),
            ],
            removal_policy=removal_policy,
        )
