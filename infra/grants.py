"""What each grant name a function declares (``resources`` ``grants``) gives it.

A grant is the least privilege for one dependency plus the ``CHEESE_*``
variable that tells the function where that dependency is. "database" also
places the function in the VPC, whose endpoints (and NAT, for "internet")
follow from what the functions placed there declare.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Protocol

from aws_cdk import Stack
from aws_cdk import aws_dynamodb as dynamodb
from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_events as events
from aws_cdk import aws_iam as iam
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_rekognition as rekognition
from aws_cdk import aws_s3 as s3
from aws_cdk import aws_secretsmanager as secretsmanager
from aws_cdk import aws_ssm as ssm

from cheese_runtime import resources
from functions.diary.config import DiarySettings
from infra.components.database import Database
from infra.components.network import Endpoint, Network, VpcNeeds
from infra.components.websocket_api import WebSocketApi
from infra.config import StageConfig
from infra.declarations import FunctionSpec
from infra.nag import acknowledge
from infra.settings_env import setting_env

# Interface endpoints by construct id. Gateway endpoints (S3, DynamoDB) are
# free and always there.
SECRETS_MANAGER = ("SecretsManager", ec2.InterfaceVpcEndpointAwsService.SECRETS_MANAGER)
SSM = ("Ssm", ec2.InterfaceVpcEndpointAwsService.SSM)
EVENTBRIDGE = ("EventBridge", ec2.InterfaceVpcEndpointAwsService.EVENTBRIDGE)
REKOGNITION = ("Rekognition", ec2.InterfaceVpcEndpointAwsService.REKOGNITION)
TRANSCRIBE = ("Transcribe", ec2.InterfaceVpcEndpointAwsService.TRANSCRIBE)

# Item-level access only: no Scan, no table management.
TABLE_ITEM_ACTIONS = (
    "dynamodb:GetItem",
    "dynamodb:PutItem",
    "dynamodb:UpdateItem",
    "dynamodb:DeleteItem",
    "dynamodb:Query",
    "dynamodb:BatchGetItem",
    "dynamodb:BatchWriteItem",
    "dynamodb:ConditionCheckItem",
)


class DataResources(Protocol):
    """What grants point at in the data stack (infra.stacks.data.DataStack provides it).

    A protocol rather than the stack class, so that the stack, which asks
    this module what the VPC needs, and this module do not import each other.
    """

    config: StageConfig
    network: Network
    database: Database
    event_bus: events.EventBus
    signing_keys_secret: secretsmanager.Secret
    jwks_parameter: ssm.StringParameter
    photos_bucket_name: str
    photos_bucket_name_pattern: str
    face_collection: rekognition.CfnCollection | None


@dataclass
class GrantTargets:
    """The resources grants point at."""

    data: DataResources
    # The WebSocket API whose connections "websocket_management" may post to.
    websocket_api: WebSocketApi | None = None


def _no_endpoints(_config: StageConfig) -> tuple[Endpoint, ...]:
    return ()


@dataclass(frozen=True)
class Grant:
    apply: Callable[[lambda_.Function, GrantTargets], None]
    in_vpc: bool = False
    # The interface endpoints a function in the VPC needs to use the grant.
    endpoints: Callable[[StageConfig], tuple[Endpoint, ...]] = _no_endpoints
    # False: no private path from the VPC; a VPC function also needs "internet".
    reachable_from_vpc: bool = True


def _database(function: lambda_.Function, targets: GrantTargets) -> None:
    targets.data.database.grant_connect(function)


def _table(definition: resources.Table) -> Grant:
    assert definition.setting is not None
    setting = definition.setting

    def apply(function: lambda_.Function, targets: GrantTargets) -> None:
        # Referenced by its declared name from the function's stack, so the
        # policy names the table (and the nag finding below is predictable).
        table_name = targets.data.config.physical_name(definition.name)
        table = dynamodb.Table.from_table_attributes(
            function,
            f"{setting}Table",
            table_name=table_name,
            global_indexes=[index.name for index in definition.global_indexes],
        )
        table.grant(function, *TABLE_ITEM_ACTIONS)
        function.add_environment(setting_env(setting), table_name)
        if definition.global_indexes:
            acknowledge(
                function,
                "AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:dynamodb:<AWS::Region>:"
                f"<AWS::AccountId>:table/{table_name}/index/*]",
                f"Queries on the indexes of {table_name}, declared for its access patterns.",
            )

    return Grant(apply)


def _event_bus(function: lambda_.Function, targets: GrantTargets) -> None:
    targets.data.event_bus.grant_put_events_to(function)
    function.add_environment(setting_env("event_bus_name"), targets.data.event_bus.event_bus_name)


def _signing_keys_read(function: lambda_.Function, targets: GrantTargets) -> None:
    targets.data.signing_keys_secret.grant_read(function)
    function.add_environment(
        setting_env("signing_keys_secret"), targets.data.signing_keys_secret.secret_arn
    )


def _signing_keys_write(function: lambda_.Function, targets: GrantTargets) -> None:
    # The rotation reads the current key set before adding a key to it.
    _signing_keys_read(function, targets)
    targets.data.signing_keys_secret.grant_write(function)


def _jwks(function: lambda_.Function, targets: GrantTargets) -> None:
    """What the shared token verifier reads besides the database's revoked sessions:
    the public keys (check_grants makes "jwks" come with "database")."""
    targets.data.jwks_parameter.grant_read(function)
    function.add_environment(
        setting_env("jwks_parameter"), targets.data.jwks_parameter.parameter_name
    )


def _jwks_write(function: lambda_.Function, targets: GrantTargets) -> None:
    targets.data.jwks_parameter.grant_write(function)
    function.add_environment(
        setting_env("jwks_parameter"), targets.data.jwks_parameter.parameter_name
    )


def _photos_bucket(function: lambda_.Function, targets: GrantTargets) -> None:
    bucket = s3.Bucket.from_bucket_name(function, "PhotosBucket", targets.data.photos_bucket_name)
    bucket.grant_read_write(function)
    function.add_environment(setting_env("photos_bucket"), bucket.bucket_name)
    for finding in (
        "Action::s3:GetObject*",
        "Action::s3:GetBucket*",
        "Action::s3:List*",
        "Action::s3:DeleteObject*",
        "Action::s3:Abort*",
        f"Resource::arn:<AWS::Partition>:s3:::{targets.data.photos_bucket_name_pattern}/*",
    ):
        acknowledge(
            function,
            f"AwsSolutions-IAM5[{finding}]",
            "Object-level access to the photos bucket: keys are per user and per photo, so the "
            "resource is the bucket's objects, with CDK's read/write action families.",
        )


# The face-index calls of functions/photos/face_index.py, on one collection.
REKOGNITION_COLLECTION_ACTIONS = (
    "rekognition:IndexFaces",
    "rekognition:SearchFaces",
    "rekognition:CreateUser",
    "rekognition:AssociateFaces",
    "rekognition:DeleteFaces",
    "rekognition:ListFaces",
)


def _rekognition(function: lambda_.Function, targets: GrantTargets) -> None:
    backend = targets.data.config.face_index_backend
    function.add_environment(setting_env("face_index_backend"), backend)
    if backend != "rekognition":
        return  # the local index lives in the database: nothing to grant
    assert targets.data.face_collection is not None
    collection_id = targets.data.face_collection.collection_id
    function.add_environment(setting_env("rekognition_collection_id"), collection_id)
    function.add_to_role_policy(
        iam.PolicyStatement(
            actions=list(REKOGNITION_COLLECTION_ACTIONS),
            resources=[
                Stack.of(function).format_arn(
                    service="rekognition", resource="collection", resource_name=collection_id
                )
            ],
        )
    )


def _transcribe(function: lambda_.Function, _targets: GrantTargets) -> None:
    """Diary speech by Amazon Transcribe: the jobs of the diary prefix, nothing else
    (a re-analysis finds its diary's finished job, deletes it and starts it again).

        The job reads the video and writes its output with the caller's S3 access
        ("photos_bucket"); its completion reaches the diary-transcribed consumer
        as an EventBridge event, so no function polls or reads jobs.
    """
    function.add_environment(setting_env("speech_engine", DiarySettings), "transcribe")
    function.add_to_role_policy(
        iam.PolicyStatement(
            actions=[
                "transcribe:StartTranscriptionJob",
                "transcribe:GetTranscriptionJob",
                "transcribe:DeleteTranscriptionJob",
            ],
            resources=[
                Stack.of(function).format_arn(
                    service="transcribe",
                    resource="transcription-job",
                    resource_name=f"{resources.TRANSCRIBE_JOB_PREFIX}*",
                )
            ],
        )
    )
    acknowledge(
        function,
        "AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:transcribe:<AWS::Region>:"
        f"<AWS::AccountId>:transcription-job/{resources.TRANSCRIBE_JOB_PREFIX}*]",
        "One job per diary, named by its id: the prefix is the narrowest resource.",
    )


def _websocket_management(function: lambda_.Function, targets: GrantTargets) -> None:
    if targets.websocket_api is None:
        raise ValueError("'websocket_management' needs exactly one declared WebSocket API")
    targets.websocket_api.grant_manage_connections(function)


def _internet(_function: lambda_.Function, _targets: GrantTargets) -> None:
    """Outbound internet (e.g. fetching booth vendors' pages): nothing to grant. Outside
    the VPC a function has it anyway; inside, it runs in the subnets behind the NAT."""


def _always(*endpoints: Endpoint) -> Callable[[StageConfig], tuple[Endpoint, ...]]:
    return lambda _config: endpoints


def _rekognition_endpoints(config: StageConfig) -> tuple[Endpoint, ...]:
    return (REKOGNITION,) if config.face_index_backend == "rekognition" else ()


GRANTS: dict[str, Grant] = {
    **{table.setting: _table(table) for table in resources.TABLES if table.setting},
    "database": Grant(_database, in_vpc=True, endpoints=_always(SECRETS_MANAGER)),
    "event_bus": Grant(_event_bus, endpoints=_always(EVENTBRIDGE)),
    "signing_keys_read": Grant(_signing_keys_read, endpoints=_always(SECRETS_MANAGER)),
    "signing_keys_write": Grant(_signing_keys_write, endpoints=_always(SECRETS_MANAGER)),
    "jwks": Grant(_jwks, endpoints=_always(SSM)),
    "jwks_write": Grant(_jwks_write, endpoints=_always(SSM)),
    "photos_bucket": Grant(_photos_bucket),
    # The @connections endpoint is public: an execute-api interface endpoint
    # with private DNS would serve private APIs only.
    "websocket_management": Grant(_websocket_management, reachable_from_vpc=False),
    "rekognition": Grant(_rekognition, endpoints=_rekognition_endpoints),
    "transcribe": Grant(_transcribe, endpoints=_always(TRANSCRIBE)),
    "internet": Grant(_internet),
}


def in_vpc(spec: FunctionSpec) -> bool:
    return any(GRANTS[name].in_vpc for name in spec.grants)


def check_grants(spec: FunctionSpec) -> None:
    unknown = set(spec.grants) - GRANTS.keys()
    if unknown:
        raise ValueError(
            f"function {spec.name!r} declares unknown grants {sorted(unknown)}; "
            f"known: {sorted(GRANTS)}"
        )
    if "jwks" in spec.grants and "database" not in spec.grants:
        raise ValueError(
            f"function {spec.name!r} verifies tokens ('jwks') and so reads the revoked sessions "
            "in the database: declare 'database'"
        )
    if in_vpc(spec) and "internet" not in spec.grants:
        unreachable = [name for name in spec.grants if not GRANTS[name].reachable_from_vpc]
        if unreachable:
            raise ValueError(
                f"function {spec.name!r} runs in the VPC (it declares 'database') and needs "
                f"{unreachable}, reachable from the VPC only via the internet: declare 'internet'"
            )


def vpc_needs(specs: list[FunctionSpec], config: StageConfig) -> VpcNeeds:
    endpoints: dict[str, Endpoint] = {}
    internet = False
    for spec in filter(in_vpc, specs):
        check_grants(spec)
        internet = internet or "internet" in spec.grants
        for name in spec.grants:
            endpoints.update((endpoint[0], endpoint) for endpoint in GRANTS[name].endpoints(config))
    return VpcNeeds(tuple(endpoints[key] for key in sorted(endpoints)), internet)
