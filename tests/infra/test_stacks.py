"""The CDK app, synthesised once, offline: no Docker, no bundling, no AWS account.

The assertions tie the templates to ``cheese_runtime.resources``: every
declared table, route, subscription and function is there, with the security
and reliability settings the stacks promise, and cdk-nag finds nothing.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

os.environ.setdefault("JSII_SILENCE_WARNING_DEPRECATED_NODE_VERSION", "1")

from aws_cdk.assertions import Match, Template

from cheese_runtime import parameters, resources
from cheese_runtime.settings import Settings
from functions.diary.config import DiarySettings
from infra.app import build
from infra.components.queues import VISIBILITY_TO_TIMEOUT_RATIO
from infra.config import StageConfig
from infra.declarations import FunctionSpec, all_function_specs
from infra.grants import GRANTS, VpcNeeds, check_grants, vpc_needs
from infra.synth_check import Finding, lint_templates, offline_app, synthesize

STAGE = "test"
DECLARATIONS = (
    *resources.API_FUNCTIONS,
    *resources.EVENT_SUBSCRIPTIONS,
    *resources.WEBSOCKET_APIS,
    *resources.BUCKET_NOTIFICATIONS,
    *resources.SCHEDULED_JOBS,
)


@dataclass(frozen=True)
class Synth:
    data: Template
    service: Template
    workers: Template
    # The service and workers stacks as one template, for what holds of every function
    # whichever stack it is in (logical ids are unique across the two).
    compute: Template
    findings: list[Finding]
    outdir: Path
    assembly: Any


@pytest.fixture(scope="module")
def synth(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Synth]:
    outdir = tmp_path_factory.mktemp("cdk.out")
    app = offline_app(str(outdir), {"stage": STAGE})
    stacks = build(app, StageConfig.from_context(app.node))
    assembly, findings = synthesize(app)
    assert assembly is not None, "\n".join(map(str, findings))

    def template_of(stack: Any) -> dict:
        return assembly.get_stack_by_name(stack.stack_name).template

    service, workers = template_of(stacks.service), template_of(stacks.workers)
    yield Synth(
        data=Template.from_json(template_of(stacks.data)),
        service=Template.from_json(service),
        workers=Template.from_json(workers),
        compute=Template.from_json({"Resources": service["Resources"] | workers["Resources"]}),
        findings=findings,
        outdir=outdir,
        assembly=assembly,
    )


def physical(name: str) -> str:
    return f"{name}-{STAGE}"


def resources_of(
    template: Template, resource_type: str, properties: dict | None = None
) -> dict[str, Any]:
    return template.find_resources(
        resource_type, {"Properties": properties} if properties else None
    )


def handler_of(props: dict) -> str:
    """The handler of a zip function, or the command of an image function."""
    return props.get("Handler") or props.get("ImageConfig", {}).get("Command", [""])[0]


def functions_by_handler(template: Template) -> dict[str, tuple[str, dict]]:
    """Our functions (not CDK's own helpers), by handler: (logical id, properties)."""
    return {
        handler_of(props): (logical_id, props)
        for logical_id, resource in resources_of(template, "AWS::Lambda::Function").items()
        if handler_of(props := resource["Properties"]).startswith("functions.")
    }


# --- cdk-nag ---------------------------------------------------------------


def test_cdk_nag_and_validation_find_nothing_unacknowledged(synth: Synth) -> None:
    assert synth.findings == []


def test_cfn_lint_finds_no_errors_or_warnings(synth: Synth) -> None:
    """cfn-lint knows what CloudFormation refuses at deploy time (e.g. a deprecated engine)."""
    assert [str(finding) for finding in lint_templates(synth.assembly)] == []


# --- data ------------------------------------------------------------------


@pytest.mark.parametrize("table", resources.TABLES, ids=lambda t: t.name)
def test_tables_match_their_declaration(synth: Synth, table: resources.Table) -> None:
    key_schema = [{"AttributeName": table.partition_key, "KeyType": "HASH"}]
    if table.sort_key:
        key_schema.append({"AttributeName": table.sort_key, "KeyType": "RANGE"})
    expected: dict[str, Any] = {
        "TableName": physical(table.name),
        "KeySchema": key_schema,
        "BillingMode": "PAY_PER_REQUEST",
        "PointInTimeRecoverySpecification": {"PointInTimeRecoveryEnabled": True},
        "SSESpecification": {"SSEEnabled": True},
    }
    if table.ttl_attribute:
        expected["TimeToLiveSpecification"] = {
            "AttributeName": table.ttl_attribute,
            "Enabled": True,
        }
    found = resources_of(synth.data, "AWS::DynamoDB::Table", expected)
    assert len(found) == 1, f"{table.name} missing or not as declared"
    indexes = next(iter(found.values()))["Properties"].get("GlobalSecondaryIndexes", [])
    assert {
        (i["IndexName"], tuple(k["AttributeName"] for k in i["KeySchema"])) for i in indexes
    } == {
        (i.name, (i.partition_key, *((i.sort_key,) if i.sort_key else ())))
        for i in table.global_indexes
    }


def test_photos_bucket_is_encrypted_private_versioned_logged_and_tls_only(synth: Synth) -> None:
    buckets = resources_of(
        synth.data,
        "AWS::S3::Bucket",
        {
            "BucketName": {
                "Fn::Join": [
                    "",
                    [
                        physical(resources.PHOTOS_BUCKET) + "-",
                        {"Ref": "AWS::AccountId"},
                        "-",
                        {"Ref": "AWS::Region"},
                    ],
                ]
            },
            "BucketEncryption": {
                "ServerSideEncryptionConfiguration": [
                    {"ServerSideEncryptionByDefault": {"SSEAlgorithm": "AES256"}}
                ]
            },
            "PublicAccessBlockConfiguration": {
                "BlockPublicAcls": True,
                "BlockPublicPolicy": True,
                "IgnorePublicAcls": True,
                "RestrictPublicBuckets": True,
            },
            "VersioningConfiguration": {"Status": "Enabled"},
            "LoggingConfiguration": {"DestinationBucketName": Match.any_value()},
        },
    )
    assert len(buckets) == 1
    (photos_id,) = buckets
    synth.data.has_resource_properties(
        "AWS::S3::BucketPolicy",
        {
            "Bucket": {"Ref": photos_id},
            "PolicyDocument": {
                "Statement": Match.array_with(
                    [
                        Match.object_like(
                            {
                                "Effect": "Deny",
                                "Condition": {"Bool": {"aws:SecureTransport": "false"}},
                            }
                        )
                    ]
                )
            },
        },
    )


def test_aurora_serverless_v2_behind_rds_proxy(synth: Synth) -> None:
    synth.data.has_resource_properties(
        "AWS::RDS::DBCluster",
        {
            "Engine": "aurora-postgresql",
            "StorageEncrypted": True,
            "EnableIAMDatabaseAuthentication": True,
            "DeletionProtection": True,
            "BackupRetentionPeriod": Match.any_value(),
            "ServerlessV2ScalingConfiguration": {
                "MinCapacity": Match.any_value(),
                "MaxCapacity": Match.any_value(),
            },
        },
    )
    synth.data.has_resource_properties(
        "AWS::RDS::DBInstance",
        {
            "DBInstanceClass": "db.serverless",
            "EnablePerformanceInsights": True,
            "PubliclyAccessible": False,
        },
    )
    synth.data.has_resource_properties(
        "AWS::RDS::DBProxy", {"EngineFamily": "POSTGRESQL", "RequireTLS": True}
    )
    synth.data.resource_count_is("AWS::RDS::DBProxyTargetGroup", 1)


def test_vpc_endpoints_and_nat_follow_the_functions_placed_in_it(synth: Synth) -> None:
    needs = vpc_needs(all_function_specs(), StageConfig(stage=STAGE))
    synth.data.resource_count_is("AWS::EC2::NatGateway", 1 if needs.internet else 0)
    synth.data.resource_count_is("AWS::EC2::InternetGateway", 1 if needs.internet else 0)
    endpoints = resources_of(synth.data, "AWS::EC2::VPCEndpoint")
    types = [e["Properties"].get("VpcEndpointType", "Gateway") for e in endpoints.values()]
    assert types.count("Gateway") == 2  # S3 and DynamoDB
    assert types.count("Interface") == len(needs.interface_endpoints)
    assert "SecretsManager" in [name for name, _ in needs.interface_endpoints]


def _spec(*grants: str) -> FunctionSpec:
    return FunctionSpec("probe", "functions.probe.handler", grants=grants)


def test_vpc_needs_come_from_the_grants_of_vpc_functions_only() -> None:
    config = StageConfig()
    needs = vpc_needs([_spec("database", "jwks"), _spec("event_bus")], config)
    assert [name for name, _ in needs.interface_endpoints] == ["SecretsManager", "Ssm"]
    assert not needs.internet
    assert vpc_needs([_spec("database", "internet")], config).internet
    rekognition_backend = StageConfig(face_index_backend="rekognition")
    assert vpc_needs([_spec("rekognition")], rekognition_backend) == VpcNeeds((), False)
    in_vpc = vpc_needs([_spec("database", "rekognition")], rekognition_backend)
    assert "Rekognition" in [name for name, _ in in_vpc.interface_endpoints]


def test_a_vpc_function_needs_internet_for_websocket_connections() -> None:
    with pytest.raises(ValueError, match="declare 'internet'"):
        check_grants(_spec("database", "websocket_management"))
    check_grants(_spec("database", "websocket_management", "internet"))
    check_grants(_spec("websocket_management"))
    with pytest.raises(ValueError, match="unknown grants"):
        check_grants(_spec("databse"))


def test_bus_secret_and_jwks_parameter_exist(synth: Synth) -> None:
    synth.data.has_resource_properties(
        "AWS::Events::EventBus", {"Name": physical(resources.EVENT_BUS)}
    )
    synth.data.has_resource_properties(
        "AWS::SecretsManager::Secret", {"Name": physical(resources.SIGNING_KEYS_SECRET)}
    )
    synth.data.has_resource_properties(
        "AWS::SSM::Parameter", {"Name": physical(resources.JWKS_PARAMETER)}
    )


# --- HTTP API --------------------------------------------------------------


def test_http_api_routes_are_exactly_the_declared_ones(synth: Synth) -> None:
    http_api_id = next(
        iter(resources_of(synth.compute, "AWS::ApiGatewayV2::Api", {"ProtocolType": "HTTP"}))
    )
    routes = resources_of(
        synth.compute, "AWS::ApiGatewayV2::Route", {"ApiId": {"Ref": http_api_id}}
    )
    assert sorted(r["Properties"]["RouteKey"] for r in routes.values()) == sorted(
        f"{route.method} {route.path}"
        for function in resources.API_FUNCTIONS
        for route in function.routes
    )


def test_each_route_invokes_its_declared_function(synth: Synth) -> None:
    functions = functions_by_handler(synth.compute)
    integrations = resources_of(synth.compute, "AWS::ApiGatewayV2::Integration")
    routes = resources_of(synth.compute, "AWS::ApiGatewayV2::Route")
    for function in resources.API_FUNCTIONS:
        function_id = functions[f"{function.module}.handler"][0]
        for route in function.routes:
            (route_resource,) = [
                r
                for r in routes.values()
                if r["Properties"]["RouteKey"] == f"{route.method} {route.path}"
            ]
            integration_id = route_resource["Properties"]["Target"]["Fn::Join"][1][1]["Ref"]
            assert integrations[integration_id]["Properties"]["IntegrationUri"] == {
                "Fn::GetAtt": [function_id, "Arn"]
            }


def test_http_stage_has_access_logs_and_throttling(synth: Synth) -> None:
    synth.compute.has_resource_properties(
        "AWS::ApiGatewayV2::Stage",
        {
            "StageName": "$default",
            "AutoDeploy": True,
            "AccessLogSettings": {
                "DestinationArn": Match.any_value(),
                "Format": Match.string_like_regexp("requestId"),
            },
            "DefaultRouteSettings": {
                "ThrottlingRateLimit": Match.any_value(),
                "ThrottlingBurstLimit": Match.any_value(),
            },
        },
    )


# --- functions -------------------------------------------------------------


def test_every_declared_module_is_a_function(synth: Synth) -> None:
    handlers = functions_by_handler(synth.compute)
    assert {f"{d.module}.handler" for d in DECLARATIONS} <= handlers.keys()
    assert {
        "functions.auth.rotation.handler",
        "functions.auth.migrations.handler",
        "functions.auth.authorizer.handler",
    } <= handlers.keys()


def test_functions_are_traced_python_311_with_the_layer_and_powertools_env(synth: Synth) -> None:
    for handler, (_, props) in functions_by_handler(synth.compute).items():
        if props.get("PackageType") == "Image":
            assert "Runtime" not in props and "Layers" not in props, handler
        else:
            assert props["Runtime"] == "python3.11", handler
            assert len([la for la in props["Layers"] if not is_extension_layer(la)]) == 1, handler
        assert props["Architectures"] == ["x86_64"], handler
        assert props["TracingConfig"] == {"Mode": "Active"}, handler
        variables = props["Environment"]["Variables"]
        assert variables["POWERTOOLS_METRICS_NAMESPACE"] == "Cheese", handler
        assert variables["POWERTOOLS_SERVICE_NAME"], handler
        assert variables["CHEESE_STAGE"] == STAGE, handler


def is_extension_layer(layer: Any) -> bool:
    """CDK picks the extension's ARN by region from a mapping of AWS's published layers."""
    return "Paramsandsecretslayer" in json.dumps(layer)


def test_functions_that_read_keys_or_the_database_secret_get_the_parameters_extension(
    synth: Synth,
) -> None:
    """The JWKS and the database secret are read through the extension, not boto3
    (cheese_runtime.parameters): every zip function that reads either has it."""
    specs = {f"{spec.module}.handler": spec for spec in all_function_specs()}
    checked = 0
    for handler, (_, props) in functions_by_handler(synth.compute).items():
        spec = specs[handler]
        if props.get("PackageType") == "Image":
            continue
        reads = {"jwks", "database"} & set(spec.grants)
        assert any(map(is_extension_layer, props["Layers"])) == bool(reads), handler
        port = props["Environment"]["Variables"].get(parameters.EXTENSION_PORT_ENV)
        assert (port == "2773") == bool(reads), handler
        checked += bool(reads)
    assert checked >= 8
    mappings = json.dumps(synth.service.to_json()["Mappings"])
    assert "layer:AWS-Parameters-and-Secrets-Lambda-Extension:" in mappings


# The settings classes the app sets variables of: the runtime's and the functions' own.
SETTINGS_CLASSES = (DiarySettings, Settings)


def _is_setting(name: str) -> bool:
    """A variable some settings class reads: its prefix (the longest first) and a field."""
    for settings in SETTINGS_CLASSES:
        prefix = settings.model_config["env_prefix"]
        if name.startswith(prefix):
            return name.removeprefix(prefix).lower() in settings.model_fields
    return False


def test_function_environment_names_only_real_settings(synth: Synth) -> None:
    for handler, (_, props) in functions_by_handler(synth.compute).items():
        for name in props["Environment"]["Variables"]:
            if name.startswith("CHEESE_"):
                assert _is_setting(name), (handler, name)


def test_diary_analysis_speaks_to_transcribe_and_its_completion_reaches_the_consumer(
    synth: Synth,
) -> None:
    by_handler = functions_by_handler(synth.compute)
    _, analysis = by_handler["functions.diary.analysis.consumer.handler"]
    assert analysis["Environment"]["Variables"]["CHEESE_DIARY_SPEECH_ENGINE"] == "transcribe"
    policies = resources_of(synth.compute, "AWS::IAM::Policy")
    statements = [
        statement
        for policy in policies.values()
        for statement in policy["Properties"]["PolicyDocument"]["Statement"]
        if "transcribe:StartTranscriptionJob" in json.dumps(statement)
    ]
    assert len(statements) == 1
    assert "transcription-job/cheese-diary-*" in json.dumps(statements[0]["Resource"])
    # Only the analysis starts jobs; the completion consumer reads S3 and the database.
    completion = by_handler["functions.diary.analysis.transcribed.handler"][1]
    assert "CHEESE_DIARY_SPEECH_ENGINE" not in completion["Environment"]["Variables"]
    rules = resources_of(
        synth.compute,
        "AWS::Events::Rule",
        {"EventPattern": {"source": ["aws.transcribe"]}},
    )
    assert len(rules) == 1
    (rule,) = rules.values()
    assert rule["Properties"]["EventBusName"] == "default"
    assert rule["Properties"]["EventPattern"]["detail-type"] == ["Transcribe Job State Change"]


def test_database_functions_run_in_the_vpc_and_others_do_not(synth: Synth) -> None:
    for handler, (_, props) in functions_by_handler(synth.compute).items():
        uses_database = "CHEESE_DATABASE_SECRET_ARN" in props["Environment"]["Variables"]
        assert ("VpcConfig" in props) == uses_database, handler
        if uses_database:
            assert "CHEESE_DATABASE_PROXY_HOST" in props["Environment"]["Variables"], handler


def test_log_groups_have_retention(synth: Synth) -> None:
    for template in (synth.data, synth.compute):
        for logical_id, group in resources_of(template, "AWS::Logs::LogGroup").items():
            assert group["Properties"].get("RetentionInDays"), logical_id


def test_code_assets_ship_only_their_functions_package(synth: Synth) -> None:
    # The synth here skips bundling; tests/infra/test_layer_check.py bundles one asset for real.
    from infra.components.functions import package_files

    shipped = {p.as_posix() for p in package_files("auth")}
    assert {"functions/__init__.py", "functions/auth/handler.py"} <= shipped
    assert all(p == "functions/__init__.py" or p.startswith("functions/auth/") for p in shipped)
    assert not any("__pycache__" in p or p.endswith(".pyc") for p in shipped)
    handlers = functions_by_handler(synth.compute)
    keys: dict[str, set[str]] = {}
    for handler, (_, props) in handlers.items():
        if "S3Key" in props["Code"]:
            keys.setdefault(handler.split(".")[1], set()).add(props["Code"]["S3Key"])
    # One asset per package (and its shared modules): no package ships another's.
    assert {"auth", "pool", "smile_rank"} <= keys.keys()
    assert all(len(package_keys) == 1 for package_keys in keys.values()), keys
    assert len(set().union(*keys.values())) == len(keys)


def test_ml_functions_are_images_of_the_ml_dockerfile(synth: Synth) -> None:
    handlers = functions_by_handler(synth.compute)
    for declaration in DECLARATIONS:
        _, props = handlers[f"{declaration.module}.handler"]
        assert (props.get("PackageType") == "Image") == declaration.ml_image, declaration.module


def test_ml_image_code_stages_what_the_dockerfile_copies(tmp_path: Path) -> None:
    from aws_cdk import App, Stack
    from aws_cdk import aws_lambda as lambda_

    from infra.components.functions import ML_DOCKERFILE, ml_image_code

    app = App(outdir=str(tmp_path))
    lambda_.DockerImageFunction(
        Stack(app, "ImageProbe"),
        "Analyzer",
        code=ml_image_code("functions.photos.analyzer.handler"),
    )
    assembly = app.synth()
    props = next(
        iter(
            Template.from_json(assembly.get_stack_by_name("ImageProbe").template)
            .find_resources("AWS::Lambda::Function")
            .values()
        )
    )["Properties"]
    assert props["ImageConfig"] == {"Command": ["functions.photos.analyzer.handler"]}
    (context,) = [p for p in tmp_path.glob("asset.*") if p.is_dir()]
    staged = {str(p.relative_to(context)) for p in context.rglob("*") if p.is_file()}
    assert {
        "pyproject.toml",
        ML_DOCKERFILE,
        "functions/__init__.py",
        "layers/runtime/cheese_runtime/resources.py",
    } <= staged
    assert all(p == "pyproject.toml" or p.split("/")[0] in ("layers", "functions") for p in staged)
    assert not any("__pycache__" in p for p in staged)


def test_every_declared_grant_is_known() -> None:
    assert {g for d in DECLARATIONS for g in d.grants} <= GRANTS.keys()


# --- event consumers -------------------------------------------------------


def _consumer_queue(synth: Synth, template: Template, queue: resources.Queue) -> tuple[str, dict]:
    found = resources_of(template, "AWS::SQS::Queue", {"QueueName": physical(queue.name)})
    assert len(found) == 1, queue.name
    ((logical_id, resource),) = found.items()
    return logical_id, resource["Properties"]


@pytest.mark.parametrize("subscription", resources.EVENT_SUBSCRIPTIONS, ids=lambda s: s.consumer)
def test_subscription_rule_queue_dlq_and_consumer(
    synth: Synth, subscription: resources.EventSubscription
) -> None:
    definition = resources.subscription_queue(subscription)
    queue_id, queue = _consumer_queue(synth, synth.compute, definition)
    dlq_id, _ = _consumer_queue(
        synth,
        synth.compute,
        resources.Queue(definition.dead_letter_name, definition.dead_letter_name, 0),
    )
    assert queue["RedrivePolicy"] == {
        "deadLetterTargetArn": {"Fn::GetAtt": [dlq_id, "Arn"]},
        "maxReceiveCount": definition.max_receive_count,
    }
    assert queue["SqsManagedSseEnabled"] is True
    function_id, function = functions_by_handler(synth.compute)[f"{subscription.module}.handler"]
    assert queue["VisibilityTimeout"] >= VISIBILITY_TO_TIMEOUT_RATIO * function["Timeout"]
    synth.compute.has_resource_properties(
        "AWS::Lambda::EventSourceMapping",
        {
            "EventSourceArn": {"Fn::GetAtt": [queue_id, "Arn"]},
            "FunctionName": {"Ref": function_id},
            "FunctionResponseTypes": ["ReportBatchItemFailures"],
        },
    )
    synth.compute.has_resource_properties(
        "AWS::Events::Rule",
        {
            "EventPattern": {
                "source": [subscription.source],
                "detail-type": list(subscription.detail_types),
            },
            "Targets": [Match.object_like({"Arn": {"Fn::GetAtt": [queue_id, "Arn"]}})],
            # Cheese's events are on its bus; AWS services send to the default one.
            "EventBusName": "default" if subscription.on_default_bus else Match.any_value(),
        },
    )
    for queue_logical_id in (queue_id, dlq_id):
        synth.compute.has_resource_properties(
            "AWS::SQS::QueuePolicy",
            {
                "Queues": [{"Ref": queue_logical_id}],
                "PolicyDocument": {
                    "Statement": Match.array_with(
                        [
                            Match.object_like(
                                {
                                    "Effect": "Deny",
                                    "Condition": {"Bool": {"aws:SecureTransport": "false"}},
                                }
                            )
                        ]
                    )
                },
            },
        )


@pytest.mark.parametrize("notification", resources.BUCKET_NOTIFICATIONS, ids=lambda n: n.consumer)
def test_bucket_notification_queue_dlq_and_consumer(
    synth: Synth, notification: resources.BucketNotification
) -> None:
    definition = resources.notification_queue(notification)
    _, queue = _consumer_queue(synth, synth.data, definition)
    assert queue["RedrivePolicy"]["maxReceiveCount"] == definition.max_receive_count
    _, function = functions_by_handler(synth.compute)[f"{notification.module}.handler"]
    assert queue["VisibilityTimeout"] >= VISIBILITY_TO_TIMEOUT_RATIO * function["Timeout"]
    synth.compute.has_resource_properties(
        "AWS::Lambda::EventSourceMapping",
        {
            "FunctionResponseTypes": ["ReportBatchItemFailures"],
            "BatchSize": notification.batch_size,
        },
    )
    synth.data.has_resource_properties(
        "Custom::S3BucketNotifications",
        {
            "NotificationConfiguration": {
                "QueueConfigurations": Match.array_with(
                    [
                        Match.object_like(
                            {
                                "Events": list(notification.events),
                                "Filter": {
                                    "Key": {
                                        "FilterRules": [
                                            {"Name": "prefix", "Value": notification.prefix}
                                        ]
                                    }
                                },
                            }
                        )
                    ]
                )
            },
        },
    )


# --- WebSocket APIs and schedules -------------------------------------------


@pytest.mark.parametrize("websocket", resources.WEBSOCKET_APIS, ids=lambda w: w.name)
def test_websocket_api_routes_and_connect_authorizer(
    synth: Synth, websocket: resources.WebSocketApi
) -> None:
    api_id = next(
        iter(resources_of(synth.compute, "AWS::ApiGatewayV2::Api", {"ProtocolType": "WEBSOCKET"}))
    )
    routes = resources_of(synth.compute, "AWS::ApiGatewayV2::Route", {"ApiId": {"Ref": api_id}})
    keys = {r["Properties"]["RouteKey"]: r["Properties"] for r in routes.values()}
    assert set(keys) == {"$connect", "$disconnect", "$default", *websocket.routes}
    assert keys["$connect"]["AuthorizationType"] == "CUSTOM"
    authorizer_id = functions_by_handler(synth.compute)[f"{websocket.authorizer_module}.handler"][0]
    synth.compute.has_resource_properties(
        "AWS::ApiGatewayV2::Authorizer",
        {
            "ApiId": {"Ref": api_id},
            "AuthorizerType": "REQUEST",
            "AuthorizerUri": {
                "Fn::Join": ["", Match.array_with([{"Fn::GetAtt": [authorizer_id, "Arn"]}])]
            },
        },
    )
    synth.compute.has_resource_properties(
        "AWS::ApiGatewayV2::Stage",
        {
            "ApiId": {"Ref": api_id},
            "StageName": websocket.stage,
            "AccessLogSettings": Match.object_like({"DestinationArn": Match.any_value()}),
        },
    )


@pytest.mark.parametrize("job", resources.SCHEDULED_JOBS, ids=lambda j: j.name)
def test_scheduled_jobs_run_on_their_schedule(synth: Synth, job: resources.ScheduledJob) -> None:
    function_id, _ = functions_by_handler(synth.compute)[f"{job.module}.handler"]
    synth.compute.has_resource_properties(
        "AWS::Events::Rule",
        {
            "ScheduleExpression": job.schedule,
            "Targets": [Match.object_like({"Arn": {"Fn::GetAtt": [function_id, "Arn"]}})],
        },
    )


def test_key_rotation_is_scheduled_and_runs_once_at_deploy(synth: Synth) -> None:
    rotation_id, _ = functions_by_handler(synth.compute)["functions.auth.rotation.handler"]
    synth.compute.has_resource_properties(
        "AWS::Events::Rule",
        {
            "ScheduleExpression": "rate(30 days)",
            "Targets": [Match.object_like({"Arn": {"Fn::GetAtt": [rotation_id, "Arn"]}})],
        },
    )
    synth.compute.resource_count_is("Custom::Trigger", 2)


# --- observability ---------------------------------------------------------


def _alarms(synth: Synth) -> list[dict]:
    return [a["Properties"] for a in resources_of(synth.compute, "AWS::CloudWatch::Alarm").values()]


def test_every_function_alarms_on_errors_and_throttles(synth: Synth) -> None:
    alarms = _alarms(synth)
    for handler, (function_id, _) in functions_by_handler(synth.compute).items():
        for metric in ("Errors", "Throttles"):
            assert any(
                a["MetricName"] == metric
                and a["Namespace"] == "AWS/Lambda"
                and a["Dimensions"] == [{"Name": "FunctionName", "Value": {"Ref": function_id}}]
                and a["AlarmActions"]
                for a in alarms
            ), (handler, metric)


def test_http_5xx_and_every_dlq_alarm(synth: Synth) -> None:
    alarms = _alarms(synth)
    assert any(a["MetricName"] == "5xx" and a["Namespace"] == "AWS/ApiGateway" for a in alarms)
    dlq_alarms = [a for a in alarms if a["MetricName"] == "ApproximateNumberOfMessagesVisible"]
    assert len(dlq_alarms) == len(resources.EVENT_SUBSCRIPTIONS) + len(
        resources.BUCKET_NOTIFICATIONS
    )
    assert all(
        a["Threshold"] == 1 and a["ComparisonOperator"] == "GreaterThanOrEqualToThreshold"
        for a in dlq_alarms
    )


def test_alarm_topic_is_encrypted_and_tls_only(synth: Synth) -> None:
    synth.compute.has_resource_properties("AWS::SNS::Topic", {"KmsMasterKeyId": Match.any_value()})
    synth.compute.has_resource_properties(
        "AWS::SNS::TopicPolicy",
        {
            "PolicyDocument": {
                "Statement": Match.array_with(
                    [
                        Match.object_like(
                            {
                                "Effect": "Deny",
                                "Condition": {"Bool": {"aws:SecureTransport": "false"}},
                            }
                        )
                    ]
                )
            },
        },
    )


def test_synth_check_reports_what_cdk_nag_finds(tmp_path: Path) -> None:
    from aws_cdk import Stack, Validations
    from aws_cdk import aws_s3 as s3
    from cdk_nag import AwsSolutionsChecks

    app = offline_app(str(tmp_path))
    s3.Bucket(Stack(app, "Probe"), "UnloggedBucket")
    Validations.of(app).add_plugins(AwsSolutionsChecks(app))
    assembly, findings = synthesize(app)
    assert assembly is None
    assert {"AwsSolutions-S1", "AwsSolutions-S10"} <= {finding.rule for finding in findings}


def test_layer_bundles_locally_with_pip(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """CDK calls the local bundling (never Docker); pip itself is replaced by a stub here."""
    import subprocess

    from aws_cdk import App, Stack

    from infra import bundling

    pip_calls: list[list[str]] = []
    run = subprocess.run

    def fake_pip(command: list[str], check: bool) -> subprocess.CompletedProcess:
        if command[1:3] != ["-m", "pip"]:
            return run(command, check=check)  # the byte-compilation runs for real
        pip_calls.append(command)
        Path(command[command.index("--target") + 1]).mkdir(parents=True)
        return subprocess.CompletedProcess(command, 0)

    monkeypatch.setattr(bundling.subprocess, "run", fake_pip)
    app = App(outdir=str(tmp_path))
    bundling.runtime_layer(Stack(app, "LayerProbe"), "RuntimeLayer")
    app.synth()
    (command,) = pip_calls
    assert command[command.index("--platform") + 1] == bundling.PIP_PLATFORM
    assert "--only-binary=:all:" in command and set(bundling.main_dependencies()) <= set(command)
    (layer_dir,) = [p for p in tmp_path.glob("asset.*") if p.is_dir()]
    runtime = layer_dir / "python" / "cheese_runtime"
    assert (runtime / "resources.py").is_file()
    # Bytecode made for the layer, not copied from the working tree.
    assert [p.name for p in (runtime / "__pycache__").glob("resources.*.pyc")] == [
        f"resources.cpython-{bundling.PYTHON_VERSION.replace('.', '')}.pyc"
    ]


@pytest.mark.parametrize("stage", ["Prod", "my_stage", "1dev", "a" * 13])
def test_stage_names_that_would_break_resource_names_are_refused(stage: str) -> None:
    with pytest.raises(ValueError, match="stage"):
        StageConfig(stage=stage)


def test_stacks_keep_headroom_under_cloudformations_500_resources(synth: Synth) -> None:
    # Past 400, split again (e.g. one workers stack per functions/<package>).
    for template in (synth.data, synth.service, synth.workers):
        assert len(template.to_json()["Resources"]) < 400


def test_workers_deploy_after_the_service_stack(synth: Synth) -> None:
    workers = synth.assembly.get_stack_by_name(f"Cheese-{STAGE}-Workers")
    assert f"Cheese-{STAGE}-Service" in {d.id for d in workers.dependencies}
    # Background functions are workers, except those posting to WebSocket connections.
    background = {
        f"{d.module}.handler"
        for d in (
            *resources.EVENT_SUBSCRIPTIONS,
            *resources.BUCKET_NOTIFICATIONS,
            *resources.SCHEDULED_JOBS,
        )
    }
    posting = {
        f"{d.module}.handler"
        for d in (
            *resources.EVENT_SUBSCRIPTIONS,
            *resources.BUCKET_NOTIFICATIONS,
            *resources.SCHEDULED_JOBS,
        )
        if "websocket_management" in d.grants
    }
    assert posting, "the pool's background functions post to connections"
    assert background - posting <= functions_by_handler(synth.workers).keys()
    assert posting <= functions_by_handler(synth.service).keys()
    assert not posting & functions_by_handler(synth.workers).keys()


def test_video_workers_get_the_tmp_their_videos_need(synth: Synth) -> None:
    by_handler = functions_by_handler(synth.compute)
    for handler, (_, props) in by_handler.items():
        assert 512 <= props["EphemeralStorage"]["Size"] <= 10240, handler
    for module in ("functions.video.worker", "functions.video.chunk_worker"):
        size = by_handler[f"{module}.handler"][1]["EphemeralStorage"]["Size"]
        # A 500 MB upload, its result and a long video's encoded chunks fit.
        assert size == resources.VIDEO_WORKER_TMP_MB >= 3 * 500, module
