"""Capture what the shared Powertools Logger writes, as the JSON lines Lambda would print."""

from __future__ import annotations

import json
import logging
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from cheese_runtime.observability import logger


class _Lines(logging.Handler):
    def __init__(self) -> None:
        super().__init__()
        self.setFormatter(logger.registered_formatter)
        self.records: list[dict[str, Any]] = []
        self._lock = threading.Lock()

    def emit(self, record: logging.LogRecord) -> None:
        line = json.loads(self.format(record))
        with self._lock:
            self.records.append(line)


@contextmanager
def captured_logs(level: str = "INFO") -> Iterator[list[dict[str, Any]]]:
    """Every line logged meanwhile (from any thread), formatted by the Logger's own formatter."""
    lines = _Lines()
    previous = logger.log_level
    logger.addHandler(lines)
    logger.setLevel(level)
    try:
        yield lines.records
    finally:
        logger.setLevel(previous)
        logger.removeHandler(lines)
