"""Typed refusals of the import engine.

Every way an import can fail is an :class:`ImportRefused` with a stable
``slug``; the photos API turns it into an RFC 9457 problem (``to_problem``)
so the app can switch on ``https://cheese.dev/problems/<slug>``. The
``detail`` is written for the user and never contains an address we resolved
or anything from our own network.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Literal

if TYPE_CHECKING:  # pragma: no cover
    from cheese_runtime.errors import Problem

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

# Suggested HTTP status of each refusal (the lead's routes may override).
HTTP_STATUS: dict[str, int] = {
    "url-not-allowed": 422,
    "host-not-allowed": 422,
    "address-not-allowed": 422,
    "too-many-redirects": 422,
    "too-large": 413,
    "timeout": 504,
    "not-an-image": 422,
    "upstream-error": 502,
    "no-images-found": 422,
    "qr-not-found": 422,
}

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


class ImportRefused(Exception):
    """An import that cannot (or must not) go ahead. ``slug`` is stable."""

    def __init__(self, slug: ImportSlug, detail: str, **extensions: Any) -> None:
        super().__init__(f"{slug}: {detail}")
        self.slug: ImportSlug = slug
        self.detail = detail
        self.extensions = extensions

    @property
    def status(self) -> int:
        return HTTP_STATUS.get(self.slug, 422)

    @property
    def title(self) -> str:
        return TITLES.get(self.slug, "Import failed")

    def to_problem(self) -> Problem:
        from cheese_runtime.errors import Problem

        return Problem(self.status, self.slug, self.title, self.detail, **self.extensions)
