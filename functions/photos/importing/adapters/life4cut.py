"""Life4Cut (인생네컷).

UNCONFIRMED against live pages (no internet where this was written). What
public client code observes: the QR code opens ``https://api.life4cut.net/...``,
which redirects to ``https://download.life4cut.net/webQr?bucket=...&region=...
&folderPath=...``; the photo is ``https://{bucket}.s3.{region}.amazonaws.com
{folderPath}/image.jpg`` (bucket seen: ``release-renewal-s3``), fetched with
the download page as Referer. Older prints point at
``http://l4c01.lifejuin.biz/QRImage/<date>/<booth>/<id>/index.html``.

Tiers: the S3 address derived from the final URL; then the page's
``<img id=image|photo>`` / download links; then og:image; then image links.
A bucket other than the known one must be added to
``CHEESE_IMPORT_ALLOWED_HOSTS`` (``<bucket>.s3.<region>.amazonaws.com``).
"""

from __future__ import annotations

import re
from urllib.parse import parse_qs, urlsplit

from functions.photos.importing.adapters.base import HtmlAdapter
from functions.photos.importing.fetcher import Fetched

_BUCKET = re.compile(r"^[a-z0-9][a-z0-9-]{1,61}[a-z0-9]$")  # no dots: one TLS label
_REGION = re.compile(r"^[a-z]{2}(?:-[a-z]+)+-\d$")
_FOLDER = re.compile(r"^/[A-Za-z0-9._/-]{1,300}$")


class Life4Cut(HtmlAdapter):
    name = "life4cut"
    hosts = (".life4cut.net", ".lifejuin.biz")
    image_hosts = ("release-renewal-s3.s3.ap-northeast-2.amazonaws.com",)
    http_hosts = (".lifejuin.biz",)
    image_ids = ("image", "photo", "qrImage", "downloadImage")
    image_classes = ("photo", "result-image", "download-image")
    link_ids = ("download", "downloadBtn", "btnDownload")
    link_classes = ("download", "btn-download")

    def derived_urls(self, page: Fetched) -> list[str]:
        query = parse_qs(urlsplit(page.final_url).query)
        bucket = (query.get("bucket") or [""])[0]
        region = (query.get("region") or ["ap-northeast-2"])[0]
        folder = (query.get("folderPath") or [""])[0].rstrip("/")
        if (
            not (_BUCKET.match(bucket) and _REGION.match(region) and _FOLDER.match(folder))
            or ".." in folder
        ):
            return []
        return [f"https://{bucket}.s3.{region}.amazonaws.com{folder}/image.jpg"]

    def referer(self, page: Fetched) -> str | None:
        return page.final_url if self.derived_urls(page) else None


ADAPTER = Life4Cut()
