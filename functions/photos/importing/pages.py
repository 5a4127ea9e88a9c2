"""A tolerant, dependency-free reader of booth download pages (stdlib html.parser).

It keeps only what adapters look at: ``<meta>`` (og:image, twitter:image),
``<img>``, ``<a>``, ``<link rel=image_src>``, ``<source>``, ``<base href>``,
each with its attributes. Nothing is executed, nothing else is fetched.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from html.parser import HTMLParser

_REFRESH = re.compile(
    r"^\s*\d*(?:\.\d*)?\s*[;,]\s*url\s*=\s*(['\"]?)(?P<url>[^'\"]+)\1", re.IGNORECASE
)

_KEPT_TAGS = frozenset({"meta", "img", "a", "link", "source", "base"})
_MAX_ELEMENTS = 5000


@dataclass(frozen=True)
class Element:
    tag: str
    attrs: dict[str, str]

    @property
    def id(self) -> str:
        return self.attrs.get("id", "")

    @property
    def classes(self) -> frozenset[str]:
        return frozenset(self.attrs.get("class", "").split())

    def get(self, name: str, default: str = "") -> str:
        return self.attrs.get(name, default)


class _Collector(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.elements: list[Element] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in _KEPT_TAGS and len(self.elements) < _MAX_ELEMENTS:
            self.elements.append(Element(tag, {k.lower(): (v or "").strip() for k, v in attrs}))

    handle_startendtag = handle_starttag


@dataclass(frozen=True)
class Page:
    elements: tuple[Element, ...]
    base_href: str | None

    def find(self, tag: str) -> list[Element]:
        return [element for element in self.elements if element.tag == tag]

    def meta(self, *names: str) -> list[str]:
        """Contents of ``<meta property|name=...>`` for any of ``names`` (case-insensitive)."""
        wanted = {name.lower() for name in names}
        return [
            element.get("content")
            for element in self.find("meta")
            if (element.get("property") or element.get("name")).lower() in wanted
            and element.get("content")
        ]


def refresh_target(page: Page) -> str | None:
    """The URL of a ``<meta http-equiv="refresh" content="0; url=...">`` (short-link pages use it)."""
    for element in page.find("meta"):
        if element.get("http-equiv").lower() == "refresh":
            match = _REFRESH.match(element.get("content"))
            if match:
                return match.group("url").strip()
    return None


def parse_page(text: str) -> Page:
    collector = _Collector()
    try:
        collector.feed(text)
        collector.close()
    except Exception:  # html.parser is tolerant; keep what was read
        pass
    elements = tuple(collector.elements)
    base = next((e.get("href") for e in elements if e.tag == "base" and e.get("href")), None)
    return Page(elements, base)


def first_src(element: Element) -> str:
    """The image address of an ``<img>``/``<source>``: src, lazy-loading attributes, srcset."""
    for name in ("src", "data-src", "data-original", "data-lazy-src", "data-url"):
        value = element.get(name)
        if value and not value.startswith("data:"):
            return value
    srcset = element.get("srcset") or element.get("data-srcset")
    if srcset:
        # The last candidate of a srcset is conventionally the largest.
        candidates = [part.strip().split()[0] for part in srcset.split(",") if part.strip()]
        if candidates:
            return candidates[-1]
    return ""
