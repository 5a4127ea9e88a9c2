"""Lambda handler factories: one per trigger kind, and the one place observability is wired.

A function module writes plain functions and exposes ``handler = <factory>(...)``;
the factory speaks the trigger's protocol and wraps the invocation in
:func:`observed` (Logger with the trigger's correlation id, Tracer, Metrics).

==================================================  =============================================
trigger                                             factory
==================================================  =============================================
API Gateway HTTP API (v2)                           ``cheese_runtime.http.lambda_handler(app)``
SQS ← EventBridge rule (domain events)              ``cheese_runtime.consumers.event_consumer``
SQS ← S3 object notification                        ``cheese_runtime.consumers.s3_object_consumer``
EventBridge schedule, or a direct invocation        :func:`scheduled_handler`
API Gateway WebSocket API (every route)             :func:`websocket_handler`
API Gateway REQUEST authorizer (WebSocket connect)  :func:`authorizer_handler`
deploy step (CDK Trigger, CloudFormation resource)  :func:`deploy_step_handler`
==================================================  =============================================

Log lines carry the name of the function that wrote them (``service``):
``POWERTOOLS_SERVICE_NAME``, which the CDK app sets per function, or else the
invoked function's name, which the local stack sets from the declaration in
``resources``. The per-invocation keys are the Logger's thread-safe keys,
because the local stack runs many functions' invocations on threads of one
process with one Logger.
"""

from __future__ import annotations

import functools
import json
import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, TypeVar, cast

from aws_lambda_powertools.logging import correlation_paths
from aws_lambda_powertools.logging.lambda_context import build_lambda_context_model
from aws_lambda_powertools.utilities import jmespath_utils
from aws_lambda_powertools.utilities.typing import LambdaContext
from pydantic import BaseModel, ConfigDict

from cheese_runtime.observability import logger, metrics, tracer

if TYPE_CHECKING:
    from aws_lambda_powertools.utilities.data_classes.api_gateway_authorizer_event import (
        APIGatewayAuthorizerRequestEvent,
    )
    from aws_lambda_powertools.utilities.parser.models import (
        CloudFormationCustomResourceBaseModel,
    )

# Powertools' event models and data classes are imported by the factory that
# needs them, not here: every HTTP function imports this module for
# ``observed``, and importing any of them loads all of them (~0.1-0.3 s of a cold start).

LambdaHandler = Callable[[Any, LambdaContext], Any]
Payload = TypeVar("Payload", bound=BaseModel)

# API Gateway WebSocket and REQUEST-authorizer events carry their request id where REST's does.
WEBSOCKET_CORRELATION_PATH = correlation_paths.API_GATEWAY_REST
SCHEDULED_EVENT = "Scheduled Event"


def service_name(context: LambdaContext) -> str:
    return os.environ.get("POWERTOOLS_SERVICE_NAME") or context.function_name


def observed(handler: LambdaHandler, *, correlation_id_path: str | None = None) -> LambdaHandler:
    """``handler`` with Powertools logging (function name, correlation id), tracing and metrics."""

    @logger.inject_lambda_context(correlation_id_path=correlation_id_path, clear_state=True)
    @tracer.capture_lambda_handler(capture_response=False)
    @metrics.log_metrics
    @functools.wraps(handler)
    def invocation(event: Any, context: LambdaContext) -> Any:
        keys: dict[str, Any] = {
            "service": service_name(context),
            **vars(build_lambda_context_model(context)),
        }
        if correlation_id_path:
            keys["correlation_id"] = jmespath_utils.query(data=event, envelope=correlation_id_path)
        logger.thread_safe_append_keys(**keys)
        return handler(event, context)

    return cast(LambdaHandler, invocation)


# --- schedules -------------------------------------------------------------------------


class NoPayload(BaseModel):
    """The payload of a job that takes none: a direct invocation passes ``{}``."""

    model_config = ConfigDict(extra="forbid")


def scheduled_handler(job: Callable[[Payload], Any], payload: type[Payload]) -> LambdaHandler:
    """A job run by an EventBridge schedule, or invoked directly with a payload.

    An EventBridge rule's ``Scheduled Event`` gives the job ``payload`` built
    from the event's (empty) detail; any other event is the payload itself,
    as EventBridge Scheduler, ``aws lambda invoke`` and a CDK Trigger (``{}``)
    send it. An event that is neither fails the invocation.
    """

    from aws_lambda_powertools.utilities.parser.models import EventBridgeModel

    def run(event: Any, context: LambdaContext) -> Any:
        if isinstance(event, dict) and "detail-type" in event:
            scheduled = EventBridgeModel.model_validate(event)
            if scheduled.detail_type != SCHEDULED_EVENT:
                raise ValueError(f"not a scheduled event: {scheduled.detail_type!r}")
            logger.thread_safe_append_keys(scheduled_at=scheduled.time.isoformat())
            result = job(payload.model_validate(scheduled.detail))
        else:
            result = job(payload.model_validate(event))
        return result.model_dump(mode="json") if isinstance(result, BaseModel) else result

    return observed(run, correlation_id_path=correlation_paths.EVENT_BRIDGE)


# --- WebSocket -------------------------------------------------------------------------


def websocket_handler(route: Callable[[dict[str, Any]], dict[str, Any]]) -> LambdaHandler:
    """Every route of an API Gateway WebSocket API ($connect, $disconnect, $default, actions).

    ``route`` gets the proxy event (its ``requestContext.authorizer`` holds what
    the $connect authorizer granted) and returns what API Gateway expects:
    only $connect's answer matters (status, ``Sec-WebSocket-Protocol``).
    """

    def invoke(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
        request = event.get("requestContext") or {}
        logger.thread_safe_append_keys(
            route=request.get("routeKey"), connection_id=request.get("connectionId")
        )
        return route(event)

    return observed(invoke, correlation_id_path=WEBSOCKET_CORRELATION_PATH)


# --- REQUEST authorizers ---------------------------------------------------------------


@dataclass(frozen=True)
class Grant:
    """An authorizer's yes: who connects, and the context API Gateway passes to later events."""

    principal_id: str
    context: Mapping[str, str | int | bool] = field(default_factory=dict)


def iam_policy(
    principal_id: str, effect: str, resource: str, context: Mapping[str, Any] | None = None
) -> dict[str, Any]:
    response: dict[str, Any] = {
        "principalId": principal_id,
        "policyDocument": {
            "Version": "2012-10-17",
            "Statement": [{"Action": "execute-api:Invoke", "Effect": effect, "Resource": resource}],
        },
    }
    if context:
        response["context"] = dict(context)
    return response


def authorizer_handler(
    authorize: Callable[[APIGatewayAuthorizerRequestEvent], Grant | None],
) -> LambdaHandler:
    """An API Gateway REQUEST authorizer: ``authorize`` returns a Grant, or None to deny.

    The answer is the IAM policy API Gateway expects, on exactly the method
    ARN asked for (a WebSocket route ARN has no method/path for a wildcard).
    """

    from aws_lambda_powertools.utilities.data_classes.api_gateway_authorizer_event import (
        APIGatewayAuthorizerRequestEvent,
    )

    def invoke(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
        request = APIGatewayAuthorizerRequestEvent(event)
        grant = authorize(request)
        if grant is None:
            return iam_policy("anonymous", "Deny", request.method_arn)
        return iam_policy(grant.principal_id, "Allow", request.method_arn, grant.context)

    return observed(invoke, correlation_id_path=WEBSOCKET_CORRELATION_PATH)


# --- deploy steps ----------------------------------------------------------------------


def deploy_step_handler(step: Callable[[], Mapping[str, str]]) -> LambdaHandler:
    """A step every deploy runs before new code serves (migrations), returning a few strings.

    Invoked by a CDK Trigger (an empty event; raising fails the deploy) or
    as a CloudFormation custom resource provider: ``Create`` and ``Update``
    run the step, ``Delete`` does nothing (a schema outlives its stack's
    resource), and the outcome is PUT to the request's ``ResponseURL``, as
    CloudFormation waits for it rather than for the return value.
    """

    from aws_lambda_powertools.utilities.parser.models import (
        CloudFormationCustomResourceBaseModel,
    )

    def invoke(event: dict[str, Any], context: LambdaContext) -> Mapping[str, str]:
        if not (isinstance(event, dict) and "RequestType" in event):
            return step()
        request = CloudFormationCustomResourceBaseModel.model_validate(event)
        physical_id = event.get("PhysicalResourceId") or request.logical_resource_id
        try:
            data = step() if request.request_type in ("Create", "Update") else {}
        except Exception as exc:
            logger.exception("deploy step failed")
            _respond(request, physical_id, "FAILED", reason=f"{type(exc).__name__}: {exc}"[:500])
            raise
        _respond(request, physical_id, "SUCCESS", data=data)
        return data

    return observed(invoke, correlation_id_path="RequestId")


def _respond(
    request: CloudFormationCustomResourceBaseModel,
    physical_id: str,
    status: str,
    *,
    data: Mapping[str, str] | None = None,
    reason: str = "",
) -> None:
    import urllib.request

    body = json.dumps(
        {
            "Status": status,
            "Reason": reason or status,
            "PhysicalResourceId": physical_id,
            "StackId": request.stack_id,
            "RequestId": request.request_id,
            "LogicalResourceId": request.logical_resource_id,
            "Data": dict(data or {}),
        }
    ).encode()
    # The presigned S3 URL is signed without a content type: send none.
    put = urllib.request.Request(
        str(request.response_url), data=body, method="PUT", headers={"Content-Type": ""}
    )
    with urllib.request.urlopen(put, timeout=30) as answer:
        answer.read()
