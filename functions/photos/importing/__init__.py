"""Photo import from photo-booth QR codes: SSRF-safe fetching, booth adapters, QR reading.

Public API (see README.md)::

    from functions.photos.importing import resolve, decode_qr, ImportRefused

    images = resolve(url)            # list[Fetched], each .body holding a photo
    urls = decode_qr(picture_bytes)  # list[str] of http(s) URLs
"""

from __future__ import annotations

from functions.photos.importing.errors import ImportRefused, ImportSlug
from functions.photos.importing.fetcher import Deadline, Fetched, SafeFetcher, system_resolver
from functions.photos.importing.qr import decode_qr
from functions.photos.importing.service import default_fetcher, resolve
from functions.photos.importing.settings import ImportSettings, get_import_settings

__all__ = [
    "Deadline",
    "Fetched",
    "ImportRefused",
    "ImportSettings",
    "ImportSlug",
    "SafeFetcher",
    "decode_qr",
    "default_fetcher",
    "get_import_settings",
    "resolve",
    "system_resolver",
]
