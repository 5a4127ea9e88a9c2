"""A live stream's engine state between segments, in DynamoDB (``resources.LIVE_STATE_TABLE``).

One item per good segment: the state its anonymisation left (tracker, the live tracks'
identity votes), zlib-compressed JSON, keyed ``pk`` = user, ``sk`` = ``<stream>#<sequence>``
(zero-padded, so keys sort by sequence). The worker holds the stream's row lock while it
reads and writes here, so one writer per stream; the ordering lives in the database
(``next_sequence``), this table only answers "the state after the last good segment
before N":

- a segment's item is written *before* the database commits the segment done: a commit
  that fails leaves an item the redo overwrites with the same state;
- a failed segment writes nothing, so the next one continues from the last good one;
- once a segment is committed, the items before it are not needed again and are deleted
  (best effort: the TTL removes what a crash leaves);
- a leaving user's partition is deleted whole (erasure).

The worker stores only the tracks the tracker still follows (``EngineState.live_only``):
a track that ended can never continue, and keeping every track a long stream has seen
would grow the item past DynamoDB's 400 KB. States are plain JSON-able mappings here
(``EngineState.to_dict``), so erasure needs no ML layer.
"""

from __future__ import annotations

import json
import time
import zlib
from typing import Any

from cheese_runtime import aws
from cheese_runtime.settings import get_settings

# Each good segment writes a fresh item, so only a stream paused this long loses its state
# (its next segment then starts tracking afresh: everyone hidden until recognised again).
# A stream holds 24 hours of segments at most (storage.MAX_LIVE_SEGMENTS).
STATE_TTL_SECONDS = 2 * 24 * 3600
_SEQUENCE_DIGITS = 10


def _sort_key(stream_id: str, sequence: int) -> str:
    return f"{stream_id}#{sequence:0{_SEQUENCE_DIGITS}d}"


class LiveStateStore:
    def __init__(self, client: Any | None = None, table: str | None = None) -> None:
        self.db = client if client is not None else aws.client("dynamodb")
        self.table = table or get_settings().live_state_table

    def latest_before(self, user_id: str, stream_id: str, sequence: int) -> dict[str, Any] | None:
        """The state after the last good segment before `sequence` (None: start afresh)."""
        if sequence <= 0:
            return None
        items = self.db.query(
            TableName=self.table,
            KeyConditionExpression="pk = :pk AND sk BETWEEN :first AND :last",
            ExpressionAttributeValues={
                ":pk": {"S": user_id},
                ":first": {"S": _sort_key(stream_id, 0)},
                ":last": {"S": _sort_key(stream_id, sequence - 1)},
            },
            ScanIndexForward=False,
            Limit=1,
            ConsistentRead=True,
        )["Items"]
        if not items:
            return None
        state: dict[str, Any] = json.loads(zlib.decompress(items[0]["state"]["B"]))
        return state

    def save(self, user_id: str, stream_id: str, sequence: int, state: dict[str, Any]) -> int:
        """Store the state segment `sequence` left; returns the item's size in bytes."""
        blob = zlib.compress(json.dumps(state, separators=(",", ":")).encode(), 6)
        self.db.put_item(
            TableName=self.table,
            Item={
                "pk": {"S": user_id},
                "sk": {"S": _sort_key(stream_id, sequence)},
                "state": {"B": blob},
                "expires_at": {"N": str(int(time.time()) + STATE_TTL_SECONDS)},
            },
        )
        return len(blob)

    def forget_before(self, user_id: str, stream_id: str, sequence: int) -> int:
        """Delete the stream's items before `sequence` (superseded); returns how many."""
        if sequence <= 0:
            return 0
        return self._delete(
            "pk = :pk AND sk BETWEEN :first AND :last",
            {
                ":pk": {"S": user_id},
                ":first": {"S": _sort_key(stream_id, 0)},
                ":last": {"S": _sort_key(stream_id, sequence - 1)},
            },
        )

    def erase_user(self, user_id: str) -> int:
        """Delete every stream state of the user; returns how many items."""
        return self._delete("pk = :pk", {":pk": {"S": user_id}})

    def _delete(self, condition: str, values: dict[str, Any]) -> int:
        deleted = 0
        paginator = self.db.get_paginator("query")
        for page in paginator.paginate(
            TableName=self.table,
            KeyConditionExpression=condition,
            ExpressionAttributeValues=values,
            ProjectionExpression="pk, sk",
            ConsistentRead=True,
        ):
            for item in page["Items"]:
                self.db.delete_item(TableName=self.table, Key={"pk": item["pk"], "sk": item["sk"]})
                deleted += 1
        return deleted
