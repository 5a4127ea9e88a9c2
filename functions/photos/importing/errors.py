"""Typed refusals of the import engine.

Every way an import can fail is an :class:`ImportRefused` with a stable
``slug``; the photos app maps each slug to an HTTP status (``ERRORS`` in
functions/photos/app.py) so the app can switch on
``https://cheese.dev/problems/<slug>``. The ``detail`` is written for the
user and never contains an address we resolved or anything from our own
network.
"""

from __future__ import annotations

from typing import Any, Literal

from cheese_runtime.errors import DomainError

ImportSlug = Literal[
    "url-not-allowed",  # not http(s), userinfo, odd port, malformed, too long
    "host-not-allowed",  # host not on the allow-list (booth vendors + settings)
    "address-not-allowed",  # DNS answer or literal is private/loopback/metadata/...
    "too-many-redirects",
    "too-large",  # Content-Length or streamed body over the byte cap
    "timeout",  # a fetch or the whole import ran out of time
    "not-an-image",  # bytes are not JPEG/PNG/WebP/HEIC (sniffed, not trusted)
    "upstream-error",  # the vendor answered badly (4xx/5xx, TLS, reset, garbage)
    "no-images-found",  # the page holds no image we may fetch
    "qr-not-found",  # no QR code with a web address in the picture
]

TITLES: dict[str, str] = {
    "url-not-allowed": "This link cannot be imported",
    "host-not-allowed": "This photo booth is not supported",
    "address-not-allowed": "This link points somewhere we do not fetch from",
    "too-many-redirects": "Too many redirects",
    "too-large": "The photo is too large",
    "timeout": "The photo booth took too long to answer",
    "not-an-image": "That is not a photo",
    "upstream-error": "The photo booth's site answered with an error",
    "no-images-found": "No photo found on that page",
    "qr-not-found": "No QR code found",
}


class ImportRefused(DomainError):
    """An import that cannot (or must not) go ahead. ``slug`` is stable."""

    def __init__(self, slug: ImportSlug, detail: str, **extensions: Any) -> None:
        self.slug = slug
        self.title = TITLES.get(slug, "Import failed")
        super().__init__(detail, **extensions)

    def __str__(self) -> str:
        return f"{self.slug}: {self.detail}"
