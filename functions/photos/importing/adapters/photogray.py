"""Photogray (포토그레이).

UNCONFIRMED against live pages. What public client code observes: the QR
code opens ``https://pgshort.aprd.io/<code>``, which redirects to
``https://photogray-download.aprd.io/?id=<base64>``; the base64 decodes to a
query string ``sessionId=<id>&mode=...&expiredDate=...`` and the photo is
``https://pg-qr-resource.aprd.io/<sessionId>/image.jpg``.

Tiers: the address derived from ``id``; then the page's photo ``<img>`` /
download links; then og:image; then image links.
"""

from __future__ import annotations

import base64
import binascii
import re
from urllib.parse import parse_qs, urlsplit

from functions.photos.importing.adapters.base import HtmlAdapter
from functions.photos.importing.fetcher import Fetched

IMAGE_BASE = "https://pg-qr-resource.aprd.io"
_SESSION = re.compile(r"^[A-Za-z0-9_-]{8,128}$")


class Photogray(HtmlAdapter):
    name = "photogray"
    hosts = ("pgshort.aprd.io", "photogray-download.aprd.io", ".photogray.co.kr")
    image_hosts = ("pg-qr-resource.aprd.io",)
    image_ids = ("image", "photo", "resultImage")
    image_classes = ("photo", "result-image")
    link_ids = ("download", "downloadBtn")
    link_classes = ("download", "btn-download")

    def session_id(self, page: Fetched) -> str | None:
        encoded = (parse_qs(urlsplit(page.final_url).query).get("id") or [""])[0]
        if not encoded or len(encoded) > 1024:
            return None
        padded = encoded + "=" * (-len(encoded) % 4)
        for decode in (base64.b64decode, base64.urlsafe_b64decode):
            try:
                decoded = decode(padded).decode("utf-8")
            except (binascii.Error, ValueError, UnicodeDecodeError):
                continue
            session = (parse_qs(decoded).get("sessionId") or [""])[0]
            if _SESSION.match(session):
                return session
        return None

    def derived_urls(self, page: Fetched) -> list[str]:
        session = self.session_id(page)
        return [f"{IMAGE_BASE}/{session}/image.jpg"] if session else []


ADAPTER = Photogray()
