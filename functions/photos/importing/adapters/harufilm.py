"""Harufilm (하루필름).

UNCONFIRMED against live pages. What public client code observes: the QR
code opens ``http://haru<N>.mx2.co.kr/...`` (plain http; one host per
branch group) and the photo is served from the same host under
``/download/album/...jpg``. Plain http needs ``CHEESE_IMPORT_VENDOR_HTTP=true``;
otherwise the link is tried over https.

Tiers: the page's ``/download/album/`` images and download links; then
og:image; then image links. Videos (.mp4) on the page are ignored.
"""

from __future__ import annotations

import re
from urllib.parse import urlsplit

from functions.photos.importing.adapters.base import HtmlAdapter, absolute, unique
from functions.photos.importing.fetcher import Fetched
from functions.photos.importing.pages import first_src, parse_page

_ALBUM = re.compile(r"/download/album/[^?#]+\.(?:jpe?g|png)$", re.IGNORECASE)


class Harufilm(HtmlAdapter):
    name = "harufilm"
    hosts = ("haru*.mx2.co.kr", ".harufilm.kr")
    http_hosts = ("haru*.mx2.co.kr",)
    image_ids = ("photo", "image", "albumImage")
    image_classes = ("photo", "album-image")
    link_ids = ("download", "downBtn")
    link_classes = ("download", "btn-down")

    def derived_urls(self, page: Fetched) -> list[str]:
        # Album images are the most specific signal this vendor gives.
        parsed = parse_page(page.text())
        candidates = [absolute(page, parsed, first_src(e)) for e in parsed.find("img")]
        candidates += [absolute(page, parsed, e.get("href")) for e in parsed.find("a")]
        found = [url for url in candidates if url and _ALBUM.search(urlsplit(url).path)]
        return unique(found)


ADAPTER = Harufilm()
