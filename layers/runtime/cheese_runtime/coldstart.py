"""A cold start's imports without the cyclic garbage collector.

Importing an API function allocates a few hundred thousand container objects
(modules, classes, functions, pydantic and SQLAlchemy schemas) that live as
long as the process. Every 700 net allocations the collector walks the
young ones, every tenth time the middle generation too, and now and then
all of them: a cold start spends 40–55 ms of its import collecting garbage
it does not have (bench/README.md, cold starts). So a handler module imports with the collector off, then
freezes what it imported (moves it to a generation the collector never
scans, which also keeps later collections of the warm process short) and
turns the collector back on. This is the pattern ``gc.freeze`` documents for
preforked servers; a Lambda process is the same case: one load, many requests.
"""

from __future__ import annotations

import gc
from collections.abc import Iterator
from contextlib import contextmanager


@contextmanager
def imports_without_collection() -> Iterator[None]:
    """Import inside this block; what it imported is frozen when it ends."""
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        gc.freeze()
        if was_enabled:
            gc.enable()
