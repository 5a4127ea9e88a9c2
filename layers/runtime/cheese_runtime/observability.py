"""Powertools Logger, Tracer and Metrics, configured once per process.

The service name comes from ``POWERTOOLS_SERVICE_NAME`` (set per function by
the stack); metrics go to the ``Cheese`` namespace.
"""

from __future__ import annotations

import os
import warnings

from aws_lambda_powertools import Logger, Metrics, Tracer

METRICS_NAMESPACE = "Cheese"

os.environ.setdefault("POWERTOOLS_METRICS_NAMESPACE", METRICS_NAMESPACE)
# Most requests record no business metric; Powertools would warn on each of them.
warnings.filterwarnings("ignore", message="No application metrics to publish")

logger = Logger(service=os.environ.get("POWERTOOLS_SERVICE_NAME", "cheese"))
tracer = Tracer()
metrics = Metrics(namespace=METRICS_NAMESPACE)
