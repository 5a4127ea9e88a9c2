"""Durable SQS queues and DynamoDB tables for moto: a write-ahead journal in the data directory.

moto keeps everything in memory. The local stack keeps SQS and DynamoDB in
moto (DynamoDB because pools need TransactWriteItems, which no persistent
local DynamoDB server we can install implements) and makes both survive a
``kill -9`` with this journal: every write moto acknowledges is first
recorded in a SQLite file (WAL, one transaction per write, committed before
moto answers), and ``restore()`` puts it all back into a fresh moto at start.

- SQS: one row per message in a queue (sent, moved to a DLQ: the same row
  with the new queue), removed when the message is deleted or its queue
  purged. Messages in flight at the crash come back visible, as they would
  after their visibility timeout: delivery stays at least once.
- DynamoDB: the post-image of every item a successful write touched
  (PutItem, UpdateItem, DeleteItem, each item of BatchWriteItem, a whole
  TransactWriteItems in one SQLite transaction), or its absence.

A process crash loses nothing acknowledged: SQLite commits reach the
operating system before moto answers (``synchronous=NORMAL``); a power cut may
lose the last commits, as it may for the SQLite database beside it.
"""

from __future__ import annotations

import base64
import functools
import json
import sqlite3
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

SCHEMA = """
CREATE TABLE IF NOT EXISTS sqs_messages (
    message_id TEXT PRIMARY KEY,
    queue TEXT NOT NULL,
    body TEXT NOT NULL,
    message_attributes TEXT NOT NULL,
    system_attributes TEXT NOT NULL,
    seq INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS dynamodb_items (
    table_name TEXT NOT NULL,
    item_key TEXT NOT NULL,
    item TEXT NOT NULL,
    PRIMARY KEY (table_name, item_key)
);
"""

Method = Callable[..., Any]
Args = tuple[Any, ...]
Kwargs = dict[str, Any]
Item = dict[str, Any]

_active: MotoJournal | None = None
_in_transaction = threading.local()


class MotoJournal:
    def __init__(self, path: Path) -> None:
        self.path = path
        self._lock = threading.Lock()
        self._db = sqlite3.connect(path, check_same_thread=False, isolation_level=None)
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute("PRAGMA synchronous=NORMAL")
        self._db.executescript(SCHEMA)
        self._seq = self._db.execute("SELECT coalesce(max(seq), 0) FROM sqs_messages").fetchone()[0]

    def activate(self) -> None:
        """Journal every write of this process's moto from now on."""
        global _active
        _patch_sqs()
        _patch_dynamodb()
        _active = self

    def close(self) -> None:
        global _active
        if _active is self:
            _active = None
        with self._lock:
            self._db.close()

    def _write(self, statements: list[tuple[str, tuple[Any, ...]]]) -> None:
        with self._lock:
            self._db.execute("BEGIN IMMEDIATE")
            try:
                for sql, params in statements:
                    self._db.execute(sql, params)
            except BaseException:
                self._db.execute("ROLLBACK")
                raise
            self._db.execute("COMMIT")

    # --- SQS ------------------------------------------------------------------------
    def message_added(self, queue: str, message: Any) -> None:
        with self._lock:
            self._seq += 1
            seq = self._seq
        self._write(
            [
                (
                    (
                        "INSERT INTO sqs_messages VALUES (?, ?, ?, ?, ?, ?) "
                        "ON CONFLICT (message_id) DO UPDATE SET queue = excluded.queue"
                    ),
                    (
                        message.id,
                        queue,
                        message.body,
                        json.dumps(message.message_attributes, default=str),
                        json.dumps(message.system_attributes or {}, default=str),
                        seq,
                    ),
                )
            ]
        )

    def messages_removed(self, message_ids: list[str]) -> None:
        self._write([("DELETE FROM sqs_messages WHERE message_id = ?", (m,)) for m in message_ids])

    def queue_emptied(self, queue: str) -> None:
        self._write([("DELETE FROM sqs_messages WHERE queue = ?", (queue,))])

    # --- DynamoDB -------------------------------------------------------------------
    def items_written(
        self, images: list[tuple[str, dict[str, Any], dict[str, Any] | None]]
    ) -> None:
        """(table, key attributes, the item as stored now or None when it is gone)."""
        statements: list[tuple[str, tuple[Any, ...]]] = []
        for table, key, item in images:
            item_key = json.dumps(key, sort_keys=True)
            if item is None:
                statements.append(
                    (
                        "DELETE FROM dynamodb_items WHERE table_name = ? AND item_key = ?",
                        (table, item_key),
                    )
                )
            else:
                statements.append(
                    (
                        (
                            "INSERT INTO dynamodb_items VALUES (?, ?, ?) ON CONFLICT "
                            "(table_name, item_key) DO UPDATE SET item = excluded.item"
                        ),
                        (table, item_key, json.dumps(item, default=_encode_binary)),
                    )
                )
        if statements:
            self._write(statements)

    # --- start-up -------------------------------------------------------------------
    def restore(self, account_id: str, region: str) -> dict[str, int]:
        """Put every journaled message and item back into this process's (empty) moto.

        Call after the queues and tables exist and before anything consumes them.
        Returns how many messages and items came back.
        """
        from moto.dynamodb.models import dynamodb_backends
        from moto.sqs.models import Message, sqs_backends

        sqs = sqs_backends[account_id][region]
        with self._lock:
            rows = self._db.execute(
                "SELECT message_id, queue, body, message_attributes, system_attributes "
                "FROM sqs_messages ORDER BY seq"
            ).fetchall()
            items = self._db.execute(
                "SELECT table_name, item FROM dynamodb_items ORDER BY rowid"
            ).fetchall()
        restored_messages = 0
        for message_id, queue_name, body, attributes, system_attributes in rows:
            queue = sqs.queues.get(queue_name)
            if queue is None:  # a queue resources.py no longer declares
                continue
            message = Message(message_id, body, json.loads(system_attributes))
            message.message_attributes = json.loads(attributes)
            message.mark_sent(delay_seconds=0)
            with queue._messages_lock:
                queue._messages.append(message)
                queue._messages_lock.notify_all()
            restored_messages += 1
        dynamodb = dynamodb_backends[account_id][region]
        restored_items = 0
        for table_name, item in items:
            table = dynamodb.tables.get(table_name)
            if table is None:
                continue
            table.put_item(json.loads(item, object_hook=_decode_binary))
            restored_items += 1
        return {"messages": restored_messages, "items": restored_items}


# Binary attributes ("B", and inside maps and lists) are bytes in moto's items: journaled
# as tagged base64, put back as bytes.
_BINARY_TAG = "__cheese_binary__"


def _encode_binary(value: object) -> object:
    if isinstance(value, bytes | bytearray):
        return {_BINARY_TAG: base64.b64encode(value).decode()}
    raise TypeError(f"cannot journal a {type(value).__name__}")


def _decode_binary(value: dict[str, Any]) -> object:
    if len(value) == 1 and _BINARY_TAG in value:
        return base64.b64decode(value[_BINARY_TAG])
    return value


# --- moto patches (process-wide; they journal only while a journal is active) -----------


def _patch_once(cls: type, name: str, make: Callable[[Method], Method]) -> None:
    original = getattr(cls, name)
    if getattr(original, "_cheese_journaled", False):
        return
    wrapped = functools.wraps(original)(make(original))
    wrapped._cheese_journaled = True  # type: ignore[attr-defined]
    setattr(cls, name, wrapped)


def _patch_sqs() -> None:
    from moto.sqs.models import Queue

    def add_message(original: Method) -> Method:
        def journaled(self: Any, message: Any, *args: Any, **kwargs: Any) -> Any:
            result = original(self, message, *args, **kwargs)
            # A FIFO duplicate within the deduplication window is not added.
            if _active is not None and any(m is message for m in self._messages):
                _active.message_added(self.name, message)
            return result

        return journaled

    def delete_message(original: Method) -> Method:
        def journaled(self: Any, receipt_handle: Any, *args: Any, **kwargs: Any) -> Any:
            gone = [m.id for m in self._messages if m.had_receipt_handle(receipt_handle)]
            result = original(self, receipt_handle, *args, **kwargs)
            if _active is not None and gone:
                _active.messages_removed(gone)
            return result

        return journaled

    _patch_once(Queue, "add_message", add_message)
    _patch_once(Queue, "delete_message", delete_message)

    from moto.sqs.models import SQSBackend

    def purge_or_delete(original: Method) -> Method:
        def journaled(self: Any, queue_name: Any, *args: Any, **kwargs: Any) -> Any:
            result = original(self, queue_name, *args, **kwargs)
            if _active is not None:
                _active.queue_emptied(queue_name)
            return result

        return journaled

    _patch_once(SQSBackend, "purge_queue", purge_or_delete)
    _patch_once(SQSBackend, "delete_queue", purge_or_delete)


def _key_of(table: Any, attributes: dict[str, Any]) -> dict[str, Any]:
    key = {table.hash_key_attr: attributes[table.hash_key_attr]}
    if table.range_key_attr is not None:
        key[table.range_key_attr] = attributes[table.range_key_attr]
    return key


def _image(backend: Any, table_name: str, key: dict[str, Any]) -> tuple[str, Item, Item | None]:
    table = backend.get_table(table_name)
    item = backend.get_item(table.name, key)
    return table.name, key, (item.to_json()["Attributes"] if item is not None else None)


def _patch_dynamodb() -> None:
    from moto.dynamodb.models import DynamoDBBackend

    from cheese_local.stack import DYNAMODB_LOCK

    def single(
        key_of: Callable[[Any, Args, Kwargs], tuple[str, Item]],
    ) -> Callable[[Method], Method]:
        def make(original: Method) -> Method:
            def journaled(self: Any, *args: Any, **kwargs: Any) -> Any:
                with DYNAMODB_LOCK:
                    result = original(self, *args, **kwargs)
                    if _active is not None and not getattr(_in_transaction, "on", False):
                        table_name, key = key_of(self, args, kwargs)
                        _active.items_written([_image(self, table_name, key)])
                    return result

            return journaled

        return make

    def put_key(backend: Any, args: Args, kwargs: Kwargs) -> tuple[str, Item]:
        table_name = args[0] if args else kwargs["table_name"]
        item = args[1] if len(args) > 1 else kwargs["item_attrs"]
        return table_name, _key_of(backend.get_table(table_name), item)

    def key_arg(backend: Any, args: Args, kwargs: Kwargs) -> tuple[str, Item]:
        table_name = args[0] if args else kwargs["table_name"]
        key = args[1] if len(args) > 1 else kwargs["key"]
        return table_name, dict(key)

    _patch_once(DynamoDBBackend, "put_item", single(put_key))
    _patch_once(DynamoDBBackend, "update_item", single(key_arg))
    _patch_once(DynamoDBBackend, "delete_item", single(key_arg))

    def transact(original: Method) -> Method:
        def journaled(self: Any, transact_items: Any, *args: Any, **kwargs: Any) -> Any:
            with DYNAMODB_LOCK:
                _in_transaction.on = True
                try:
                    result = original(self, transact_items, *args, **kwargs)
                finally:
                    _in_transaction.on = False
                if _active is not None:
                    images: list[tuple[str, Item, Item | None]] = []
                    for entry in transact_items:
                        op_type, op = next(iter(entry.items()))
                        if op_type == "ConditionCheck":
                            continue
                        table = self.get_table(op["TableName"])
                        key = _key_of(table, op["Item"]) if op_type == "Put" else dict(op["Key"])
                        images.append(_image(self, table.name, key))
                    _active.items_written(images)
                return result

        return journaled

    _patch_once(DynamoDBBackend, "transact_write_items", transact)
