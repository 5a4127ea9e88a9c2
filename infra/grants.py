"""What each grant name a function declares (``resources`` ``grants``) gives it.

A grant is the least privilege for one dependency plus the ``CHEESE_*``
variable that tells the function where that dependency is; "database" also
places the function in the VPC.
"""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from aws_cdk import aws_lambda as lambda_
from cheese_runtime import resources

from infra.nag import acknowledge
from infra.settings_env import setting_env
from infra.stacks.data import DataStack

# Item-level access only: no Scan, no table management.
TABLE_ITEM_ACTIONS = ("dynamodb:GetItem", "dynamodb:PutItem", "dynamodb:UpdateItem", "dynamodb:DeleteItem",
                      "dynamodb:Query")


@dataclass(frozen=True)
class Grant:
    apply: Callable[[lambda_.Function, DataStack], None]
    in_vpc: bool = False


def _database(function: lambda_.Function, data: DataStack) -> None:
    data.database.grant_connect(function)


def _table(setting: str) -> Grant:
    def apply(function: lambda_.Function, data: DataStack) -> None:
        table = data.tables[setting]
        table.grant(function, *TABLE_ITEM_ACTIONS)
        function.add_environment(setting_env(setting), table.table_name)

    return Grant(apply)


def _event_bus(function: lambda_.Function, data: DataStack) -> None:
    data.event_bus.grant_put_events_to(function)
    function.add_environment(setting_env("event_bus_name"), data.event_bus.event_bus_name)


def _signing_keys_read(function: lambda_.Function, data: DataStack) -> None:
    data.signing_keys_secret.grant_read(function)
    function.add_environment(setting_env("signing_keys_secret"), data.signing_keys_secret.secret_arn)


def _signing_keys_write(function: lambda_.Function, data: DataStack) -> None:
    # The rotation reads the current key set before adding a key to it.
    _signing_keys_read(function, data)
    data.signing_keys_secret.grant_write(function)


def _jwks(function: lambda_.Function, data: DataStack) -> None:
    data.jwks_parameter.grant_read(function)
    function.add_environment(setting_env("jwks_parameter"), data.jwks_parameter.parameter_name)


def _jwks_write(function: lambda_.Function, data: DataStack) -> None:
    data.jwks_parameter.grant_write(function)
    function.add_environment(setting_env("jwks_parameter"), data.jwks_parameter.parameter_name)


def _photos_bucket(function: lambda_.Function, data: DataStack) -> None:
    data.photos_bucket.grant_read_write(function)
    function.add_environment(setting_env("photos_bucket"), data.photos_bucket.bucket_name)
    assert function.role is not None
    bucket = data.photos_bucket.node.default_child
    bucket_arn = f"Resource::<{data.stack.get_logical_id(bucket)}.Arn>/*"  # type: ignore[arg-type]
    for finding in ("Action::s3:GetObject*", "Action::s3:GetBucket*", "Action::s3:List*",
                    "Action::s3:DeleteObject*", "Action::s3:Abort*", bucket_arn):
        acknowledge(function.role, f"AwsSolutions-IAM5[{finding}]",
                    "Object-level access to the photos bucket: object keys are per user and per photo, "
                    "so the resource is the bucket's objects, and the s3:*Object* action families are "
                    "what CDK's read/write grant names.")


GRANTS: dict[str, Grant] = {
    **{table.setting: _table(table.setting) for table in resources.TABLES if table.setting},
    "database": Grant(_database, in_vpc=True),
    "event_bus": Grant(_event_bus),
    "signing_keys_read": Grant(_signing_keys_read),
    "signing_keys_write": Grant(_signing_keys_write),
    "jwks": Grant(_jwks),
    "jwks_write": Grant(_jwks_write),
    "photos_bucket": Grant(_photos_bucket),
}
