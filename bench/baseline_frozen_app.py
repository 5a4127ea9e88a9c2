"""The bare baseline imported as our handlers are: collector off, imports frozen
(``cheese_runtime.coldstart``), for the second ratio the cold-start bench reports."""

from cheese_runtime.coldstart import cold_imports

with cold_imports():
    from bench.baseline_app import handler

__all__ = ["handler"]
