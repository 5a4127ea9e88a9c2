"""Create the AWS resources of ``cheese_runtime.resources`` locally, as the CDK stack does in AWS,
and the local stack's demo data (never created in AWS)."""

from __future__ import annotations

import contextlib
import json
import os
from pathlib import Path
from typing import Any

from cheese_runtime import aws, resources
from cheese_runtime.auth.keys import KeySet
from cheese_runtime.settings import Settings
from functions.auth.rotation import publish_key_set


def create_tables() -> None:
    dynamodb = aws.client("dynamodb")
    existing = set(dynamodb.list_tables()["TableNames"])
    for table in resources.TABLES:
        if table.name in existing:
            continue
        keys = [(table.partition_key, "HASH")] + (
            [(table.sort_key, "RANGE")] if table.sort_key else []
        )
        attributes = {name for name, _ in keys}
        gsis = []
        for index in table.global_indexes:
            index_keys = [(index.partition_key, "HASH")] + (
                [(index.sort_key, "RANGE")] if index.sort_key else []
            )
            attributes |= {name for name, _ in index_keys}
            gsis.append(
                {
                    "IndexName": index.name,
                    "KeySchema": [{"AttributeName": n, "KeyType": t} for n, t in index_keys],
                    "Projection": {"ProjectionType": "ALL"},
                }
            )
        kwargs = {"GlobalSecondaryIndexes": gsis} if gsis else {}
        dynamodb.create_table(
            TableName=table.name,
            KeySchema=[{"AttributeName": n, "KeyType": t} for n, t in keys],
            AttributeDefinitions=[
                {"AttributeName": n, "AttributeType": "S"} for n in sorted(attributes)
            ],
            BillingMode="PAY_PER_REQUEST",
            **kwargs,
        )
        if table.ttl_attribute:
            dynamodb.update_time_to_live(
                TableName=table.name,
                TimeToLiveSpecification={"Enabled": True, "AttributeName": table.ttl_attribute},
            )


def create_queue(queue: resources.Queue) -> tuple[str, str]:
    """Create a queue with its DLQ; return (url, arn)."""
    sqs = aws.client("sqs")
    dlq_url = sqs.create_queue(QueueName=queue.dead_letter_name)["QueueUrl"]
    dlq_arn = sqs.get_queue_attributes(QueueUrl=dlq_url, AttributeNames=["QueueArn"])["Attributes"][
        "QueueArn"
    ]
    url = sqs.create_queue(
        QueueName=queue.name,
        Attributes={
            "VisibilityTimeout": str(queue.visibility_timeout_seconds),
            "RedrivePolicy": json.dumps(
                {"deadLetterTargetArn": dlq_arn, "maxReceiveCount": queue.max_receive_count}
            ),
        },
    )["QueueUrl"]
    arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"][
        "QueueArn"
    ]
    return url, arn


def create_event_routing(settings: Settings) -> dict[str, tuple[str, str]]:
    """The bus, and one rule → queue per subscription; returns consumer → (queue url, arn)."""
    events = aws.client("events")
    if settings.event_bus_name not in {b["Name"] for b in events.list_event_buses()["EventBuses"]}:
        events.create_event_bus(Name=settings.event_bus_name)
    queues = {}
    for sub in resources.EVENT_SUBSCRIPTIONS:
        url, arn = create_queue(resources.subscription_queue(sub))
        rule = f"cheese-{sub.consumer}"
        # AWS services (Transcribe) send to the account's default bus, as in the CDK app.
        bus = "default" if sub.on_default_bus else settings.event_bus_name
        events.put_rule(
            Name=rule,
            EventBusName=bus,
            EventPattern=json.dumps(
                {"source": [sub.source], "detail-type": list(sub.detail_types)}
            ),
        )
        events.put_targets(Rule=rule, EventBusName=bus, Targets=[{"Id": "queue", "Arn": arn}])
        queues[sub.consumer] = (url, arn)
    return queues


def local_key_set(data_dir: Path) -> KeySet:
    """The signing keys generated once into the data directory (owner-only file)."""
    path = data_dir / "keys" / "signing-keys.json"
    if path.exists():
        return KeySet.from_json(path.read_text())
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    key_set = KeySet()
    key_set.rotate(token_lifetime_seconds=0)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as handle:
        handle.write(key_set.to_json())
    return key_set


def create_secrets(settings: Settings) -> None:
    key_set = local_key_set(settings.data_dir)
    secrets = aws.client("secretsmanager")
    with contextlib.suppress(secrets.exceptions.ResourceExistsException):
        secrets.create_secret(Name=settings.signing_keys_secret, SecretString=key_set.to_json())
    publish_key_set(key_set, settings)


def create_bucket_notifications(
    settings: Settings, configure_bucket: bool = True
) -> dict[str, tuple[str, str]]:
    """One queue per ``resources.BUCKET_NOTIFICATIONS`` entry and (``configure_bucket``) the
    buckets' notification configurations (prefix → queue); returns consumer → (queue url, arn).

    The persistent stack's S3 front sends the notifications itself (``s3_front.py``)."""
    queues: dict[str, tuple[str, str]] = {}
    per_bucket: dict[str, list[dict[str, Any]]] = {}
    for notification in resources.BUCKET_NOTIFICATIONS:
        url, arn = create_queue(resources.notification_queue(notification))
        queues[notification.consumer] = (url, arn)
        bucket = getattr(settings, notification.bucket_setting)
        per_bucket.setdefault(bucket, []).append(
            {
                "Id": notification.consumer,
                "QueueArn": arn,
                "Events": list(notification.events),
                "Filter": {
                    "Key": {"FilterRules": [{"Name": "prefix", "Value": notification.prefix}]}
                },
            }
        )
    if not configure_bucket:
        return queues
    s3 = aws.client("s3")
    for bucket, configurations in per_bucket.items():
        s3.put_bucket_notification_configuration(
            Bucket=bucket, NotificationConfiguration={"QueueConfigurations": configurations}
        )
    return queues


def create_bucket(name: str) -> None:
    s3 = aws.client("s3")
    try:
        s3.head_bucket(Bucket=name)
    except s3.exceptions.ClientError:
        s3.create_bucket(Bucket=name)


# A fresh local stack lets a user choose a charity at once; AWS deployments start with none
# (an admin adds them with POST /v1/admin/charities).
DEMO_CHARITIES = (
    ("Open Meadows", "Demo charity of the local stack: keeps wildflower meadows open to everyone."),
    ("Reading Corners", "Demo charity of the local stack: books and reading rooms for children."),
    ("Clean Rivers", "Demo charity of the local stack: river clean-ups with volunteers."),
)


def seed_demo_charities() -> int:
    """Add the demo charities that are missing (by name); returns how many were added."""
    from sqlalchemy import select

    from cheese_runtime.db.session import session_scope
    from functions.smile_rank.models import Charity

    with session_scope() as session:
        existing = set(session.scalars(select(Charity.name)))
        missing = [(n, d) for n, d in DEMO_CHARITIES if n not in existing]
        session.add_all(Charity(name=n, description=d) for n, d in missing)
    return len(missing)


def bootstrap(settings: Settings, s3_notifications: bool = True) -> dict[str, tuple[str, str]]:
    """Every resource; ``s3_notifications=False`` leaves the bucket's notification configuration
    out (the persistent stack's S3 front notifies instead)."""
    create_tables()
    create_secrets(settings)
    create_bucket(settings.photos_bucket)
    queues = create_event_routing(settings)
    queues.update(create_bucket_notifications(settings, configure_bucket=s3_notifications))
    return queues
