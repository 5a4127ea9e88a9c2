"""From a QR link to photo bytes: pick the adapter, fetch the page, fetch the photos."""

from __future__ import annotations

import hashlib
import io
from collections.abc import Iterable

from functions.photos.importing import adapters as registry
from functions.photos.importing.adapters import GENERIC, BoothAdapter
from functions.photos.importing.errors import ImportRefused
from functions.photos.importing.fetcher import Deadline, Fetched, Resolver, SafeFetcher
from functions.photos.importing.pages import parse_page, refresh_target
from functions.photos.importing.settings import ImportSettings, get_import_settings

# Pictures smaller than this on both sides are icons and logos, not photos.
MIN_PHOTO_SIDE = 200


def default_fetcher(
    settings: ImportSettings | None = None,
    *,
    resolver: Resolver | None = None,
    ca_certs: str | None = None,
) -> SafeFetcher:
    """A fetcher whose allow-list is the settings' hosts plus every adapter's hosts."""
    return SafeFetcher(
        settings or get_import_settings(),
        allowed_hosts=registry.vendor_hosts(),
        http_hosts=registry.vendor_http_hosts(),
        resolver=resolver,
        ca_certs=ca_certs,
    )


def adapter_for_url(fetcher: SafeFetcher, url: str) -> BoothAdapter:
    return registry.adapter_for(fetcher.check_url(url).host) or GENERIC


def _is_tiny(image: Fetched) -> bool:
    try:
        from PIL import Image
    except ImportError:  # pragma: no cover - Pillow ships with the ML layer
        return False
    try:
        with Image.open(io.BytesIO(image.body)) as opened:  # header only
            width, height = opened.size
    except Exception:  # HEIC or damaged: the pipeline decides
        return False
    return max(width, height) < MIN_PHOTO_SIDE


def _fetch_tier(
    fetcher: SafeFetcher, urls: Iterable[str], referer: str | None, deadline: Deadline
) -> tuple[list[Fetched], ImportRefused | None]:
    images: list[Fetched] = []
    digests: set[str] = set()
    first_error: ImportRefused | None = None
    for url in urls:
        try:
            image = fetcher.fetch(url, accept="image", referer=referer, deadline=deadline)
        except ImportRefused as error:
            if deadline.expired():
                raise
            first_error = first_error or error
            continue
        digest = hashlib.sha256(image.body).hexdigest()
        if digest in digests or _is_tiny(image):
            continue
        digests.add(digest)
        images.append(image)
    return images, first_error


def resolve(
    url: str, *, fetcher: SafeFetcher | None = None, settings: ImportSettings | None = None
) -> list[Fetched]:
    """The photos behind a booth QR link (at least one), or :class:`ImportRefused`.

    A link that serves a photo directly is returned as is. Otherwise the
    adapter of the page's host (after redirects) reads the page; its
    candidate tiers are tried in order and the first tier that yields a photo
    wins (at most ``max_images`` photos, duplicates dropped). Every fetch goes
    through the ``SafeFetcher`` checks, and the whole import shares one
    ``import_timeout``.
    """
    fetcher = fetcher or default_fetcher(settings)
    limits = fetcher.settings
    deadline = Deadline(limits.import_timeout)
    fetcher.check_url(url)  # clear errors before any network access
    page = fetcher.fetch(url, accept="page", deadline=deadline)
    hops = len(page.redirects)
    while True:
        if page.is_image:
            return [page]
        adapter = registry.adapter_for(page.host) or adapter_for_url(fetcher, url)
        tiers = adapter.extract(page, fetcher, deadline)
        if any(tiers):
            break
        # A short-link page that forwards with <meta http-equiv=refresh> counts
        # as one more redirect (same limit, same checks).
        target = refresh_target(parse_page(page.text()))
        if target is None:
            break
        if hops >= limits.max_redirects:
            raise ImportRefused(
                "too-many-redirects", f"The link redirects more than {limits.max_redirects} times."
            )
        next_url = fetcher.check_url(target, base=page.final_url).url
        page = fetcher.fetch(next_url, accept="page", deadline=deadline)
        hops += 1 + len(page.redirects)
    referer = adapter.referer(page)
    last_error: ImportRefused | None = None
    tried = 0
    for tier in tiers:
        allowed = [candidate for candidate in tier if fetcher.host_allowed(candidate)]
        allowed = allowed[: max(0, limits.max_images - tried)]
        if not allowed:
            continue
        tried += len(allowed)
        images, error = _fetch_tier(fetcher, allowed, referer, deadline)
        if images:
            return images
        last_error = error or last_error
        if tried >= limits.max_images:
            break
    if last_error is not None:
        raise last_error
    raise ImportRefused("no-images-found", "The page does not show a photo we can import.")
