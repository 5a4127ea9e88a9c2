"""Photoism (포토이즘).

UNCONFIRMED against live pages. What public client code observes: the QR
code opens ``https://qr.seobuk.kr/s/<code>``, which redirects to a
script-driven page whose URL carries ``u=<uid>``; the page's script POSTs
``{"uid": "<uid>", "appUserId": null}`` to
``https://cmsapi.seobuk.kr/v1/etc/seq/resource`` and shows
``content.fileInfo.picFile.path``, an image on
``photoism-cms-prd.s3.ap-northeast-2.amazonaws.com``.

Tiers: the API's picture; then the page's photo ``<img>`` / download links;
then og:image; then image links. If the API fails and the page has no
photo either, the API's error is reported.
"""

from __future__ import annotations

import re
from typing import Any
from urllib.parse import parse_qs, urlsplit

from functions.photos.importing.adapters.base import HtmlAdapter
from functions.photos.importing.errors import ImportRefused
from functions.photos.importing.fetcher import Deadline, Fetched, SafeFetcher

API_URL = "https://cmsapi.seobuk.kr/v1/etc/seq/resource"
_UID = re.compile(r"^[A-Za-z0-9_.~=-]{4,256}$")


class Photoism(HtmlAdapter):
    name = "photoism"
    hosts = (".seobuk.kr", ".photoism.co.kr")
    image_hosts = ("photoism-cms-prd.s3.ap-northeast-2.amazonaws.com",)
    image_ids = ("photo", "image", "resultImage", "picFile")
    image_classes = ("photo", "result-img", "pic-file")
    link_ids = ("download", "btnDownload")
    link_classes = ("download", "btn-download")
    api_url = API_URL

    def uid(self, page: Fetched) -> str | None:
        for url in (page.final_url, *page.redirects, page.url):
            value = (parse_qs(urlsplit(url).query).get("u") or [""])[0]
            if _UID.match(value):
                return value
        return None

    def api_urls(self, page: Fetched, fetcher: SafeFetcher, deadline: Deadline | None) -> list[str]:
        uid = self.uid(page)
        if uid is None:
            return []
        answer = fetcher.fetch(
            self.api_url,
            accept="json",
            method="POST",
            json_body={"uid": uid, "appUserId": None},
            deadline=deadline,
        )
        try:
            path = _dig(answer.json(), "content", "fileInfo", "picFile", "path")
        except ValueError as error:
            raise ImportRefused(
                "upstream-error", "Photoism's server sent an unreadable answer."
            ) from error
        return [path] if isinstance(path, str) and path.startswith(("https://", "http://")) else []


def _dig(value: Any, *keys: str) -> Any:
    for key in keys:
        if not isinstance(value, dict):
            return None
        value = value.get(key)
    return value


ADAPTER = Photoism()
