"""DynamoDB access for focus pools: pools, presence, the per-user lock, connections, focus history.

Layout (see README): the pools table keeps one partition per pool
("#META", "M#<user>", "X#<user>") and the user locks; every change a client
must see goes through :meth:`PoolStore.sequenced`, a transaction that bumps
the pool's sequence number from n-1 to n together with the change itself, so
sequence numbers are dense, ordered and never given to a change that did not
happen.
"""

from __future__ import annotations

import random
import time
from dataclasses import dataclass
from decimal import Decimal
from typing import Any, cast, overload

from boto3.dynamodb.types import TypeDeserializer, TypeSerializer

from cheese_runtime import aws
from cheese_runtime.settings import Settings
from functions.pool.members import MemberItem

META = "#META"
LOCK_SK = "#POOL"
LIVE_SHARDS = 4
AGE_SHARDS = 4

_serializer = TypeSerializer()
_deserializer = TypeDeserializer()


def _plain(value: Any) -> Any:
    if isinstance(value, float):
        return Decimal(repr(round(value, 3)))
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    return value


def ser(value: Any) -> dict[str, Any]:
    # The attribute-value shape ({"S": ...}, {"N": ...}); the stubs type it as a private TypedDict.
    return cast("dict[str, Any]", _serializer.serialize(_plain(value)))


def ser_map(values: dict[str, Any]) -> dict[str, Any]:
    return {k: ser(v) for k, v in values.items() if v is not None}


def _native(value: Any) -> Any:
    if isinstance(value, Decimal):
        return int(value) if value == value.to_integral_value() else float(value)
    if isinstance(value, dict):
        return {k: _native(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_native(v) for v in value]
    if isinstance(value, set):
        return {_native(v) for v in value}
    return value


@overload
def de(item: dict[str, Any]) -> dict[str, Any]: ...
@overload
def de(item: None) -> None: ...
def de(item: dict[str, Any] | None) -> dict[str, Any] | None:
    if item is None:
        return None
    return {k: _native(_deserializer.deserialize(v)) for k, v in item.items()}


def member_item(item: dict[str, Any]) -> MemberItem:
    """A member item as read: what ``MemberItem`` names is what the writes store."""
    return cast(MemberItem, item)


def pool_pk(pool_id: str) -> str:
    return f"POOL#{pool_id}"


def member_sk(user_id: str) -> str:
    return f"M#{user_id}"


def grant_sk(user_id: str) -> str:
    return f"X#{user_id}"


def lock_key(user_id: str) -> dict[str, Any]:
    return {"pk": {"S": f"USER#{user_id}"}, "sk": {"S": LOCK_SK}}


def live_shard(pool_id: str) -> str:
    return f"LIVE#{sum(pool_id.encode()) % LIVE_SHARDS}"


class StoreError(Exception):
    pass


class PoolMissing(StoreError):
    pass


@dataclass
class OpFailed(StoreError):
    """A condition of one of the change's items failed; ``item`` is that item's current state."""

    index: int
    item: dict[str, Any] | None


@dataclass
class MetaConditionFailed(StoreError):
    meta: dict[str, Any]


class Busy(StoreError):
    pass


@dataclass
class Op:
    """One item of a transaction, in TransactWriteItems form without the table name."""

    kind: str  # Put | Update | Delete | ConditionCheck
    table: str
    body: dict[str, Any]

    def item(self) -> dict[str, Any]:
        return {
            self.kind: {
                "TableName": self.table,
                **self.body,
                "ReturnValuesOnConditionCheckFailure": "ALL_OLD",
            }
        }


def update_op(
    table: str,
    key: dict[str, Any],
    expression: str,
    values: dict[str, Any] | None = None,
    condition: str | None = None,
    names: dict[str, str] | None = None,
) -> Op:
    body: dict[str, Any] = {"Key": key, "UpdateExpression": expression}
    if values:
        body["ExpressionAttributeValues"] = ser_map(values)
    if condition:
        body["ConditionExpression"] = condition
    if names:
        body["ExpressionAttributeNames"] = names
    return Op("Update", table, body)


def put_op(
    table: str,
    item: dict[str, Any],
    condition: str | None = None,
    values: dict[str, Any] | None = None,
) -> Op:
    body: dict[str, Any] = {"Item": ser_map(item)}
    if condition:
        body["ConditionExpression"] = condition
    if values:
        body["ExpressionAttributeValues"] = ser_map(values)
    return Op("Put", table, body)


def delete_op(
    table: str,
    key: dict[str, Any],
    condition: str | None = None,
    values: dict[str, Any] | None = None,
) -> Op:
    body: dict[str, Any] = {"Key": key}
    if condition:
        body["ConditionExpression"] = condition
    if values:
        body["ExpressionAttributeValues"] = ser_map(values)
    return Op("Delete", table, body)


class PoolStore:
    def __init__(self, settings: Settings) -> None:
        self.pools = settings.pools_table
        self.connections = settings.pool_connections_table
        self.focus = settings.focus_table

    @property
    def db(self) -> Any:
        return aws.client("dynamodb")

    # --- keys -------------------------------------------------------------
    @staticmethod
    def key(pk: str, sk: str) -> dict[str, Any]:
        return {"pk": {"S": pk}, "sk": {"S": sk}}

    def meta_key(self, pool_id: str) -> dict[str, Any]:
        return self.key(pool_pk(pool_id), META)

    def member_key(self, pool_id: str, user_id: str) -> dict[str, Any]:
        return self.key(pool_pk(pool_id), member_sk(user_id))

    # --- reads --------------------------------------------------------------
    def get(
        self, table: str, key: dict[str, Any], consistent: bool = True
    ) -> dict[str, Any] | None:
        item: dict[str, Any] | None = self.db.get_item(
            TableName=table, Key=key, ConsistentRead=consistent
        ).get("Item")
        return de(item)

    def meta(self, pool_id: str, consistent: bool = True) -> dict[str, Any] | None:
        return self.get(self.pools, self.meta_key(pool_id), consistent)

    def member(self, pool_id: str, user_id: str) -> MemberItem | None:
        item = self.get(self.pools, self.member_key(pool_id, user_id))
        return None if item is None else member_item(item)

    def grant(self, pool_id: str, user_id: str) -> dict[str, Any] | None:
        return self.get(self.pools, self.key(pool_pk(pool_id), grant_sk(user_id)))

    def lock(self, user_id: str) -> dict[str, Any] | None:
        return self.get(self.pools, lock_key(user_id))

    def partition(
        self,
        pool_id: str,
        consistent: bool = False,
        fields: tuple[str, ...] | None = None,
    ) -> tuple[dict[str, Any] | None, list[MemberItem]]:
        """The pool's meta item and its members in one Query (no grants: they sort after "M#").

        ``fields`` projects the attributes a fan-out needs (smaller reads).
        """
        items: list[dict[str, Any]] = []
        kwargs: dict[str, Any] = {
            "TableName": self.pools,
            "ConsistentRead": consistent,
            "KeyConditionExpression": "#pk = :pk AND #sk < :end",
            "ExpressionAttributeNames": {"#pk": "pk", "#sk": "sk"},
            "ExpressionAttributeValues": {":pk": {"S": pool_pk(pool_id)}, ":end": {"S": "N"}},
        }
        if fields:
            names = {f"#f{i}": name for i, name in enumerate(fields) if name not in ("pk", "sk")}
            kwargs["ExpressionAttributeNames"].update(names)
            kwargs["ProjectionExpression"] = ", ".join(["#pk", "#sk", *names])
        while True:
            page = self.db.query(**kwargs)
            items.extend(de(i) for i in page.get("Items", []))
            if "LastEvaluatedKey" not in page:
                break
            kwargs["ExclusiveStartKey"] = page["LastEvaluatedKey"]
        meta = next((i for i in items if i["sk"] == META), None)
        return meta, [member_item(i) for i in items if i["sk"].startswith("M#")]

    # --- writes -------------------------------------------------------------
    def sequenced(
        self,
        pool_id: str,
        ops: list[Op],
        *,
        meta_set: str = "",
        meta_values: dict[str, Any] | None = None,
        meta_condition: str | None = None,
        attempts: int = 12,
    ) -> int:
        """Apply ``ops`` atomically with the pool's sequence going n-1 → n; return n.

        Raises :class:`OpFailed` when one of ``ops``' own conditions fails (the
        change is not possible in the current state), :class:`MetaConditionFailed`
        when ``meta_condition`` does (e.g. the pool is full) and :class:`Busy`
        when other changes kept winning the race.
        """
        for attempt in range(attempts):
            meta = self.meta(pool_id)
            if meta is None:
                raise PoolMissing(pool_id)
            n = int(meta.get("seq", 0)) + 1
            expression = "SET seq = :seq_n" + (f", {meta_set}" if meta_set else "")
            condition = "seq = :seq_prev" + (f" AND ({meta_condition})" if meta_condition else "")
            names = {"#cap": "capacity"} if "#cap" in condition else None
            meta_op = update_op(
                self.pools,
                self.meta_key(pool_id),
                expression,
                {":seq_n": n, ":seq_prev": n - 1, **(meta_values or {})},
                condition,
                names,
            )
            try:
                self.db.transact_write_items(
                    TransactItems=[meta_op.item()] + [op.item() for op in ops]
                )
                return n
            except self.db.exceptions.TransactionCanceledException as exc:
                reasons = exc.response.get("CancellationReasons") or []
                codes = [r.get("Code") for r in reasons]
                for index, reason in enumerate(reasons[1:]):
                    if reason.get("Code") == "ConditionalCheckFailed":
                        raise OpFailed(index, de(reason.get("Item"))) from None
                if codes and codes[0] == "ConditionalCheckFailed":
                    current = de(reasons[0].get("Item")) or {}
                    if int(current.get("seq", -1)) == n - 1 and meta_condition:
                        raise MetaConditionFailed(current) from None
                # Lost the race for n (or a transaction conflict): back off and retry.
                time.sleep(random.uniform(0, 0.004 * (2 ** min(attempt, 5))))
        raise Busy(pool_id)
