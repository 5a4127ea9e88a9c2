"""The CDK app: ``cdk synth|deploy`` runs ``python -m infra.app`` (see cdk.json).

Context keys (``-c key=value`` or cdk.json): stage, deletionProtection,
alarmEmail, logRetention, backupRetentionDays, auroraMinAcu, auroraMaxAcu,
auroraReader, faceIndexBackend.
"""

from __future__ import annotations

import os
from dataclasses import dataclass

from aws_cdk import App, Environment, Tags, Validations
from cdk_nag import AwsSolutionsChecks

from infra.config import StageConfig
from infra.stacks.data import DataStack
from infra.stacks.service import ServiceStack
from infra.stacks.workers import WorkersStack


@dataclass(frozen=True)
class CheeseApp:
    data: DataStack
    service: ServiceStack
    workers: WorkersStack


def deployment_environment() -> Environment | None:
    """The CLI's account/region when it has them; environment-agnostic otherwise (tests)."""
    account, region = os.environ.get("CDK_DEFAULT_ACCOUNT"), os.environ.get("CDK_DEFAULT_REGION")
    return Environment(account=account, region=region) if account and region else None


def build(app: App, config: StageConfig) -> CheeseApp:
    env = deployment_environment()
    prefix = f"Cheese-{config.stage}"
    data = DataStack(
        app,
        f"{prefix}-Data",
        config=config,
        env=env,
        termination_protection=config.deletion_protection,
        description="Cheese: network, Aurora PostgreSQL, DynamoDB, S3, EventBridge, keys",
    )
    service = ServiceStack(
        app,
        f"{prefix}-Service",
        data=data,
        config=config,
        env=env,
        description="Cheese: HTTP and WebSocket APIs, key rotation, migrations, alarms",
    )
    workers = WorkersStack(
        app,
        f"{prefix}-Workers",
        data=data,
        service=service,
        config=config,
        env=env,
        description="Cheese: event consumers, S3 notification consumers, scheduled jobs",
    )
    for key, value in (("project", "cheese"), ("stage", config.stage)):
        # CloudFormation rejects Tags on a proxy target group that CDK would propagate.
        Tags.of(app).add(key, value, exclude_resource_types=["AWS::RDS::DBProxyTargetGroup"])
    Validations.of(app).add_plugins(AwsSolutionsChecks(app))
    return CheeseApp(data, service, workers)


def main() -> None:
    app = App()
    build(app, StageConfig.from_context(app.node))
    app.synth()


if __name__ == "__main__":
    main()
