"""The background functions: event consumers, S3 notification consumers and
scheduled jobs (all but those that post to WebSocket connections, which the
service stack holds), generated from ``cheese_runtime.resources``.

They are a stack of their own because one stack holds at most 500 resources
(CloudFormation's limit) and each consumer brings about fifteen (function, role,
policy, log group, security group, queue, DLQ, rule, alarms). The stack depends
on the service stack, so that it deploys after the service stack's key rotation
and schema migration have run; its alarms go to the service stack's topic.
"""

from __future__ import annotations

from typing import Any

from aws_cdk import Stack
from constructs import Construct

from infra.components.background import build_background_functions, manages_connections
from infra.components.functions import FunctionFactory
from infra.config import StageConfig
from infra.grants import GrantTargets
from infra.stacks.data import DataStack
from infra.stacks.service import ServiceStack


class WorkersStack(Stack):
    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        data: DataStack,
        service: ServiceStack,
        config: StageConfig,
        **kwargs: Any,
    ) -> None:
        super().__init__(scope, construct_id, **kwargs)
        self.add_stack_dependency(service, "keys and schema exist before any worker runs")
        functions = FunctionFactory(
            self,
            "Functions",
            targets=GrantTargets(data),
            config=config,
            monitoring=service.monitoring,
        )
        self.background_functions = build_background_functions(
            self,
            functions,
            data=data,
            config=config,
            monitoring=service.monitoring,
            where=lambda spec: not manages_connections(spec),
        )
