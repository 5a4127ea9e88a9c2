"""The journal that keeps moto's SQS messages and DynamoDB items across a crash."""

from __future__ import annotations

import contextlib
import uuid
from pathlib import Path
from typing import Any

import boto3

from cheese_local.journal import MotoJournal

# A second moto account in this process plays the freshly started stack after the crash.
RESTARTED_ACCOUNT = "111122223333"


def test_acknowledged_messages_and_items_come_back_in_a_fresh_moto(
    backend: Any, tmp_path: Path
) -> None:
    from moto.dynamodb.models import dynamodb_backends
    from moto.sqs.models import sqs_backends

    sqs, dynamodb = boto3.client("sqs"), boto3.client("dynamodb")
    queue, source, dlq, table = (
        f"journal-{n}-{uuid.uuid4().hex[:8]}" for n in ("q", "src", "dlq", "t")
    )
    dlq_url = sqs.create_queue(QueueName=dlq)["QueueUrl"]
    dlq_arn = sqs.get_queue_attributes(QueueUrl=dlq_url, AttributeNames=["QueueArn"])["Attributes"][
        "QueueArn"
    ]
    queue_url = sqs.create_queue(QueueName=queue)["QueueUrl"]
    source_url = sqs.create_queue(
        QueueName=source,
        Attributes={
            "RedrivePolicy": f'{{"deadLetterTargetArn": "{dlq_arn}", "maxReceiveCount": 1}}'
        },
    )["QueueUrl"]
    dynamodb.create_table(
        TableName=table,
        KeySchema=[
            {"AttributeName": "pk", "KeyType": "HASH"},
            {"AttributeName": "sk", "KeyType": "RANGE"},
        ],
        AttributeDefinitions=[
            {"AttributeName": "pk", "AttributeType": "S"},
            {"AttributeName": "sk", "AttributeType": "S"},
        ],
        BillingMode="PAY_PER_REQUEST",
    )

    journal = MotoJournal(tmp_path / "journal.sqlite3")
    journal.activate()
    try:
        for body in ("kept", "deleted", "in flight"):
            sqs.send_message(QueueUrl=queue_url, MessageBody=body)
        received = {
            m["Body"]: m["ReceiptHandle"]
            for m in sqs.receive_message(
                QueueUrl=queue_url, MaxNumberOfMessages=10, VisibilityTimeout=30
            )["Messages"]
        }
        assert set(received) == {"kept", "deleted", "in flight"}
        sqs.delete_message(QueueUrl=queue_url, ReceiptHandle=received["deleted"])
        sqs.send_message(QueueUrl=source_url, MessageBody="poison")
        sqs.receive_message(QueueUrl=source_url, VisibilityTimeout=0)
        # Received once already (maxReceiveCount 1): the next receive moves it to the DLQ.
        sqs.receive_message(QueueUrl=source_url, VisibilityTimeout=0)

        def key(pk: str, sk: str = "#") -> dict[str, Any]:
            return {"pk": {"S": pk}, "sk": {"S": sk}}

        dynamodb.put_item(TableName=table, Item={**key("a"), "v": {"N": "1"}})
        dynamodb.update_item(
            TableName=table,
            Key=key("a"),
            UpdateExpression="SET v = v + :one",
            ExpressionAttributeValues={":one": {"N": "1"}},
        )
        dynamodb.put_item(TableName=table, Item={**key("gone"), "v": {"N": "1"}})
        dynamodb.delete_item(TableName=table, Key=key("gone"))
        dynamodb.transact_write_items(
            TransactItems=[
                {"Put": {"TableName": table, "Item": {**key("t", "1"), "v": {"S": "x"}}}},
                {"Put": {"TableName": table, "Item": {**key("t", "2"), "v": {"S": "y"}}}},
            ]
        )
        # A cancelled transaction leaves nothing behind, in moto or in the journal.
        with contextlib.suppress(dynamodb.exceptions.TransactionCanceledException):
            dynamodb.transact_write_items(
                TransactItems=[
                    {"Put": {"TableName": table, "Item": {**key("t", "3"), "v": {"S": "z"}}}},
                    {
                        "Put": {
                            "TableName": table,
                            "Item": key("a"),
                            "ConditionExpression": "attribute_not_exists(pk)",
                        }
                    },
                ]
            )
        dynamodb.batch_write_item(
            RequestItems={table: [{"PutRequest": {"Item": {**key("b"), "v": {"S": "batch"}}}}]}
        )
        # Binary attributes (the live engine state is zlib bytes), alone and inside a map.
        blob = bytes(range(256))
        dynamodb.put_item(
            TableName=table,
            Item={**key("bin"), "v": {"B": blob}, "m": {"M": {"inner": {"B": blob[:3]}}}},
        )
    finally:
        journal.close()

    # The restarted stack: the same queues and tables, empty, in another moto account.
    fresh_sqs = sqs_backends[RESTARTED_ACCOUNT]["us-east-1"]
    fresh_sqs.create_queue(dlq)
    fresh_sqs.create_queue(queue)
    fresh_sqs.create_queue(source)
    fresh_dynamodb = dynamodb_backends[RESTARTED_ACCOUNT]["us-east-1"]
    fresh_dynamodb.create_table(
        table,
        schema=[
            {"AttributeName": "pk", "KeyType": "HASH"},
            {"AttributeName": "sk", "KeyType": "RANGE"},
        ],
        throughput=None,
        attr=[
            {"AttributeName": "pk", "AttributeType": "S"},
            {"AttributeName": "sk", "AttributeType": "S"},
        ],
        global_indexes=None,
        indexes=None,
        streams=None,
        billing_mode="PAY_PER_REQUEST",
        sse_specification=None,
        tags=None,
        deletion_protection_enabled=False,
        warm_throughput=None,
    )
    MotoJournal(tmp_path / "journal.sqlite3").restore(RESTARTED_ACCOUNT, "us-east-1")

    queued = sorted(m.body for m in fresh_sqs.queues[queue]._messages)
    assert queued == ["in flight", "kept"]
    assert [m.body for m in fresh_sqs.queues[dlq]._messages] == ["poison"]
    assert fresh_sqs.queues[source]._messages == []
    items = {
        (i.attrs["pk"].value, i.attrs["sk"].value): i.to_json()["Attributes"]["v"]
        for i in fresh_dynamodb.tables[table].all_items()
    }
    assert items == {
        ("a", "#"): {"N": "2"},
        ("t", "1"): {"S": "x"},
        ("t", "2"): {"S": "y"},
        ("b", "#"): {"S": "batch"},
        ("bin", "#"): {"B": bytes(range(256))},
    }
    restored = fresh_dynamodb.get_item(table, key("bin"))
    assert restored is not None
    assert restored.to_regular_json()["m"] == {"inner": bytes(range(3))}
