"""Booth adapters: one module per vendor, found automatically.

Adding a vendor = adding one module here that defines ``ADAPTER``, an
instance of a :class:`~functions.photos.importing.adapters.base.BoothAdapter`
subclass (see README.md). ``base`` and ``generic`` are not vendors.
"""

from __future__ import annotations

import importlib
import pkgutil
from functools import lru_cache

from functions.photos.importing.adapters.base import BoothAdapter, HtmlAdapter
from functions.photos.importing.adapters.generic import GENERIC
from functions.photos.importing.urls import HostPatterns

__all__ = [
    "GENERIC",
    "BoothAdapter",
    "HtmlAdapter",
    "adapter_for",
    "adapters",
    "vendor_hosts",
    "vendor_http_hosts",
]

_NOT_VENDORS = frozenset({"base", "generic"})


@lru_cache(maxsize=1)
def adapters() -> tuple[BoothAdapter, ...]:
    """Every vendor adapter, in module-name order."""
    found = []
    for info in sorted(pkgutil.iter_modules(__path__), key=lambda m: m.name):
        if info.name in _NOT_VENDORS or info.name.startswith("_"):
            continue
        module = importlib.import_module(f"{__name__}.{info.name}")
        adapter = getattr(module, "ADAPTER", None)
        if not isinstance(adapter, BoothAdapter):
            raise TypeError(
                f"adapter module {info.name} must define ADAPTER = <BoothAdapter instance>"
            )
        found.append(adapter)
    return tuple(found)


@lru_cache(maxsize=1)
def _host_index() -> tuple[tuple[HostPatterns, BoothAdapter], ...]:
    return tuple((HostPatterns(adapter.hosts), adapter) for adapter in adapters())


def adapter_for(host: str) -> BoothAdapter | None:
    """The vendor whose page hosts include ``host`` (image hosts do not select)."""
    for patterns, adapter in _host_index():
        if patterns.matches(host):
            return adapter
    return None


def vendor_hosts() -> list[str]:
    """Every adapter's page and image hosts: the built-in allow-list."""
    return sorted(
        {host for adapter in adapters() for host in (*adapter.hosts, *adapter.image_hosts)}
    )


def vendor_http_hosts() -> list[str]:
    return sorted({host for adapter in adapters() for host in adapter.http_hosts})
