"""URL and host checks done before anything touches the network."""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Iterable
from dataclasses import dataclass
from urllib.parse import SplitResult, quote, urlsplit, urlunsplit

from functions.photos.importing.errors import ImportRefused

DEFAULT_PORTS = {"https": 443, "http": 80}
_LABEL = re.compile(r"^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$")
# Characters that must never reach a request line.
_FORBIDDEN = re.compile(r"[\x00-\x20\x7f\\]")


@dataclass(frozen=True)
class TargetURL:
    """A checked absolute URL, split into what a connection needs."""

    scheme: str
    host: str  # lower-case ASCII (IDNA) name, or a compressed IP literal
    port: int
    target: str  # path + query for the request line, never empty
    is_ip_literal: bool

    @property
    def url(self) -> str:
        netloc = f"[{self.host}]" if ":" in self.host else self.host
        if self.port != DEFAULT_PORTS[self.scheme]:
            netloc = f"{netloc}:{self.port}"
        return f"{self.scheme}://{netloc}{self.target}"

    @property
    def host_header(self) -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host
        return host if self.port == DEFAULT_PORTS[self.scheme] else f"{host}:{self.port}"

    def with_scheme(self, scheme: str) -> TargetURL:
        port = DEFAULT_PORTS[scheme] if self.port == DEFAULT_PORTS[self.scheme] else self.port
        return TargetURL(scheme, self.host, port, self.target, self.is_ip_literal)


def normalise_host(raw: str) -> tuple[str, bool]:
    """Lower-case ASCII host name (IDNA) or compressed IP literal; refuses odd names."""
    host = raw.strip().rstrip(".").lower()
    if not host:
        raise ImportRefused("url-not-allowed", "The link has no host name.")
    try:
        return ipaddress.ip_address(host.split("%", 1)[0]).compressed, True
    except ValueError:
        pass
    try:
        ascii_host = host.encode("idna").decode("ascii") if not host.isascii() else host
    except UnicodeError as error:
        raise ImportRefused("url-not-allowed", "The link's host name is not valid.") from error
    labels = ascii_host.split(".")
    if (
        len(ascii_host) > 253
        or len(labels) < 2
        or not all(_LABEL.match(label) for label in labels)
        or labels[-1].isdigit()
    ):
        # Single-label names (localhost, metadata) and numeric forms the resolver
        # might read as an IPv4 address (2130706433, 0x7f.1) are refused here.
        raise ImportRefused("url-not-allowed", "The link's host name is not valid.")
    return ascii_host, False


def parse_url(url: str, *, max_length: int = 2048, base: str | None = None) -> TargetURL:
    """Check and split an absolute http(s) URL (``base`` resolves a relative one)."""
    if not isinstance(url, str) or not url.strip():
        raise ImportRefused("url-not-allowed", "The link is empty.")
    url = url.strip()
    if len(url) > max_length:
        raise ImportRefused("url-not-allowed", "The link is too long.")
    if _FORBIDDEN.search(url):
        raise ImportRefused("url-not-allowed", "The link contains characters that are not allowed.")
    if base is not None:
        from urllib.parse import urljoin

        url = urljoin(base, url)
    try:
        parts: SplitResult = urlsplit(url)
        port = parts.port
    except ValueError as error:
        raise ImportRefused("url-not-allowed", "The link is malformed.") from error
    scheme = parts.scheme.lower()
    if scheme not in DEFAULT_PORTS:
        raise ImportRefused("url-not-allowed", "Only web (https) links can be imported.")
    if "@" in parts.netloc or parts.username is not None or parts.password is not None:
        raise ImportRefused(
            "url-not-allowed", "Links with a user name or password are not accepted."
        )
    if parts.hostname is None:
        raise ImportRefused("url-not-allowed", "The link has no host name.")
    host, is_ip = normalise_host(parts.hostname)
    # Non-ASCII in the path or query is percent-encoded (existing escapes are kept).
    target = quote(
        urlunsplit(("", "", parts.path or "/", parts.query, "")), safe="/:@!$&'()*+,;=?%~"
    )
    return TargetURL(
        scheme, host, port if port is not None else DEFAULT_PORTS[scheme], target, is_ip
    )


def _canonical(pattern: str) -> str:
    pattern = pattern.strip().lower().rstrip(".").strip("[]")
    try:  # IP literals are compared in compressed form, as parse_url writes them
        return ipaddress.ip_address(pattern).compressed
    except ValueError:
        return pattern


class HostPatterns:
    """Allow-list of hosts.

    ``host.example`` matches exactly; ``.example.com`` matches example.com and
    every subdomain; ``*`` inside a label matches any run of letters, digits
    and hyphens within that one label (``haru*.mx*.co.kr``).
    """

    def __init__(self, patterns: Iterable[str]) -> None:
        self.patterns = tuple(sorted({_canonical(p) for p in patterns if p.strip()}))
        regexes = []
        for pattern in self.patterns:
            prefix = ""
            if pattern.startswith("."):
                prefix, pattern = r"(?:[a-z0-9-]+\.)*", pattern[1:]
            labels = [
                r"[a-z0-9-]*".join(re.escape(part) for part in label.split("*"))
                for label in pattern.split(".")
            ]
            regexes.append(prefix + r"\.".join(labels))
        self._regex = re.compile("^(?:" + "|".join(regexes) + ")$") if regexes else None

    def matches(self, host: str) -> bool:
        return bool(self._regex and self._regex.match(host.lower().rstrip(".")))

    def __add__(self, other: HostPatterns) -> HostPatterns:
        return HostPatterns(self.patterns + other.patterns)
