"""Zip Lambda functions built from a declaration: code, layer, grants, observability."""

from __future__ import annotations

import hashlib
import shutil
from pathlib import Path
from typing import Any

import jsii
from aws_cdk import (
    AssetHashType,
    BundlingOptions,
    Duration,
    IgnoreMode,
    ILocalBundling,
    RemovalPolicy,
    Size,
    Stack,
)
from aws_cdk import aws_cloudwatch as cloudwatch
from aws_cdk import aws_ecr_assets as ecr_assets
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_logs as logs
from constructs import Construct

from cheese_runtime.observability import METRICS_NAMESPACE
from infra.bundling import ARCHITECTURE, PYTHON_VERSION, RUNTIME, compile_bytecode, runtime_layer
from infra.components.monitoring import ALARM_PERIOD, Monitoring
from infra.config import REPO_ROOT, StageConfig
from infra.declarations import FunctionSpec
from infra.grants import GRANTS, GrantTargets, check_grants, in_vpc
from infra.nag import acknowledge
from infra.settings_env import setting_env

ML_DOCKERFILE = "layers/ml/Dockerfile"


def package_files(package: str, shared_modules: tuple[str, ...] = ()) -> list[Path]:
    """What a zip function ships, relative to the repository: ``functions/__init__.py``,
    ``functions/<package>/`` and the ``shared_modules`` of other functions (each with its
    package's ``__init__.py``). Everything else (the runtime package, dependencies) comes
    from the layer."""
    files = [Path("functions/__init__.py")]
    own = REPO_ROOT / "functions" / package
    files += sorted(
        path.relative_to(REPO_ROOT)
        for path in own.rglob("*")
        if path.is_file()
        and "__pycache__" not in path.parts
        and path.suffix != ".pyc"
        and not path.name.startswith(".")
    )
    for module in shared_modules:
        path = Path(*module.split("."))
        if not (REPO_ROOT / path).with_suffix(".py").is_file():
            raise ValueError(f"shared module {module!r} is not a file of functions/")
        files += [path.parent / "__init__.py", path.with_suffix(".py")]
    return list(dict.fromkeys(files))


@jsii.implements(ILocalBundling)
class CompiledPackageBundling:
    """Copies a function's files and byte-compiles them (see ``compile_bytecode``:
    /var/task is read-only in Lambda, so source without bytecode is compiled on every
    cold start)."""

    def __init__(self, files: list[Path]) -> None:
        self._files = files

    def try_bundle(self, output_dir: str, options: BundlingOptions) -> bool:
        for relative in self._files:
            target = Path(output_dir) / relative
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(REPO_ROOT / relative, target)
        compile_bytecode(Path(output_dir))
        return True


def package_code(package: str, shared_modules: tuple[str, ...] = ()) -> lambda_.Code:
    """The zip of :func:`package_files`, with their bytecode."""
    files = package_files(package, shared_modules)
    # Hashed from what goes in (a pyc's bytes need not be reproducible), like the layer.
    digest = hashlib.sha256(PYTHON_VERSION.encode())
    for relative in files:
        digest.update(relative.as_posix().encode() + b"\0" + (REPO_ROOT / relative).read_bytes())
    return lambda_.Code.from_asset(
        str(REPO_ROOT / "functions" / package),
        asset_hash_type=AssetHashType.CUSTOM,
        asset_hash=digest.hexdigest(),
        bundling=BundlingOptions(
            # Required by the API; never pulled, the local bundling always succeeds or raises.
            image=RUNTIME.bundling_image,
            local=CompiledPackageBundling(files),  # type: ignore[arg-type]
        ),
    )


def ml_image_code(handler: str) -> lambda_.DockerImageCode:
    """The ML image (layers/ml/Dockerfile: every function package, cheese_ml, the models)
    running ``handler``.

    Synthesis only stages the build context; Docker builds it when ``cdk deploy``
    publishes the asset. One image serves every ML function: only the command differs.
    """
    return lambda_.DockerImageCode.from_image_asset(
        str(REPO_ROOT),
        file=ML_DOCKERFILE,
        cmd=[handler],
        platform=ecr_assets.Platform.LINUX_AMD64,
        ignore_mode=IgnoreMode.GLOB,
        # What the Dockerfile copies, nothing else.
        exclude=[
            "*",
            ".*",
            "!pyproject.toml",
            "!layers",
            "!layers/runtime",
            "!layers/runtime/**",
            "!layers/ml",
            "!layers/ml/**",
            "!functions",
            "!functions/**",
            "__pycache__",
            "*.pyc",
        ],
    )


# The grants whose parameters and secrets a function reads on its first request: the JWKS
# (token verifier) and the database secret, through the extension (cheese_runtime.parameters).
READS_THROUGH_EXTENSION = frozenset({"jwks", "database"})


def parameters_extension(spec: FunctionSpec) -> lambda_.ParamsAndSecretsLayerVersion | None:
    """The AWS Parameters and Secrets Lambda Extension for a zip function that reads any.

    Container-image functions take no layers; they read through boto3 instead.
    """
    if not READS_THROUGH_EXTENSION & set(spec.grants):
        return None
    return lambda_.ParamsAndSecretsLayerVersion.from_version(
        lambda_.ParamsAndSecretsVersions.V1_0_103,
        cache_size=100,
        parameter_store_ttl=Duration.minutes(5),
        secrets_manager_ttl=Duration.minutes(5),
        log_level=lambda_.ParamsAndSecretsLogLevel.WARN,
    )


class FunctionFactory(Construct):
    """Creates every zip function of the service stack the same way."""

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        targets: GrantTargets,
        config: StageConfig,
        monitoring: Monitoring,
    ) -> None:
        super().__init__(scope, construct_id)
        self._targets = targets
        self._network = targets.data.network
        self._config = config
        self._monitoring = monitoring
        self.layer = runtime_layer(self, "RuntimeLayer")
        self._code: dict[tuple[str, tuple[str, ...]], lambda_.Code] = {}

    def _code_of(self, spec: FunctionSpec) -> lambda_.Code:
        key = (spec.package, spec.shared_modules)
        if key not in self._code:
            self._code[key] = package_code(*key)
        return self._code[key]

    def create(self, scope: Construct, construct_id: str, spec: FunctionSpec) -> lambda_.Function:
        check_grants(spec)
        placed_in_vpc = in_vpc(spec)
        handler = f"{spec.module}.handler"
        common: dict[str, Any] = {
            "description": f"{spec.name}: {handler}",
            "architecture": ARCHITECTURE,
            "timeout": Duration.seconds(spec.timeout_seconds),
            "memory_size": spec.memory_mb,
            "ephemeral_storage_size": Size.mebibytes(spec.ephemeral_storage_mb),
            "tracing": lambda_.Tracing.ACTIVE,
            "log_group": logs.LogGroup(
                scope,
                f"{construct_id}Logs",
                retention=self._config.log_retention,
                removal_policy=RemovalPolicy.DESTROY,
            ),
            "environment": {
                setting_env("stage"): self._config.stage,
                setting_env("region"): Stack.of(scope).region,
                "POWERTOOLS_SERVICE_NAME": spec.name,
                "POWERTOOLS_METRICS_NAMESPACE": METRICS_NAMESPACE,
            },
            "vpc": self._network.vpc if placed_in_vpc else None,
            "vpc_subnets": self._network.function_subnets(internet="internet" in spec.grants)
            if placed_in_vpc
            else None,
        }
        if spec.ml_image:
            function: lambda_.Function = lambda_.DockerImageFunction(
                scope, construct_id, code=ml_image_code(handler), **common
            )
        else:
            function = lambda_.Function(
                scope,
                construct_id,
                runtime=RUNTIME,
                handler=handler,
                code=self._code_of(spec),
                layers=[self.layer],
                params_and_secrets=parameters_extension(spec),
                **common,
            )
            acknowledge(
                function,
                "AwsSolutions-L1",
                "Python 3.11 on purpose: the project pins requires-python <3.12 and the layer's "
                "wheels are built for cp311.",
            )
        for name in spec.grants:
            GRANTS[name].apply(function, self._targets)
        self._acknowledge_managed_permissions(function, placed_in_vpc)
        self._alarm(function, spec)
        return function

    @staticmethod
    def _acknowledge_managed_permissions(function: lambda_.Function, in_vpc: bool) -> None:
        acknowledge(
            function,
            "AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/"
            "AWSLambdaBasicExecutionRole]",
            "AWS's minimal policy for a function to write its own CloudWatch logs.",
        )
        if in_vpc:
            acknowledge(
                function,
                "AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/"
                "AWSLambdaVPCAccessExecutionRole]",
                "Needed for Lambda to attach the function's network interfaces in the VPC.",
            )
        acknowledge(
            function,
            "AwsSolutions-IAM5[Resource::*]",
            "X-Ray PutTraceSegments/PutTelemetryRecords support no resource-level permissions.",
        )

    def _alarm(self, function: lambda_.Function, spec: FunctionSpec) -> None:
        self._monitoring.alarm(
            function,
            "ErrorsAlarm",
            function.metric_errors(period=ALARM_PERIOD, statistic=cloudwatch.Stats.SUM),
            threshold=1,
            description=f"{spec.name}: invocations failed (unhandled errors or timeouts)",
        )
        self._monitoring.alarm(
            function,
            "ThrottlesAlarm",
            function.metric_throttles(period=ALARM_PERIOD, statistic=cloudwatch.Stats.SUM),
            threshold=1,
            description=f"{spec.name}: invocations throttled (concurrency limit reached)",
        )
