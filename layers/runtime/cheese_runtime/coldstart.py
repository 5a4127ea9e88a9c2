"""A cold start's imports: no garbage collection, and pydantic schemas built when first used.

A Lambda process imports once and serves many requests, so what its import
builds ahead of need is paid on every cold start. Two costs of that kind
are large and can be moved without changing what any request sees:

* **The cyclic garbage collector.** Importing an API function allocates a
  few hundred thousand container objects (modules, classes, functions,
  schemas) that live as long as the process. Every 700 net allocations the
  collector walks the young ones, every tenth time the middle generation
  too, and now and then all of them: 40–55 ms of a cold start went to
  collecting garbage that was not there. Imports run with the collector
  off; what they made is then frozen (moved to a generation the collector
  never scans, which keeps the warm process's collections short too) and
  the collector turned back on: the pattern ``gc.freeze`` documents for
  preforked servers.
* **Pydantic's validators and serializers.** Each model class builds its
  core schema when it is defined: ~57 ms for the OpenAPI models FastAPI
  defines at import and ~40 ms for ours, of which a request uses a few. Models defined during these imports get pydantic's ``defer_build``,
  so each builds on its first use (a route's first request, or the OpenAPI
  document), exactly as it would have at import. Models defined later keep
  pydantic's default.

bench/README.md (cold starts) has the figures, against a bare FastAPI +
Mangum handler imported plainly and with the same helper.
"""

from __future__ import annotations

import gc
from collections.abc import Iterator
from contextlib import contextmanager


@contextmanager
def cold_imports() -> Iterator[None]:
    """Import a handler's modules inside this block."""
    was_enabled = gc.isenabled()
    gc.disable()
    from pydantic import BaseModel

    # Every model merges its bases' model_config when its class is created, so
    # this reaches exactly the models defined inside the block.
    base_config = BaseModel.model_config
    already_deferred = "defer_build" in base_config
    base_config.setdefault("defer_build", True)
    try:
        yield
    finally:
        if not already_deferred:
            del base_config["defer_build"]
        gc.freeze()
        if was_enabled:
            gc.enable()
