"""SSRF-safe HTTP fetching of booth pages and photos.

One hop at a time: the URL is checked (scheme, no userinfo, port, host
allow-list), the host is resolved ONCE, every answer is checked against the
refused address ranges, and the connection is made to that checked IP (the
name is sent as Host and TLS SNI, and the certificate is verified against the
name) so a second, different DNS answer can never be used (DNS rebinding).
Redirects are followed by hand and each target goes through the same checks.
Bodies are streamed under a byte cap, a watchdog closes the socket when the
fetch's time is up, and the content type is sniffed from the bytes.

urllib3 is used directly (it ships with botocore, so it is in every Lambda):
it reads no proxy variables, and its connection classes take the IP to dial
and the name to verify separately.
"""

from __future__ import annotations

import codecs
import contextlib
import json
import socket
import ssl
import threading
import time
from collections.abc import Callable, Iterable, Sequence
from concurrent.futures import ThreadPoolExecutor
from concurrent.futures import TimeoutError as FutureTimeout
from dataclasses import dataclass, field
from typing import Any, Literal
from urllib.parse import urlsplit

from urllib3.connection import HTTPConnection, HTTPSConnection
from urllib3.exceptions import HTTPError as Urllib3Error
from urllib3.response import BaseHTTPResponse
from urllib3.util.ssl_match_hostname import CertificateError

from functions.photos.importing.addresses import IPAddress, parse_address, refusal_reason
from functions.photos.importing.errors import ImportRefused
from functions.photos.importing.settings import ImportSettings, get_import_settings
from functions.photos.importing.sniff import sniff, sniff_image
from functions.photos.importing.urls import DEFAULT_PORTS, HostPatterns, TargetURL, parse_url

try:  # pragma: no cover - depends on the environment
    from cheese_runtime.observability import logger
except Exception:  # the engine must work without the runtime layer
    import logging

    logger = logging.getLogger("cheese.import")  # type: ignore[assignment]

Accept = Literal["page", "image", "json"]
Resolver = Callable[[str, int], Sequence[str]]

REDIRECT_STATUSES = frozenset({301, 302, 303, 307, 308})
_CHUNK = 64 * 1024
_ACCEPT_HEADERS = {
    "page": "text/html,application/xhtml+xml;q=0.9,image/jpeg,image/png,image/webp;q=0.8,*/*;q=0.1",
    "image": "image/jpeg,image/png,image/webp,image/heic;q=0.9,image/*;q=0.5",
    "json": "application/json",
}
_DNS_POOL = ThreadPoolExecutor(max_workers=4, thread_name_prefix="import-dns")


def system_resolver(host: str, port: int) -> list[str]:
    """All addresses of ``host`` (one getaddrinfo call)."""
    infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM, proto=socket.IPPROTO_TCP)
    return list(dict.fromkeys(str(info[4][0]) for info in infos))


class Deadline:
    """A point in (monotonic) time that a fetch or a whole import must not pass."""

    def __init__(self, seconds: float, *, parent: Deadline | None = None) -> None:
        self.at = time.monotonic() + seconds
        if parent is not None:
            self.at = min(self.at, parent.at)

    def remaining(self) -> float:
        return self.at - time.monotonic()

    def expired(self) -> bool:
        return self.remaining() <= 0

    def check(self) -> None:
        if self.expired():
            raise ImportRefused("timeout", "The photo booth's site took too long to answer.")


@dataclass(frozen=True)
class Fetched:
    """What one fetch produced. ``content_type`` is sniffed from ``body``."""

    url: str
    final_url: str
    content_type: str
    body: bytes = field(repr=False)
    declared_type: str | None = None  # the Content-Type header, untrusted (charset only)
    redirects: tuple[str, ...] = ()

    @property
    def host(self) -> str:
        return (urlsplit(self.final_url).hostname or "").lower()

    @property
    def is_image(self) -> bool:
        return self.content_type.startswith("image/")

    def text(self) -> str:
        charset = "utf-8"
        if self.declared_type and "charset=" in self.declared_type.lower():
            candidate = (
                self.declared_type.lower().split("charset=", 1)[1].split(";")[0].strip(" \"'")
            )
            with contextlib.suppress(LookupError):
                charset = codecs.lookup(candidate).name
        return self.body.decode(charset, errors="replace")

    def json(self) -> Any:
        return json.loads(self.body.decode("utf-8-sig", errors="replace"))


class _Watchdog:
    """Shuts the connection's socket down when the fetch's time is up.

    Any pending connect/TLS/recv call then returns at once, so a server that
    drips bytes cannot hold a fetch past its deadline. The socket is captured
    after connect because http.client drops the connection's reference to it
    when the response says "Connection: close" (the response keeps it open).
    """

    def __init__(self, conn: HTTPConnection, seconds: float) -> None:
        self.conn = conn
        self.sock: socket.socket | None = None
        self.timer = threading.Timer(max(0.0, seconds), self._fire)
        self.timer.daemon = True
        self.timer.start()

    def _fire(self) -> None:
        for sock in (self.sock, getattr(self.conn, "sock", None)):
            if sock is not None:
                with contextlib.suppress(OSError):
                    sock.shutdown(socket.SHUT_RDWR)

    def cancel(self) -> None:
        self.timer.cancel()


class SafeFetcher:
    """Fetches pages and images from allow-listed hosts without SSRF exposure.

    ``allowed_hosts`` adds host patterns to the settings' list (the adapters'
    page and image hosts); ``http_hosts`` are hosts that may be fetched over
    plain http when ``settings.vendor_http`` is on. ``resolver`` replaces DNS
    (tests map names to 127.0.0.1 with it); ``ca_certs`` replaces the trust
    store (tests use their own CA).
    """

    def __init__(
        self,
        settings: ImportSettings | None = None,
        *,
        allowed_hosts: Iterable[str] = (),
        http_hosts: Iterable[str] = (),
        resolver: Resolver | None = None,
        ca_certs: str | None = None,
    ) -> None:
        self.settings = settings or get_import_settings()
        self.allowed = HostPatterns([*self.settings.allowed_hosts, *allowed_hosts])
        self.http_hosts = HostPatterns(http_hosts if self.settings.vendor_http else ())
        self._resolver = resolver or system_resolver
        if ca_certs is None:
            try:
                import certifi

                ca_certs = certifi.where()
            except ImportError:  # pragma: no cover - the system store is used
                ca_certs = None
        self._ca_certs = ca_certs

    # --- checks -------------------------------------------------------------
    def check_url(self, url: str, *, base: str | None = None) -> TargetURL:
        """Everything that can be checked before DNS; returns the URL to fetch."""
        target = parse_url(url, max_length=self.settings.max_url_length, base=base)
        if target.scheme == "http" and not (
            self.settings.allow_http or self.http_hosts.matches(target.host)
        ):
            # Never plain http unless allowed: ask the same host over https instead.
            target = target.with_scheme("https")
        if (
            target.port != DEFAULT_PORTS[target.scheme]
            and not self.settings.allow_private_addresses
        ):
            raise ImportRefused("url-not-allowed", "Links to unusual ports are not accepted.")
        if not self.allowed.matches(target.host):
            raise ImportRefused(
                "host-not-allowed", f"We do not import from {target.host}.", host=target.host
            )
        if target.is_ip_literal:
            self._check_address(target, parse_address(target.host))
        return target

    def host_allowed(self, url: str, *, base: str | None = None) -> bool:
        try:
            self.check_url(url, base=base)
        except ImportRefused:
            return False
        return True

    def _check_address(self, target: TargetURL, address: IPAddress) -> None:
        reason = refusal_reason(address, allow_loopback=self.settings.allow_private_addresses)
        if reason:
            logger.warning("import address refused", extra={"host": target.host, "reason": reason})
            raise ImportRefused(
                "address-not-allowed",
                f"{target.host} leads to an address we do not fetch from.",
                host=target.host,
            )

    def _resolve(self, target: TargetURL, deadline: Deadline) -> list[IPAddress]:
        if target.is_ip_literal:
            answers: Sequence[str] = [target.host]
        else:
            future = _DNS_POOL.submit(self._resolver, target.host, target.port)
            try:
                answers = future.result(
                    timeout=max(0.0, min(self.settings.connect_timeout, deadline.remaining()))
                )
            except FutureTimeout as error:
                future.cancel()
                raise ImportRefused(
                    "timeout", f"Looking up {target.host} took too long."
                ) from error
            except (OSError, UnicodeError) as error:
                raise ImportRefused(
                    "upstream-error", f"{target.host} could not be found."
                ) from error
        addresses: list[IPAddress] = []
        for answer in answers:
            try:
                address = parse_address(str(answer))
            except ValueError as error:
                raise ImportRefused(
                    "upstream-error", f"{target.host} could not be found."
                ) from error
            # Every answer must be acceptable: a name that also points inside
            # our network is refused outright, not filtered.
            self._check_address(target, address)
            if address not in addresses:
                addresses.append(address)
        if not addresses:
            raise ImportRefused("upstream-error", f"{target.host} could not be found.")
        return addresses

    # --- one hop ------------------------------------------------------------
    def _connection(self, target: TargetURL, address: IPAddress) -> HTTPConnection:
        timeout = self.settings.connect_timeout
        if target.scheme == "https":
            return HTTPSConnection(
                str(address),
                target.port,
                timeout=timeout,
                server_hostname=target.host,  # SNI: the name, not the IP we dial
                assert_hostname=target.host,  # the certificate must name the host
                cert_reqs="CERT_REQUIRED",
                ca_certs=self._ca_certs,
                ssl_minimum_version=ssl.TLSVersion.TLSv1_2,
            )
        return HTTPConnection(str(address), target.port, timeout=timeout)

    def _open(
        self,
        target: TargetURL,
        method: str,
        body: bytes | None,
        headers: dict[str, str],
        deadline: Deadline,
    ) -> tuple[HTTPConnection, BaseHTTPResponse, _Watchdog]:
        addresses = self._resolve(target, deadline)
        last_error: Exception | None = None
        for address in addresses[:3]:
            deadline.check()
            conn = self._connection(target, address)
            conn.timeout = max(0.01, min(self.settings.connect_timeout, deadline.remaining()))
            watchdog = _Watchdog(conn, deadline.remaining())
            try:
                conn.connect()
                watchdog.sock = conn.sock
            except (ssl.SSLError, CertificateError) as error:
                self._abandon(conn, watchdog)
                raise ImportRefused(
                    "upstream-error", f"{target.host} has no valid secure connection."
                ) from error
            except (OSError, Urllib3Error) as error:
                self._abandon(conn, watchdog)
                deadline.check()
                if isinstance(error, (TimeoutError, socket.timeout)) or "timed out" in str(error):
                    raise ImportRefused(
                        "timeout", f"{target.host} took too long to answer."
                    ) from error
                last_error = error
                continue
            try:
                conn.timeout = max(0.01, min(self.settings.read_timeout, deadline.remaining()))
                conn.request(
                    method,
                    target.target,
                    body=body,
                    headers=headers,
                    preload_content=False,
                    decode_content=False,
                )
                response = conn.getresponse()
            except (OSError, Urllib3Error, ValueError) as error:
                self._abandon(conn, watchdog)
                deadline.check()
                if isinstance(error, (TimeoutError, socket.timeout)) or "timed out" in str(error):
                    raise ImportRefused(
                        "timeout", f"{target.host} took too long to answer."
                    ) from error
                raise ImportRefused(
                    "upstream-error", f"{target.host} did not answer properly."
                ) from error
            return conn, response, watchdog
        raise ImportRefused(
            "upstream-error", f"Could not connect to {target.host}."
        ) from last_error

    @staticmethod
    def _abandon(conn: HTTPConnection, watchdog: _Watchdog) -> None:
        watchdog.cancel()
        for closable in (conn, watchdog.sock):
            try:
                if closable is not None:
                    closable.close()
            except Exception:
                pass

    def _read_body(
        self, target: TargetURL, response: BaseHTTPResponse, accept: Accept, deadline: Deadline
    ) -> bytes:
        page_cap = self.settings.max_page_bytes
        image_cap = self.settings.max_bytes
        upper = page_cap if accept == "json" else image_cap
        length = response.headers.get("Content-Length")
        if length is not None:
            if not length.strip().isdigit():
                raise ImportRefused("upstream-error", f"{target.host} sent a malformed response.")
            if int(length) > upper:
                raise ImportRefused(
                    "too-large",
                    f"The file is larger than {upper // (1024 * 1024) or 1} MB.",
                    limit_bytes=upper,
                )
        encoding = (response.headers.get("Content-Encoding") or "identity").strip().lower()
        if encoding not in ("identity", ""):
            # We asked for identity; a compressed body is not decompressed (no bombs).
            raise ImportRefused(
                "upstream-error", f"{target.host} sent a compressed response we did not ask for."
            )
        chunks: list[bytes] = []
        total = 0
        cap = upper
        try:
            while True:
                deadline.check()
                chunk = response.read(_CHUNK, decode_content=False)
                if not chunk:
                    break
                total += len(chunk)
                if not chunks and accept == "page" and not sniff_image(chunk):
                    cap = page_cap  # an HTML page is held to the smaller cap
                if total > cap:
                    raise ImportRefused(
                        "too-large",
                        f"The file is larger than {cap // (1024 * 1024) or 1} MB.",
                        limit_bytes=cap,
                    )
                chunks.append(chunk)
        except ImportRefused:
            raise
        except (OSError, Urllib3Error, ValueError) as error:
            deadline.check()
            if (
                isinstance(error, (TimeoutError, socket.timeout))
                or "timed out" in str(error).lower()
            ):
                raise ImportRefused(
                    "timeout", f"{target.host} took too long to send the file."
                ) from error
            raise ImportRefused(
                "upstream-error", f"{target.host} broke off the transfer."
            ) from error
        deadline.check()
        return b"".join(chunks)

    # --- public -------------------------------------------------------------
    def fetch(
        self,
        url: str,
        *,
        accept: Accept = "page",
        method: Literal["GET", "POST"] = "GET",
        json_body: Any = None,
        referer: str | None = None,
        deadline: Deadline | None = None,
    ) -> Fetched:
        """Fetch ``url`` following at most ``max_redirects`` checked redirects.

        ``accept="image"``: the body must sniff as one of ``settings.image_types``;
        ``"page"``: an HTML page or such an image (a QR code may point straight
        at the photo); ``"json"``: a JSON document (vendor APIs).
        """
        fetch_deadline = Deadline(self.settings.total_timeout, parent=deadline)
        target = self.check_url(url)
        body = json.dumps(json_body).encode() if json_body is not None else None
        redirects: list[str] = []
        for hop in range(self.settings.max_redirects + 1):
            headers = {
                "Host": target.host_header,
                "User-Agent": self.settings.user_agent,
                "Accept": _ACCEPT_HEADERS[accept],
                "Accept-Encoding": "identity",
                "Connection": "close",
            }
            if body is not None:
                headers["Content-Type"] = "application/json"
            if referer and self.host_allowed(referer):
                headers["Referer"] = referer
            conn, response, watchdog = self._open(target, method, body, headers, fetch_deadline)
            try:
                status = response.status
                if status in REDIRECT_STATUSES:
                    location = response.headers.get("Location")
                    if not location:
                        raise ImportRefused(
                            "upstream-error", f"{target.host} sent a redirect without a target."
                        )
                    if hop >= self.settings.max_redirects:
                        raise ImportRefused(
                            "too-many-redirects",
                            f"The link redirects more than {self.settings.max_redirects} times.",
                        )
                    redirects.append(target.url)
                    target = self.check_url(location, base=target.url)
                    if status in (301, 302, 303) and method != "GET":
                        method, body = "GET", None
                    continue
                if not 200 <= status < 300 or status in (204, 205, 206):
                    raise ImportRefused(
                        "upstream-error",
                        f"{target.host} answered with HTTP {status}.",
                        upstream_status=status,
                    )
                data = self._read_body(target, response, accept, fetch_deadline)
                declared = response.headers.get("Content-Type")
            finally:
                self._abandon(conn, watchdog)
            return self._accept(url, target, data, declared, accept, tuple(redirects))
        raise AssertionError("unreachable")  # pragma: no cover

    def _accept(
        self,
        url: str,
        target: TargetURL,
        data: bytes,
        declared: str | None,
        accept: Accept,
        redirects: tuple[str, ...],
    ) -> Fetched:
        kind = sniff(data)
        fetched = Fetched(
            url, target.url, kind or "application/octet-stream", data, declared, redirects
        )
        images = self.settings.image_types
        if accept == "image":
            if kind not in images:
                what = "a web page" if kind == "text/html" else "not a photo we can use"
                raise ImportRefused("not-an-image", f"The file at {target.host} is {what}.")
        elif accept == "page":
            if kind != "text/html" and kind not in images:
                raise ImportRefused(
                    "not-an-image", f"{target.host} sent neither a web page nor a photo."
                )
        elif kind != "application/json":
            raise ImportRefused("upstream-error", f"{target.host} sent an unexpected response.")
        return fetched
