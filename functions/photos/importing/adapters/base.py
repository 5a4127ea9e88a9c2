"""The booth adapter interface and a configurable HTML adapter.

An adapter says which hosts it handles and turns a fetched booth page into
the addresses of its photos. Most vendors only need an :class:`HtmlAdapter`
subclass with a few class attributes; vendors whose page is a script-driven
shell override :meth:`BoothAdapter.extract` to derive the image address from
the final URL or to call the vendor's JSON API through the same
:class:`~functions.photos.importing.fetcher.SafeFetcher`.

Every address an adapter returns is checked again by the caller (allow-list,
scheme, addresses), so an adapter can be wrong but never unsafe.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import TYPE_CHECKING, ClassVar
from urllib.parse import urljoin, urlsplit

from functions.photos.importing.errors import ImportRefused
from functions.photos.importing.pages import Page, first_src, parse_page

if TYPE_CHECKING:  # pragma: no cover
    from functions.photos.importing.fetcher import Deadline, Fetched, SafeFetcher

IMAGE_PATH = re.compile(r"\.(?:jpe?g|png|webp|heic)(?:$|[?#])", re.IGNORECASE)


class BoothAdapter:
    """A vendor. Subclasses set the class attributes and implement ``image_urls``."""

    name: ClassVar[str] = "booth"
    # Hosts of the vendor's QR targets and download pages (selects the adapter).
    hosts: ClassVar[tuple[str, ...]] = ()
    # Hosts the vendor's pages point images at (allow-listed, never selects).
    image_hosts: ClassVar[tuple[str, ...]] = ()
    # Hosts observed to serve only plain http (used when settings.vendor_http).
    http_hosts: ClassVar[tuple[str, ...]] = ()

    def image_urls(self, page: Fetched) -> list[str]:
        """Absolute image URLs found in ``page`` (best first)."""
        raise NotImplementedError

    def extract(
        self, page: Fetched, fetcher: SafeFetcher, deadline: Deadline | None = None
    ) -> list[list[str]]:
        """Candidate image URLs for ``page`` in tiers, most trusted first.

        The caller fetches the first tier that yields at least one photo and
        ignores the rest (so a logo in og:image is not imported next to the
        real photo). Default: one tier, ``image_urls(page)``. Adapters may
        derive URLs from the final URL or call the vendor's JSON API here.
        """
        return [self.image_urls(page)]

    def referer(self, page: Fetched) -> str | None:
        """The Referer to send with the image requests (some CDNs check it)."""
        return None


def absolute(page: Fetched, parsed: Page | None, href: str) -> str | None:
    """Resolve ``href`` against the page's <base href> and final URL; http(s) only."""
    href = (href or "").strip()
    if not href or href.startswith(("data:", "javascript:", "blob:", "#", "mailto:")):
        return None
    base = page.final_url
    if parsed is not None and parsed.base_href:
        base = urljoin(page.final_url, parsed.base_href)
    url = urljoin(base, href)
    if urlsplit(url).scheme.lower() not in ("http", "https"):
        return None
    return url


def unique(urls: Iterable[str | None]) -> list[str]:
    seen: dict[str, None] = {}
    for url in urls:
        if url and url not in seen:
            seen[url] = None
    return list(seen)


class HtmlAdapter(BoothAdapter):
    """Reads a download page. In order of trust:

    1. ``<img>`` whose id is in ``image_ids`` or whose class is in ``image_classes``;
    2. ``<a>`` with a ``download`` attribute, or whose id/class is in
       ``link_ids``/``link_classes``, pointing at an image path;
    3. ``og:image`` / ``twitter:image`` / ``<link rel=image_src>`` (``use_meta``);
    4. any ``<img>``/``<a>`` whose path matches ``image_path`` (``use_pattern``).
    """

    image_ids: ClassVar[tuple[str, ...]] = ()
    image_classes: ClassVar[tuple[str, ...]] = ()
    link_ids: ClassVar[tuple[str, ...]] = ()
    link_classes: ClassVar[tuple[str, ...]] = ()
    use_meta: ClassVar[bool] = True
    use_pattern: ClassVar[bool] = True
    image_path: ClassVar[re.Pattern[str]] = IMAGE_PATH

    def image_urls(self, page: Fetched) -> list[str]:
        """Every candidate that needs no further request, most trusted first."""
        return unique(
            [*self.derived_urls(page), *(url for tier in self.page_tiers(page) for url in tier)]
        )

    def extract(
        self, page: Fetched, fetcher: SafeFetcher, deadline: Deadline | None = None
    ) -> list[list[str]]:
        derived = self.derived_urls(page)
        try:
            from_api = self.api_urls(page, fetcher, deadline)
        except ImportRefused as error:
            # The page itself may still show the photo; report the API's
            # error only when it does not (and always when time is up).
            tiers = self.page_tiers(page)
            if error.slug == "timeout" or not (derived or any(tiers)):
                raise
            return [derived, *tiers]
        return [unique([*derived, *from_api]), *self.page_tiers(page)]

    def derived_urls(self, page: Fetched) -> list[str]:
        """Image URLs computed from the page's final URL (most trusted tier)."""
        return []

    def api_urls(self, page: Fetched, fetcher: SafeFetcher, deadline: Deadline | None) -> list[str]:
        """Image URLs obtained from the vendor's JSON API (same tier as ``derived_urls``)."""
        return []

    def page_tiers(self, page: Fetched) -> list[list[str]]:
        """The page's candidates: selected elements, then meta tags, then path patterns."""
        parsed = parse_page(page.text())
        found: list[str | None] = []
        for element in parsed.find("img") + parsed.find("source"):
            if element.id in self.image_ids or element.classes & set(self.image_classes):
                found.append(absolute(page, parsed, first_src(element)))
        for element in parsed.find("a"):
            href = element.get("href")
            chosen = element.id in self.link_ids or bool(element.classes & set(self.link_classes))
            if chosen or ("download" in element.attrs and self._looks_like_image(href)):
                found.append(absolute(page, parsed, href))
        tiers = [unique(found)]
        found = []
        if self.use_meta:
            found.extend(
                absolute(page, parsed, value)
                for value in parsed.meta(
                    "og:image",
                    "og:image:url",
                    "og:image:secure_url",
                    "twitter:image",
                    "twitter:image:src",
                )
            )
            found.extend(
                absolute(page, parsed, e.get("href"))
                for e in parsed.find("link")
                if "image_src" in e.get("rel").lower().split()
            )
        tiers.append(unique(found))
        found = []
        if self.use_pattern:
            for element in parsed.find("img"):
                src = first_src(element)
                if self.image_path.search(src):
                    found.append(absolute(page, parsed, src))
            for element in parsed.find("a"):
                if self.image_path.search(element.get("href")):
                    found.append(absolute(page, parsed, element.get("href")))
        tiers.append(unique(found))
        return tiers

    def _looks_like_image(self, href: str) -> bool:
        # A download link without an extension (…/download?id=1) is accepted
        # too: the fetched bytes are sniffed anyway.
        path = urlsplit(href).path
        return bool(self.image_path.search(href)) or "." not in path.rsplit("/", 1)[-1]
