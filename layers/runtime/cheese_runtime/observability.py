"""Powertools Logger, Tracer and Metrics, configured once per process.

The service name comes from ``POWERTOOLS_SERVICE_NAME`` (set per function by
the stack); metrics go to the ``Cheese`` namespace.

``tracer`` is a Powertools ``Tracer`` (``capture_lambda_handler``,
``capture_method``, annotations...). While tracing is off (the local stack,
tests, ``POWERTOOLS_TRACE_DISABLED``) it records into :class:`UntracedProvider`
instead of the X-Ray SDK: Powertools builds its X-Ray provider even for a
disabled tracer, and importing ``aws_xray_sdk.core`` (its sampler, botocore
session and patchers) costs a cold start about as much as FastAPI itself.
"""

from __future__ import annotations

import os
import warnings
from collections.abc import AsyncIterator, Iterator, Sequence
from contextlib import asynccontextmanager, contextmanager
from typing import Any

from aws_lambda_powertools import Logger, Metrics, Tracer
from aws_lambda_powertools.tracing.base import BaseProvider, BaseSegment

METRICS_NAMESPACE = "Cheese"

os.environ.setdefault("POWERTOOLS_METRICS_NAMESPACE", METRICS_NAMESPACE)
# Most requests record no business metric; Powertools would warn on each of them.
warnings.filterwarnings("ignore", message="No application metrics to publish")


class UntracedSegment(BaseSegment):
    """A segment that records nothing."""

    def close(self, end_time: int | None = None) -> None:
        pass

    def add_subsegment(self, subsegment: Any) -> None:
        pass

    def remove_subsegment(self, subsegment: Any) -> None:
        pass

    def put_annotation(self, key: str, value: Any) -> None:
        pass

    def put_metadata(self, key: str, value: Any, namespace: str = "default") -> None:
        pass

    def add_exception(self, exception: BaseException, stack: Any, remote: bool = False) -> None:
        pass


class UntracedProvider(BaseProvider):
    """The tracing provider while tracing is off: segments that record nothing."""

    @contextmanager
    def in_subsegment(self, name: str | None = None, **kwargs: Any) -> Iterator[BaseSegment]:
        yield UntracedSegment()

    @asynccontextmanager
    async def in_subsegment_async(
        self, name: str | None = None, **kwargs: Any
    ) -> AsyncIterator[BaseSegment]:
        yield UntracedSegment()

    def put_annotation(self, key: str, value: Any) -> None:
        pass

    def put_metadata(self, key: str, value: Any, namespace: str = "default") -> None:
        pass

    def patch(self, modules: Sequence[str]) -> None:
        pass

    def patch_all(self) -> None:
        pass


def build_tracer() -> Tracer:
    """X-Ray when Powertools would trace (in Lambda, not disabled), else untraced."""
    # Powertools' own rule: POWERTOOLS_TRACE_DISABLED, or not running in Lambda
    # (or in SAM local / Chalice).
    if Tracer._is_tracer_disabled():
        return Tracer(provider=UntracedProvider(), disabled=True)
    return Tracer()


logger = Logger(service=os.environ.get("POWERTOOLS_SERVICE_NAME", "cheese"))
tracer = build_tracer()
metrics = Metrics(namespace=METRICS_NAMESPACE)
