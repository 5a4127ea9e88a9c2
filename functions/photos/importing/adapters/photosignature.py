"""Photo Signature (포토시그니처).

UNCONFIRMED against live pages. What public client code observes: older
prints open ``http://photoqr3.kr/...`` (also ``photoqr2.kr``; plain http)
whose photo is under ``photoqr3.kr/R/...a.jpg``; newer prints open
``https://photosignature-viewer.web.app/...``, a script-driven viewer whose
photo is ``https://photosignature-asset-cdn.photosignature.workers.dev/
sessions/<id>/final.jpg``. How the viewer URL names the session is a GUESS
(a ``session``/``sessionId``/``id`` query parameter or the last path
segment): confirm it.

Tiers: the derived CDN address (viewer only) and ``/R/`` images; then
download links and photo ``<img>``; then og:image; then image links.
"""

from __future__ import annotations

import re
from urllib.parse import parse_qs, urlsplit

from functions.photos.importing.adapters.base import HtmlAdapter, absolute, unique
from functions.photos.importing.fetcher import Fetched
from functions.photos.importing.pages import first_src, parse_page

CDN = "https://photosignature-asset-cdn.photosignature.workers.dev"
_SESSION = re.compile(r"^[A-Za-z0-9_-]{8,128}$")
_R_IMAGE = re.compile(r"/R/[^?#]+\.(?:jpe?g|png)$", re.IGNORECASE)


class PhotoSignature(HtmlAdapter):
    name = "photosignature"
    hosts = ("photoqr2.kr", "photoqr3.kr", "photosignature-viewer.web.app")
    image_hosts = ("photosignature-asset-cdn.photosignature.workers.dev",)
    http_hosts = ("photoqr2.kr", "photoqr3.kr")
    image_ids = ("photo", "image", "resultImage")
    image_classes = ("photo", "result-image")
    link_ids = ("download", "btnDownload")
    link_classes = ("download", "btn-download")

    def derived_urls(self, page: Fetched) -> list[str]:
        found: list[str | None] = []
        parts = urlsplit(page.final_url)
        if parts.hostname == "photosignature-viewer.web.app":
            query = parse_qs(parts.query)
            names = [
                *(query.get("sessionId") or []),
                *(query.get("session") or []),
                *(query.get("id") or []),
                parts.path.rstrip("/").rsplit("/", 1)[-1],
            ]
            session = next((name for name in names if _SESSION.match(name)), None)
            if session:
                found.append(f"{CDN}/sessions/{session}/final.jpg")
        parsed = parse_page(page.text())
        candidates = [absolute(page, parsed, first_src(e)) for e in parsed.find("img")]
        candidates += [absolute(page, parsed, e.get("href")) for e in parsed.find("a")]
        found += [url for url in candidates if url and _R_IMAGE.search(urlsplit(url).path)]
        return unique(found)


ADAPTER = PhotoSignature()
