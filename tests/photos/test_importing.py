"""The photo import engine: SSRF-safe fetching, booth adapters, QR reading.

Booth pages and photos are served by a local HTTP(S) server on 127.0.0.1;
a resolver injected into the fetcher maps the vendors' real host names to it,
so the allow-list, adapter selection and address checks run on real names.
No test reaches the internet.
"""

from __future__ import annotations

import base64
import contextlib
import datetime as dt
import ipaddress
import json
import socket
import ssl
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import cv2
import numpy as np
import pytest
from hypothesis import HealthCheck, given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st

from cheese_runtime.errors import problem_for
from functions.photos.app import ERRORS as PHOTOS_ERRORS
from functions.photos.importing import (
    Fetched,
    ImportRefused,
    ImportSettings,
    SafeFetcher,
    decode_qr,
    default_fetcher,
    resolve,
)
from functions.photos.importing import adapters as registry
from functions.photos.importing.adapters import (
    harufilm,
    life4cut,
    photogray,
    photoism,
    photosignature,
)
from functions.photos.importing.addresses import refusal_reason
from functions.photos.importing.fetcher import Deadline
from functions.photos.importing.sniff import sniff
from functions.photos.importing.urls import HostPatterns, parse_url

pytestmark = pytest.mark.timeout(60)


# --- test data ---------------------------------------------------------------
def make_jpeg(width: int = 640, height: int = 480, seed: int = 0) -> bytes:
    rng = np.random.default_rng(seed)
    x = np.linspace(0, 255, width, dtype=np.float32)[None, :, None]
    y = np.linspace(0, 255, height, dtype=np.float32)[:, None, None]
    image = np.concatenate(
        [
            np.broadcast_to(x, (height, width, 1)),
            np.broadcast_to(y, (height, width, 1)),
            rng.uniform(0, 255, (height, width, 1)).astype(np.float32),
        ],
        axis=2,
    )
    ok, encoded = cv2.imencode(".jpg", image.astype(np.uint8), [cv2.IMWRITE_JPEG_QUALITY, 85])
    assert ok
    return encoded.tobytes()


def make_png(width: int = 320, height: int = 320) -> bytes:
    ok, encoded = cv2.imencode(".png", np.full((height, width, 3), 128, np.uint8))
    assert ok
    return encoded.tobytes()


PHOTO = make_jpeg(seed=1)
PHOTO_2 = make_jpeg(seed=2)
LOGO = make_jpeg(64, 64, seed=3)
HTML_PAGE = b"<!DOCTYPE html><html><head><title>x</title></head><body>hello</body></html>"


# --- a local booth server ---------------------------------------------------
@dataclass
class Recorded:
    host: str
    method: str
    path: str
    headers: dict[str, str]
    body: bytes


Route = Callable[[BaseHTTPRequestHandler], None]


@dataclass
class BoothServer:
    tls: ssl.SSLContext | None = None
    routes: dict[tuple[str, str], Route] = field(default_factory=dict)
    requests: list[Recorded] = field(default_factory=list)

    def start(self) -> BoothServer:
        server = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: Any) -> None:  # quiet
                pass

            def _serve(self) -> None:
                host = (self.headers.get("Host") or "").rsplit(":", 1)[0].lower()
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length) if length else b""
                server.requests.append(
                    Recorded(host, self.command, self.path, dict(self.headers), body)
                )
                route = server.routes.get((host, self.path)) or server.routes.get(
                    (host, self.path.split("?")[0])
                )
                if route is None:
                    self.send_response(404)
                    self.send_header("Content-Length", "0")
                    self.end_headers()
                    return
                with contextlib.suppress(
                    BrokenPipeError, ConnectionResetError, ssl.SSLError, OSError
                ):
                    route(self)

            do_GET = do_POST = _serve

        class Server(ThreadingHTTPServer):
            daemon_threads = True

            def get_request(self) -> tuple[socket.socket, Any]:
                sock, address = super().get_request()
                if server.tls is not None:
                    sock = server.tls.wrap_socket(
                        sock, server_side=True, do_handshake_on_connect=False
                    )
                return sock, address

            def handle_error(self, request: Any, client_address: Any) -> None:  # quiet
                pass

        self.httpd = Server(("127.0.0.1", 0), Handler)
        self.port = self.httpd.server_address[1]
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()
        return self

    def stop(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()

    def url(self, host: str, path: str) -> str:
        scheme = "https" if self.tls else "http"
        return f"{scheme}://{host}:{self.port}{path}"

    def add(
        self,
        host: str,
        path: str,
        body: bytes = b"",
        status: int = 200,
        headers: dict[str, str] | None = None,
        content_length: bool = True,
    ) -> None:
        def route(handler: BaseHTTPRequestHandler) -> None:
            handler.send_response(status)
            for name, value in (headers or {}).items():
                handler.send_header(name, value)
            if content_length:
                handler.send_header("Content-Length", str(len(body)))
            handler.end_headers()
            handler.wfile.write(body)

        self.routes[(host, path)] = route

    def redirect(self, host: str, path: str, location: str, status: int = 302) -> None:
        self.add(host, path, status=status, headers={"Location": location})

    def image(
        self, host: str, path: str, data: bytes = PHOTO, content_type: str = "image/jpeg"
    ) -> None:
        self.add(host, path, data, headers={"Content-Type": content_type})

    def html(self, host: str, path: str, text: str) -> None:
        self.add(host, path, text.encode(), headers={"Content-Type": "text/html; charset=utf-8"})


TEST_HOSTS = {
    "api.life4cut.net",
    "download.life4cut.net",
    "l4c01.lifejuin.biz",
    "qr.seobuk.kr",
    "cmsapi.seobuk.kr",
    "photoism-cms-prd.s3.ap-northeast-2.amazonaws.com",
    "pgshort.aprd.io",
    "photogray-download.aprd.io",
    "pg-qr-resource.aprd.io",
    "haru4.mx2.co.kr",
    "photoqr3.kr",
    "cdn.booth.example",
    "elsewhere.booth.example",
    "evil.example",
    "internal.booth.example",
    "metadata.booth.example",
}


@dataclass
class Env:
    server: BoothServer
    settings: ImportSettings
    fetcher: SafeFetcher
    lookups: list[str]


def _resolver(
    lookups: list[str], extra: dict[str, list[str]] | None = None
) -> Callable[[str, int], list[str]]:
    answers = {host: ["127.0.0.1"] for host in TEST_HOSTS}
    answers.update(
        {"internal.booth.example": ["10.0.0.7"], "metadata.booth.example": ["169.254.169.254"]}
    )
    answers.update(extra or {})

    def resolve_name(host: str, port: int) -> list[str]:
        lookups.append(host)
        if host not in answers:
            raise socket.gaierror(socket.EAI_NONAME, "unknown host")
        return answers[host]

    return resolve_name


def booth_settings(**overrides: Any) -> ImportSettings:
    values: dict[str, Any] = {
        "allow_http": True,
        "allow_private_addresses": True,
        "allowed_hosts": [
            "cdn.booth.example",
            "internal.booth.example",
            "metadata.booth.example",
            "169.254.169.254",
            "::ffff:127.0.0.1",
            "10.0.0.7",
        ],
        "connect_timeout": 2,
        "read_timeout": 2,
        "total_timeout": 4,
        "import_timeout": 8,
    }
    values.update(overrides)
    return ImportSettings(**values)


@pytest.fixture(scope="module")
def server() -> Iterator[BoothServer]:
    booth = BoothServer().start()
    yield booth
    booth.stop()


@pytest.fixture()
def env(server: BoothServer) -> Env:
    server.routes.clear()
    server.requests.clear()
    lookups: list[str] = []
    settings = booth_settings()
    return Env(server, settings, default_fetcher(settings, resolver=_resolver(lookups)), lookups)


def page(url: str, html: str, redirects: tuple[str, ...] = ()) -> Fetched:
    return Fetched(url, url, "text/html", html.encode(), "text/html; charset=utf-8", redirects)


# --- adapters on sample pages (no network) ----------------------------------
def test_registry_finds_every_vendor_and_matches_hosts_strictly() -> None:
    names = {adapter.name for adapter in registry.adapters()}
    assert names == {"life4cut", "photoism", "photogray", "harufilm", "photosignature"}
    assert registry.adapter_for("api.life4cut.net") is life4cut.ADAPTER
    assert registry.adapter_for("download.life4cut.net") is life4cut.ADAPTER
    assert registry.adapter_for("qr.seobuk.kr") is photoism.ADAPTER
    assert registry.adapter_for("pgshort.aprd.io") is photogray.ADAPTER
    assert registry.adapter_for("haru4.mx2.co.kr") is harufilm.ADAPTER
    assert registry.adapter_for("photoqr3.kr") is photosignature.ADAPTER
    # Image hosts are allow-listed but never select an adapter.
    assert registry.adapter_for("pg-qr-resource.aprd.io") is None
    for lookalike in (
        "evil-life4cut.net",
        "life4cut.net.evil.com",
        "haru1.mxevil.co.kr",
        "haru1.mx2.co.kr.evil.io",
        "xpgshort.aprd.io",
        "seobuk.kr.example",
    ):
        assert registry.adapter_for(lookalike) is None, lookalike
    patterns = HostPatterns([".example.com", "img*.cdn.test", "exact.test"])
    assert patterns.matches("example.com") and patterns.matches("a.b.example.com")
    assert patterns.matches("img42.cdn.test") and not patterns.matches("img.evil.cdn.test")
    assert patterns.matches("exact.test") and not patterns.matches("sub.exact.test")
    assert not patterns.matches("badexample.com")


def test_life4cut_page_and_derived_s3_address() -> None:
    html = """<html><head><meta property="og:image" content="/static/logo.png"></head><body>
      <img id="image" src="photo/image.jpg"><img src="/static/banner.gif">
      <a id="download" href="photo/image.jpg">저장</a></body></html>"""
    urls = life4cut.ADAPTER.image_urls(
        page("http://l4c01.lifejuin.biz/QRImage/20230606/SEL/161723678/index.html", html)
    )
    assert urls == [
        "http://l4c01.lifejuin.biz/QRImage/20230606/SEL/161723678/photo/image.jpg",
        "http://l4c01.lifejuin.biz/static/logo.png",
    ]
    webqr = (
        "https://download.life4cut.net/webQr?bucket=release-renewal-s3&region=ap-northeast-2"
        "&folderPath=/QRimage/20250101/BOOTH1/abc123"
    )
    assert life4cut.ADAPTER.derived_urls(page(webqr, "<html></html>")) == [
        "https://release-renewal-s3.s3.ap-northeast-2.amazonaws.com/QRimage/20250101/BOOTH1/abc123/image.jpg"
    ]
    for bad in (
        "bucket=evil.com%2Fx&folderPath=/a",
        "bucket=ok-bucket&folderPath=/../../etc",
        "bucket=ok-bucket&region=x&folderPath=/a",
        "bucket=ok-bucket&folderPath=//evil.com/a@",
    ):
        assert (
            life4cut.ADAPTER.derived_urls(page(f"https://download.life4cut.net/webQr?{bad}", ""))
            == []
        ), bad


def test_photoism_page_and_uid() -> None:
    html = """<!doctype html><html><body><div id="app"></div>
      <img class="result-img" data-src="https://photoism-cms-prd.s3.ap-northeast-2.amazonaws.com/a/b.jpg">
      <img src="https://photoism-cms-prd.s3.ap-northeast-2.amazonaws.com/a/b.jpg"></body></html>"""
    fetched = page(
        "https://qr.seobuk.kr/?u=AbC123xyz", html, redirects=("https://qr.seobuk.kr/s/xyz",)
    )
    assert photoism.ADAPTER.image_urls(fetched) == [
        "https://photoism-cms-prd.s3.ap-northeast-2.amazonaws.com/a/b.jpg"
    ]
    assert photoism.ADAPTER.uid(fetched) == "AbC123xyz"
    assert photoism.ADAPTER.uid(page("https://qr.seobuk.kr/?u=../../x", "")) is None


def test_photogray_session_from_base64_id() -> None:
    encoded = base64.b64encode(
        b"sessionId=AF7B5467149BC59E&mode=BASE&expiredDate=1687429041"
    ).decode()
    fetched = page(
        f"https://photogray-download.aprd.io/?id={encoded}", "<html><body></body></html>"
    )
    assert photogray.ADAPTER.image_urls(fetched) == [
        "https://pg-qr-resource.aprd.io/AF7B5467149BC59E/image.jpg"
    ]
    evil = base64.b64encode(b"sessionId=../../admin&mode=BASE").decode()
    assert (
        photogray.ADAPTER.derived_urls(page(f"https://photogray-download.aprd.io/?id={evil}", ""))
        == []
    )
    assert (
        photogray.ADAPTER.derived_urls(page("https://photogray-download.aprd.io/?id=%%%", "")) == []
    )


def test_harufilm_album_images_first_and_videos_ignored() -> None:
    html = """<html><head><base href="/download/"></head><body>
      <video src="album/2025/clip.mp4"></video><a href="album/2025/clip.mp4" download>영상</a>
      <img src="album/2025/photo_1.jpg"><a class="download" href="album/2025/photo_1.jpg">사진</a>
      <img src="/img/logo.png"></body></html>"""
    fetched = page("http://haru4.mx2.co.kr/view.php?id=77", html)
    tiers = harufilm.ADAPTER.extract(fetched, fetcher=None, deadline=None)  # type: ignore[arg-type]
    assert tiers[0] == ["http://haru4.mx2.co.kr/download/album/2025/photo_1.jpg"]
    assert not any("clip.mp4" in url for tier in tiers for url in tier)  # a video is not a photo
    assert (
        harufilm.ADAPTER.image_urls(fetched)[0]
        == "http://haru4.mx2.co.kr/download/album/2025/photo_1.jpg"
    )


def test_photosignature_r_images_and_viewer_session() -> None:
    html = """<html><body><a href="/R/20250101/xyz/a.jpg" download>download</a>
      <img src="/R/20250101/xyz/a.jpg"></body></html>"""
    assert photosignature.ADAPTER.image_urls(page("http://photoqr3.kr/q/xyz", html)) == [
        "http://photoqr3.kr/R/20250101/xyz/a.jpg"
    ]
    viewer = page(
        "https://photosignature-viewer.web.app/view?sessionId=sess_0123456789", "<html></html>"
    )
    assert photosignature.ADAPTER.image_urls(viewer) == [
        "https://photosignature-asset-cdn.photosignature.workers.dev/sessions/sess_0123456789/final.jpg"
    ]


def test_generic_page_tiers_resolve_relative_and_dedupe() -> None:
    html = """<html><head><meta property="og:image" content="https://cdn.booth.example/og.jpg">
      <meta name="twitter:image" content="https://cdn.booth.example/og.jpg"></head><body>
      <a href="files/photo.jpg?x=1" download>get</a><a href="files/photo.jpg?x=1" download>again</a>
      <a href="javascript:alert(1)" download>no</a><a href="data:image/png;base64,AAAA" download>no</a>
      <img srcset="small.jpg 1x, large.jpg 2x"></body></html>"""
    tiers = registry.GENERIC.page_tiers(page("https://cdn.booth.example/p/index.html", html))
    assert tiers == [
        ["https://cdn.booth.example/p/files/photo.jpg?x=1"],
        ["https://cdn.booth.example/og.jpg"],
        [
            "https://cdn.booth.example/p/large.jpg",
            "https://cdn.booth.example/p/files/photo.jpg?x=1",
        ],
    ]


# --- URL and address checks (no network) ------------------------------------
@pytest.mark.parametrize(
    "url, slug",
    [
        ("https://user:pw@cdn.booth.example/a.jpg", "url-not-allowed"),
        ("https://user@cdn.booth.example/a.jpg", "url-not-allowed"),
        ("ftp://cdn.booth.example/a.jpg", "url-not-allowed"),
        ("file:///etc/passwd", "url-not-allowed"),
        ("javascript:alert(1)", "url-not-allowed"),
        ("gopher://cdn.booth.example/", "url-not-allowed"),
        ("https://cdn.booth.example:8443/a.jpg", "url-not-allowed"),
        ("https://cdn.booth.example\\@evil.example/a.jpg", "url-not-allowed"),
        ("https://cdn.booth.example/a b.jpg", "url-not-allowed"),
        ("https://localhost/a.jpg", "url-not-allowed"),
        ("https://2130706433/a.jpg", "url-not-allowed"),
        ("https://0x7f.1/a.jpg", "url-not-allowed"),
        ("https://evil.example/a.jpg", "host-not-allowed"),
        ("https://cdn.booth.example.evil.example/a.jpg", "host-not-allowed"),
        ("https://127.0.0.1/a.jpg", "host-not-allowed"),
        ("https://[::1]/a.jpg", "host-not-allowed"),
        ("", "url-not-allowed"),
        ("https://cdn.booth.example/" + "a" * 3000, "url-not-allowed"),
    ],
)
def test_urls_refused_before_any_network_access(url: str, slug: str) -> None:
    lookups: list[str] = []
    fetcher = default_fetcher(
        ImportSettings(allowed_hosts=["cdn.booth.example"]), resolver=_resolver(lookups)
    )
    with pytest.raises(ImportRefused) as refused:
        fetcher.fetch(url)
    assert refused.value.slug == slug
    assert lookups == []


_URLISH = st.one_of(
    st.text(max_size=120),
    st.from_regex(r"(https?|ftp|file|HTTP)://[a-zA-Z0-9.:@\[\]%\\/?#&=_~ -]{0,80}", fullmatch=True),
    st.builds(
        lambda host, rest: f"https://{host}{rest}",
        st.sampled_from(
            [
                "cdn.booth.example",
                "CDN.booth.example.",
                "qr.seobuk.kr",
                "[::1]",
                "127.1",
                "user@cdn.booth.example",
                "cdn.booth.example:443",
                "xn--950b411a62enti.kr",
            ]
        ),
        st.text(max_size=60),
    ),
)


_STRICT = default_fetcher(ImportSettings(allowed_hosts=["cdn.booth.example"]))


@given(_URLISH)
@hypothesis_settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
def test_check_url_refuses_or_returns_an_allowed_stable_url(url: str) -> None:
    fetcher = _STRICT
    try:
        target = fetcher.check_url(url)
    except ImportRefused:
        return
    assert target.scheme == "https" and target.port == 443
    assert fetcher.allowed.matches(target.host) and not target.is_ip_literal
    assert parse_url(target.url) == target
    assert not any(ch in target.target for ch in " \t\r\n\\")


@given(st.text(max_size=400))
@hypothesis_settings(max_examples=100, deadline=None)
def test_page_reading_never_crashes(text: str) -> None:
    fetched = page("https://cdn.booth.example/p/", "<html><body>" + text)
    for adapter in (*registry.adapters(), registry.GENERIC):
        for url in adapter.image_urls(fetched):
            assert url.startswith(("http://", "https://"))


def test_plain_http_is_upgraded_unless_allowed() -> None:
    strict = default_fetcher(ImportSettings(allowed_hosts=["cdn.booth.example"]))
    assert (
        strict.check_url("http://cdn.booth.example/a.jpg").url == "https://cdn.booth.example/a.jpg"
    )
    assert (
        strict.check_url("http://photoqr3.kr/q/1").scheme == "https"
    )  # vendor_http off by default
    vendor = default_fetcher(ImportSettings(vendor_http=True))
    assert vendor.check_url("http://photoqr3.kr/q/1").scheme == "http"
    assert vendor.check_url("http://haru4.mx2.co.kr/q/1").scheme == "http"
    assert vendor.check_url("http://qr.seobuk.kr/s/1").scheme == "https"
    assert (
        default_fetcher(ImportSettings(allow_http=True)).check_url("http://qr.seobuk.kr/s/1").scheme
        == "http"
    )


@pytest.mark.parametrize(
    "address, allowed",
    [
        ("93.184.216.34", True),
        ("8.8.8.8", True),
        ("2606:4700:4700::1111", True),
        ("10.1.2.3", False),
        ("172.16.0.1", False),
        ("192.168.1.1", False),
        ("127.0.0.1", False),
        ("0.0.0.0", False),
        ("169.254.169.254", False),
        ("169.254.170.2", False),
        ("169.254.1.1", False),
        ("100.64.0.1", False),
        ("224.0.0.1", False),
        ("240.0.0.1", False),
        ("255.255.255.255", False),
        ("198.18.0.1", False),
        ("192.0.2.1", False),
        ("::1", False),
        ("::", False),
        ("fe80::1", False),
        ("fc00::1", False),
        ("fd00:ec2::254", False),
        ("::ffff:8.8.8.8", False),
        ("::ffff:127.0.0.1", False),
        ("64:ff9b::a00:1", False),
        ("2002:a00:1::", False),
        ("2001:0:4136:e378::1", False),
        ("ff02::1", False),
        ("2001:db8::1", False),
    ],
)
def test_address_policy(address: str, allowed: bool) -> None:
    assert (refusal_reason(ipaddress.ip_address(address)) is None) is allowed


def test_loopback_allowance_is_loopback_only() -> None:
    assert refusal_reason(ipaddress.ip_address("127.0.0.1"), allow_loopback=True) is None
    assert refusal_reason(ipaddress.ip_address("::1"), allow_loopback=True) is None
    for address in (
        "10.0.0.1",
        "192.168.0.1",
        "169.254.169.254",
        "::ffff:127.0.0.1",
        "fd00:ec2::254",
    ):
        assert refusal_reason(ipaddress.ip_address(address), allow_loopback=True) is not None, (
            address
        )


def test_sniffing() -> None:
    assert sniff(PHOTO) == "image/jpeg"
    assert sniff(make_png()) == "image/png"
    assert sniff(b"RIFF\x00\x00\x00\x00WEBPVP8 ") == "image/webp"
    assert sniff(b"\x00\x00\x00\x18ftypheic\x00\x00\x00\x00mif1heic") == "image/heic"
    assert (
        sniff(b"\x00\x00\x00\x18ftypavif\x00\x00\x00\x00avifmif1") == "image/heic"
    )  # mif1 compatible brand
    assert sniff(b"\x00\x00\x00\x18ftypisom\x00\x00\x00\x00isomiso2") is None  # an mp4
    assert sniff(b"\xef\xbb\xbf  <!DOCTYPE html><html>") == "text/html"
    assert sniff(b'{"content": 1}') == "application/json"
    assert sniff(b"GIF89a....") is None


def test_settings_from_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CHEESE_IMPORT_ALLOWED_HOSTS", "Cdn.Booth.Example, .other.example.")
    monkeypatch.setenv("CHEESE_IMPORT_MAX_REDIRECTS", "2")
    settings = ImportSettings()
    assert settings.allowed_hosts == ["cdn.booth.example", ".other.example"]
    assert (
        settings.max_redirects == 2
        and not settings.allow_http
        and not settings.allow_private_addresses
    )
    monkeypatch.setenv("CHEESE_IMPORT_ALLOWED_HOSTS", '["a.example"]')
    assert ImportSettings().allowed_hosts == ["a.example"]


# --- fetching through the local server ---------------------------------------
def test_direct_image_with_generic_adapter(env: Env) -> None:
    env.server.image(
        "cdn.booth.example", "/photo.jpg", PHOTO, content_type="application/octet-stream"
    )
    images = resolve(env.server.url("cdn.booth.example", "/photo.jpg"), fetcher=env.fetcher)
    assert [(i.content_type, i.body) for i in images] == [("image/jpeg", PHOTO)]
    request = env.server.requests[-1]
    assert request.host == "cdn.booth.example"
    assert request.headers["Host"] == f"cdn.booth.example:{env.server.port}"
    assert request.headers["Accept-Encoding"] == "identity"
    assert env.lookups == ["cdn.booth.example"]  # resolved once


def test_life4cut_legacy_page_end_to_end(env: Env) -> None:
    base = "/QRImage/20230606/SEL.MPO.YEONNAM02/161723678"
    env.server.html(
        "l4c01.lifejuin.biz",
        f"{base}/index.html",
        """<html><head>
        <meta property="og:image" content="/static/logo.jpg"></head><body>
        <img id="image" src="image.jpg"><a href="https://evil.example/x.jpg" download>x</a></body></html>""",
    )
    env.server.image("l4c01.lifejuin.biz", f"{base}/image.jpg")
    env.server.image("l4c01.lifejuin.biz", "/static/logo.jpg", LOGO)
    images = resolve(
        env.server.url("l4c01.lifejuin.biz", f"{base}/index.html"), fetcher=env.fetcher
    )
    assert [i.body for i in images] == [PHOTO]
    assert images[0].final_url == env.server.url("l4c01.lifejuin.biz", f"{base}/image.jpg")
    assert "evil.example" not in env.lookups  # off-list links are dropped, not fetched
    assert not any(
        r.path == "/static/logo.jpg" for r in env.server.requests
    )  # lower tier never tried


def test_logo_only_tier_falls_through_to_the_photo(env: Env) -> None:
    env.server.html(
        "cdn.booth.example",
        "/p",
        """<html><head>
        <meta property="og:image" content="/logo.jpg"></head><body><img src="/shots/photo.jpg"></body></html>""",
    )
    env.server.image("cdn.booth.example", "/logo.jpg", LOGO)
    env.server.image("cdn.booth.example", "/shots/photo.jpg", PHOTO)
    images = resolve(env.server.url("cdn.booth.example", "/p"), fetcher=env.fetcher)
    assert [i.body for i in images] == [PHOTO]


def test_photogray_short_link_redirect_and_derived_image(
    env: Env, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(photogray, "IMAGE_BASE", env.server.url("pg-qr-resource.aprd.io", ""))
    encoded = base64.b64encode(b"sessionId=AF7B5467149BC59E0FB2&mode=BASE").decode()
    env.server.redirect(
        "pgshort.aprd.io", "/abcd", env.server.url("photogray-download.aprd.io", f"/?id={encoded}")
    )
    env.server.html(
        "photogray-download.aprd.io",
        "/",
        "<!doctype html><html><body><div id=root></div></body></html>",
    )
    env.server.image("pg-qr-resource.aprd.io", "/AF7B5467149BC59E0FB2/image.jpg", PHOTO_2)
    images = resolve(env.server.url("pgshort.aprd.io", "/abcd"), fetcher=env.fetcher)
    assert [i.body for i in images] == [PHOTO_2]
    assert env.lookups == [
        "pgshort.aprd.io",
        "photogray-download.aprd.io",
        "pg-qr-resource.aprd.io",
    ]


def test_photoism_api_flow(env: Env, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(
        photoism.Photoism, "api_url", env.server.url("cmsapi.seobuk.kr", "/v1/etc/seq/resource")
    )
    image_url = env.server.url(
        "photoism-cms-prd.s3.ap-northeast-2.amazonaws.com", "/take/2025/x.jpg"
    )
    env.server.redirect("qr.seobuk.kr", "/s/IMfkz6", "/?u=UID123abc")
    env.server.html(
        "qr.seobuk.kr", "/", "<!doctype html><html><head><title>Photoism</title></head></html>"
    )
    env.server.add(
        "cmsapi.seobuk.kr",
        "/v1/etc/seq/resource",
        json.dumps({"content": {"fileInfo": {"picFile": {"path": image_url}}}}).encode(),
        headers={"Content-Type": "application/json"},
    )
    env.server.image("photoism-cms-prd.s3.ap-northeast-2.amazonaws.com", "/take/2025/x.jpg")
    images = resolve(env.server.url("qr.seobuk.kr", "/s/IMfkz6"), fetcher=env.fetcher)
    assert [i.body for i in images] == [PHOTO]
    api_call = next(r for r in env.server.requests if r.host == "cmsapi.seobuk.kr")
    assert api_call.method == "POST" and json.loads(api_call.body) == {
        "uid": "UID123abc",
        "appUserId": None,
    }


def test_photoism_api_pointing_off_list_is_not_fetched(
    env: Env, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(
        photoism.Photoism, "api_url", env.server.url("cmsapi.seobuk.kr", "/v1/etc/seq/resource")
    )
    env.server.html("qr.seobuk.kr", "/", "<!doctype html><html></html>")
    env.server.add(
        "cmsapi.seobuk.kr",
        "/v1/etc/seq/resource",
        json.dumps(
            {
                "content": {
                    "fileInfo": {"picFile": {"path": "http://169.254.169.254/latest/meta-data/"}}
                }
            }
        ).encode(),
    )
    with pytest.raises(ImportRefused) as refused:
        resolve(env.server.url("qr.seobuk.kr", "/?u=UID123abc"), fetcher=env.fetcher)
    assert refused.value.slug == "no-images-found"
    assert not any(r.host == "169.254.169.254" for r in env.server.requests)


def test_harufilm_and_photosignature_pages_end_to_end(env: Env) -> None:
    env.server.html(
        "haru4.mx2.co.kr",
        "/v/77",
        """<html><body>
        <a href="/download/album/77/clip.mp4" download>영상</a><img src="/download/album/77/photo.jpg"></body></html>""",
    )
    env.server.image("haru4.mx2.co.kr", "/download/album/77/photo.jpg")
    assert [
        i.body for i in resolve(env.server.url("haru4.mx2.co.kr", "/v/77"), fetcher=env.fetcher)
    ] == [PHOTO]
    env.server.html(
        "photoqr3.kr", "/q/9", '<html><body><a href="/R/9/a.jpg" download>저장</a></body></html>'
    )
    env.server.image("photoqr3.kr", "/R/9/a.jpg", PHOTO_2)
    assert [
        i.body for i in resolve(env.server.url("photoqr3.kr", "/q/9"), fetcher=env.fetcher)
    ] == [PHOTO_2]


def test_meta_refresh_short_links_are_followed_and_counted(env: Env) -> None:
    env.server.html(
        "cdn.booth.example",
        "/short",
        '<html><head><meta http-equiv="Refresh" '
        "content=\"0; URL='/long/page.html'\"></head></html>",
    )
    env.server.html(
        "cdn.booth.example", "/long/page.html", '<html><body><img src="photo.jpg"></body></html>'
    )
    env.server.image("cdn.booth.example", "/long/photo.jpg")
    assert [
        i.body for i in resolve(env.server.url("cdn.booth.example", "/short"), fetcher=env.fetcher)
    ] == [PHOTO]
    env.server.html(
        "cdn.booth.example",
        "/loop",
        '<html><head><meta http-equiv="refresh" content="0;url=/loop">',
    )
    with pytest.raises(ImportRefused) as refused:
        resolve(env.server.url("cdn.booth.example", "/loop"), fetcher=env.fetcher)
    assert refused.value.slug == "too-many-redirects"
    env.server.html(
        "cdn.booth.example", "/away", '<meta http-equiv="refresh" content="0;url=http://10.0.0.7/">'
    )
    with pytest.raises(ImportRefused) as refused:
        resolve(env.server.url("cdn.booth.example", "/away"), fetcher=env.fetcher)
    assert refused.value.slug == "address-not-allowed"


def test_several_photos_on_one_page_deduplicated_and_capped(env: Env) -> None:
    links = "".join(f'<a href="/s/{n}.jpg" download>{n}</a>' for n in range(12))
    env.server.html(
        "cdn.booth.example",
        "/multi",
        f"<html><body>{links}<a href='/s/0.jpg' download></a></body></html>",
    )
    for n in range(12):
        env.server.image(
            "cdn.booth.example", f"/s/{n}.jpg", PHOTO if n == 1 else make_jpeg(seed=10 + n)
        )
    env.server.image("cdn.booth.example", "/s/0.jpg", PHOTO)  # same bytes as 1.jpg
    fetcher = default_fetcher(booth_settings(max_images=4), resolver=_resolver([]))
    images = resolve(env.server.url("cdn.booth.example", "/multi"), fetcher=fetcher)
    assert len(images) == 3  # four fetched, one duplicate dropped
    assert sum(1 for r in env.server.requests if r.path.startswith("/s/")) == 4


def test_no_images_on_page(env: Env) -> None:
    env.server.html("cdn.booth.example", "/empty", "<html><body><p>expired</p></body></html>")
    with pytest.raises(ImportRefused) as refused:
        resolve(env.server.url("cdn.booth.example", "/empty"), fetcher=env.fetcher)
    assert refused.value.slug == "no-images-found"
    assert problem_for(refused.value, PHOTOS_ERRORS).status == 422


def test_redirects_within_and_over_the_limit(env: Env) -> None:
    for n in range(4):
        env.server.redirect(
            "cdn.booth.example", f"/r{n}", f"/r{n + 1}", status=(301, 302, 307, 308)[n]
        )
    env.server.image("cdn.booth.example", "/r4")
    within = env.fetcher.fetch(env.server.url("cdn.booth.example", "/r1"), accept="image")
    assert within.body == PHOTO and len(within.redirects) == 3
    with pytest.raises(ImportRefused) as refused:
        env.fetcher.fetch(env.server.url("cdn.booth.example", "/r0"), accept="image")
    assert refused.value.slug == "too-many-redirects"


@pytest.mark.parametrize(
    "location, slug",
    [
        ("http://internal.booth.example/admin", "address-not-allowed"),  # DNS says 10.0.0.7
        (
            "http://metadata.booth.example/latest/",
            "address-not-allowed",
        ),  # DNS says 169.254.169.254
        ("http://169.254.169.254/latest/meta-data/", "address-not-allowed"),
        ("http://[::ffff:127.0.0.1]/", "address-not-allowed"),
        ("http://10.0.0.7/", "address-not-allowed"),
        ("http://evil.example/", "host-not-allowed"),
        ("http://user:pw@cdn.booth.example/", "url-not-allowed"),
        ("file:///etc/passwd", "url-not-allowed"),
    ],
)
def test_redirect_targets_are_checked_again(env: Env, location: str, slug: str) -> None:
    env.server.redirect("cdn.booth.example", "/go", location)
    with pytest.raises(ImportRefused) as refused:
        env.fetcher.fetch(env.server.url("cdn.booth.example", "/go"))
    assert refused.value.slug == slug
    if "booth.example" in location:  # what DNS answered is never shown to the client
        assert "10.0.0.7" not in refused.value.detail and "169.254" not in refused.value.detail
    assert [r.path for r in env.server.requests] == ["/go"]  # nothing else was reached


def test_private_dns_answers_refused_by_default() -> None:
    lookups: list[str] = []
    strict = default_fetcher(
        ImportSettings(allowed_hosts=["cdn.booth.example"]),
        resolver=_resolver(lookups, {"cdn.booth.example": ["10.1.2.3"]}),
    )
    with pytest.raises(ImportRefused) as refused:
        strict.fetch("https://cdn.booth.example/a.jpg")
    assert refused.value.slug == "address-not-allowed"
    # Loopback too, unless the test-only setting allows it.
    loopback = default_fetcher(
        ImportSettings(allowed_hosts=["cdn.booth.example"]),
        resolver=_resolver([], {"cdn.booth.example": ["127.0.0.1"]}),
    )
    with pytest.raises(ImportRefused) as refused:
        loopback.fetch("https://cdn.booth.example/a.jpg")
    assert refused.value.slug == "address-not-allowed"
    # One bad answer among good ones refuses the name.
    mixed = default_fetcher(
        ImportSettings(allowed_hosts=["cdn.booth.example"]),
        resolver=_resolver([], {"cdn.booth.example": ["93.184.216.34", "fd00:ec2::254"]}),
    )
    with pytest.raises(ImportRefused) as refused:
        mixed.fetch("https://cdn.booth.example/a.jpg")
    assert refused.value.slug == "address-not-allowed"


def test_default_settings_refuse_the_local_server(env: Env) -> None:
    env.server.image("cdn.booth.example", "/photo.jpg")
    strict = default_fetcher(
        ImportSettings(allow_http=True, allowed_hosts=["cdn.booth.example"]), resolver=_resolver([])
    )
    with pytest.raises(ImportRefused) as refused:  # odd port
        strict.fetch(env.server.url("cdn.booth.example", "/photo.jpg"))
    assert refused.value.slug == "url-not-allowed"
    with pytest.raises(ImportRefused) as refused:  # port 80, but loopback
        strict.fetch("http://cdn.booth.example/photo.jpg")
    assert refused.value.slug == "address-not-allowed"
    assert env.server.requests == []


def test_local_stack_recipe_ip_literal_listed(env: Env) -> None:
    """What the local stack does: 127.0.0.1 listed, http and loopback allowed, the real resolver."""
    env.server.image("127.0.0.1", "/booth/photo.jpg")
    fetcher = default_fetcher(
        ImportSettings(allow_http=True, allow_private_addresses=True, allowed_hosts=["127.0.0.1"])
    )
    images = resolve(f"http://127.0.0.1:{env.server.port}/booth/photo.jpg", fetcher=fetcher)
    assert [i.body for i in images] == [PHOTO]
    with pytest.raises(
        ImportRefused
    ) as refused:  # listing the literal does not lift the address policy
        default_fetcher(ImportSettings(allow_http=True, allowed_hosts=["127.0.0.1"])).fetch(
            "http://127.0.0.1/booth/photo.jpg"
        )
    assert refused.value.slug == "address-not-allowed"


def test_non_ascii_paths_are_percent_encoded(env: Env) -> None:
    env.server.image("cdn.booth.example", "/%EC%82%AC%EC%A7%84.jpg")
    fetched = env.fetcher.fetch(env.server.url("cdn.booth.example", "/사진.jpg"), accept="image")
    assert fetched.body == PHOTO


def test_dns_is_resolved_once_per_hop_and_the_checked_address_is_dialled(env: Env) -> None:
    """A rebinding resolver (public first, then private) never gets a second question."""
    env.server.image("cdn.booth.example", "/photo.jpg")
    answers = iter([["127.0.0.1"], ["10.0.0.1"], ["10.0.0.1"]])
    calls: list[str] = []

    def rebinding(host: str, port: int) -> list[str]:
        calls.append(host)
        return next(answers)

    fetcher = default_fetcher(booth_settings(), resolver=rebinding)
    assert (
        fetcher.fetch(env.server.url("cdn.booth.example", "/photo.jpg"), accept="image").body
        == PHOTO
    )
    assert calls == ["cdn.booth.example"]


def test_oversized_bodies_refused(env: Env) -> None:
    big = PHOTO + b"\x00" * 300_000
    env.server.image("cdn.booth.example", "/big.jpg", big)
    env.server.add(
        "cdn.booth.example",
        "/big-nolength.jpg",
        big,
        headers={"Content-Type": "image/jpeg"},
        content_length=False,
    )
    env.server.add(
        "cdn.booth.example", "/big-page", b"<html>" + b"x" * 300_000, content_length=False
    )
    fetcher = default_fetcher(
        booth_settings(max_bytes=200_000, max_page_bytes=100_000), resolver=_resolver([])
    )
    for path, accept in (
        ("/big.jpg", "image"),
        ("/big-nolength.jpg", "image"),
        ("/big-page", "page"),
    ):
        with pytest.raises(ImportRefused) as refused:
            fetcher.fetch(env.server.url("cdn.booth.example", path), accept=accept)  # type: ignore[arg-type]
        assert refused.value.slug == "too-large", path
        assert problem_for(refused.value, PHOTOS_ERRORS).status == 413


def test_slow_servers_time_out(env: Env) -> None:
    gone, finished = threading.Event(), threading.Event()

    def drip(handler: BaseHTTPRequestHandler) -> None:
        handler.send_response(200)
        handler.send_header("Content-Type", "image/jpeg")
        handler.end_headers()
        handler.wfile.write(PHOTO[:100])
        try:
            for _ in range(
                150
            ):  # a byte every 0.1 s: never silent long enough for the read timeout
                time.sleep(0.1)
                handler.wfile.write(b"\x00")
                handler.wfile.flush()
        except OSError:
            gone.set()  # the client hung up on us
            return
        finished.set()

    def silent(handler: BaseHTTPRequestHandler) -> None:
        time.sleep(5)

    env.server.routes[("cdn.booth.example", "/drip.jpg")] = drip
    env.server.routes[("cdn.booth.example", "/silent.jpg")] = silent
    fetcher = default_fetcher(
        booth_settings(total_timeout=1.0, read_timeout=0.5), resolver=_resolver([])
    )
    for path in ("/drip.jpg", "/silent.jpg"):
        with pytest.raises(ImportRefused) as refused:
            fetcher.fetch(env.server.url("cdn.booth.example", path), accept="image")
        assert refused.value.slug == "timeout", path
    # The watchdog closed the dripping connection: the server saw the hang-up
    # before it had sent everything (without it, the read would last 15 s).
    assert gone.wait(15) and not finished.is_set()


def test_import_deadline_spans_all_fetches(env: Env) -> None:
    deadline = Deadline(0.0)
    env.server.image("cdn.booth.example", "/photo.jpg")
    with pytest.raises(ImportRefused) as refused:
        env.fetcher.fetch(env.server.url("cdn.booth.example", "/photo.jpg"), deadline=deadline)
    assert refused.value.slug == "timeout"


def test_content_is_sniffed_not_trusted(env: Env) -> None:
    env.server.add(
        "cdn.booth.example", "/fake.jpg", HTML_PAGE, headers={"Content-Type": "image/jpeg"}
    )
    env.server.add(
        "cdn.booth.example",
        "/gif.jpg",
        b"GIF89a" + b"\x00" * 100,
        headers={"Content-Type": "image/jpeg"},
    )
    env.server.add(
        "cdn.booth.example",
        "/zip",
        b"PK\x03\x04" + b"\x00" * 100,
        headers={"Content-Type": "text/html"},
    )
    for path, accept in (("/fake.jpg", "image"), ("/gif.jpg", "image"), ("/zip", "page")):
        with pytest.raises(ImportRefused) as refused:
            env.fetcher.fetch(env.server.url("cdn.booth.example", path), accept=accept)  # type: ignore[arg-type]
        assert refused.value.slug == "not-an-image", path
    # A page whose only "photo" is HTML in disguise reports that.
    env.server.html(
        "cdn.booth.example", "/page", '<html><body><a href="/fake.jpg" download>x</a></body></html>'
    )
    with pytest.raises(ImportRefused) as refused:
        resolve(env.server.url("cdn.booth.example", "/page"), fetcher=env.fetcher)
    assert refused.value.slug == "not-an-image"


def test_upstream_errors(env: Env) -> None:
    env.server.add("cdn.booth.example", "/gone.jpg", b"", status=404)
    env.server.add("cdn.booth.example", "/gz.jpg", PHOTO, headers={"Content-Encoding": "gzip"})
    env.server.redirect("cdn.booth.example", "/nowhere", "")
    for path in ("/gone.jpg", "/gz.jpg"):
        with pytest.raises(ImportRefused) as refused:
            env.fetcher.fetch(env.server.url("cdn.booth.example", path), accept="image")
        assert refused.value.slug == "upstream-error", path
        assert problem_for(refused.value, PHOTOS_ERRORS).status == 502
    with pytest.raises(ImportRefused) as refused:
        env.fetcher.fetch("http://unknown.cdn.booth.example/x.jpg")
    assert refused.value.slug == "host-not-allowed"


# --- TLS: the IP is dialled, the name is verified ----------------------------
def _certificates(tmp: Path) -> tuple[Path, Path, Path]:
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

    now = dt.datetime.now(dt.UTC)
    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca_name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "Cheese test CA")])
    ca = (
        x509.CertificateBuilder()
        .subject_name(ca_name)
        .issuer_name(ca_name)
        .public_key(ca_key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(days=1))
        .not_valid_after(now + dt.timedelta(days=2))
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .add_extension(
            x509.KeyUsage(
                digital_signature=True,
                key_cert_sign=True,
                crl_sign=True,
                content_commitment=False,
                key_encipherment=False,
                data_encipherment=False,
                key_agreement=False,
                encipher_only=False,
                decipher_only=False,
            ),
            critical=True,
        )
        .add_extension(
            x509.SubjectKeyIdentifier.from_public_key(ca_key.public_key()), critical=False
        )
        .sign(ca_key, hashes.SHA256())
    )
    key = ec.generate_private_key(ec.SECP256R1())
    leaf = (
        x509.CertificateBuilder()
        .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "qr.seobuk.kr")]))
        .issuer_name(ca_name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(days=1))
        .not_valid_after(now + dt.timedelta(days=2))
        .add_extension(x509.SubjectAlternativeName([x509.DNSName("qr.seobuk.kr")]), critical=False)
        .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
        .add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key()), critical=False
        )
        .sign(ca_key, hashes.SHA256())
    )
    ca_path, cert_path, key_path = tmp / "ca.pem", tmp / "leaf.pem", tmp / "leaf.key"
    ca_path.write_bytes(ca.public_bytes(serialization.Encoding.PEM))
    cert_path.write_bytes(leaf.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    return ca_path, cert_path, key_path


def test_https_dials_the_resolved_ip_and_verifies_the_name(tmp_path: Path) -> None:
    ca_path, cert_path, key_path = _certificates(tmp_path)
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(cert_path, key_path)
    sni: list[str | None] = []
    context.sni_callback = lambda sock, name, ctx: sni.append(name)  # type: ignore[assignment,misc,return-value]
    booth = BoothServer(tls=context).start()
    try:
        booth.image("qr.seobuk.kr", "/photo.jpg")
        booth.image("cmsapi.seobuk.kr", "/photo.jpg")
        settings = booth_settings(allow_http=False)
        trusted = default_fetcher(settings, resolver=_resolver([]), ca_certs=str(ca_path))
        fetched = trusted.fetch(booth.url("qr.seobuk.kr", "/photo.jpg"), accept="image")
        assert fetched.body == PHOTO and fetched.final_url.startswith("https://qr.seobuk.kr:")
        assert sni == ["qr.seobuk.kr"]
        # Same IP, but the certificate does not name this host.
        with pytest.raises(ImportRefused) as refused:
            trusted.fetch(booth.url("cmsapi.seobuk.kr", "/photo.jpg"), accept="image")
        assert refused.value.slug == "upstream-error"
        # A certificate from an authority we do not trust.
        with pytest.raises(ImportRefused) as refused:
            default_fetcher(settings, resolver=_resolver([])).fetch(
                booth.url("qr.seobuk.kr", "/photo.jpg")
            )
        assert refused.value.slug == "upstream-error"
    finally:
        booth.stop()


# --- QR codes ---------------------------------------------------------------
def _qr_photo(text: str, *, seed: int = 0) -> bytes:
    """A QR code printed on a booth strip, photographed at an angle, blurred and JPEG'd."""
    import zxingcpp

    code = np.asarray(
        zxingcpp.write_barcode_to_image(
            zxingcpp.create_barcode(text, zxingcpp.BarcodeFormat.QRCode), scale=8
        )
    )
    rng = np.random.default_rng(seed)
    canvas = np.full((900, 1200, 3), (200, 190, 180), np.uint8)
    canvas += rng.integers(0, 20, canvas.shape, dtype=np.uint8)
    side = code.shape[0]
    y, x = 250, 450
    canvas[y : y + side, x : x + side] = cv2.cvtColor(code, cv2.COLOR_GRAY2BGR)
    source = np.float32([[0, 0], [1200, 0], [1200, 900], [0, 900]])
    target = np.float32([[60, 40], [1150, 110], [1100, 860], [20, 800]])
    warped = cv2.warpPerspective(
        canvas, cv2.getPerspectiveTransform(source, target), (1200, 900), borderValue=(90, 90, 90)
    )
    blurred = cv2.GaussianBlur(warped, (5, 5), 1.2)
    ok, encoded = cv2.imencode(".jpg", blurred, [cv2.IMWRITE_JPEG_QUALITY, 70])
    assert ok
    return encoded.tobytes()


def test_decode_qr_from_a_photographed_code() -> None:
    url = "https://qr.seobuk.kr/s/IMfkz6"
    assert decode_qr(_qr_photo(url)) == [url]


def test_decode_qr_small_code_is_upscaled() -> None:
    import zxingcpp

    url = "https://pgshort.aprd.io/abcd1234"
    code = np.asarray(
        zxingcpp.write_barcode_to_image(zxingcpp.create_barcode(url, zxingcpp.BarcodeFormat.QRCode))
    )
    small = cv2.GaussianBlur(
        cv2.resize(code, None, fx=2, fy=2, interpolation=cv2.INTER_AREA), (3, 3), 1.0
    )
    assert zxingcpp.read_barcodes(small) == []  # too small and soft to read as is
    ok, encoded = cv2.imencode(".png", small)
    assert ok
    assert decode_qr(encoded.tobytes()) == [url]


def test_decode_qr_several_codes_booth_first() -> None:
    import zxingcpp

    canvas = np.full((400, 800), 255, np.uint8)
    for x, text in (
        (20, "https://instagram.com/some.booth"),
        (420, "https://qr.seobuk.kr/s/IMfkz6"),
    ):
        code = np.asarray(
            zxingcpp.write_barcode_to_image(
                zxingcpp.create_barcode(text, zxingcpp.BarcodeFormat.QRCode), scale=8
            )
        )
        canvas[20 : 20 + code.shape[0], x : x + code.shape[1]] = code
    ok, encoded = cv2.imencode(".png", canvas)
    assert ok
    assert decode_qr(encoded.tobytes()) == [
        "https://qr.seobuk.kr/s/IMfkz6",
        "https://instagram.com/some.booth",
    ]


def test_decode_qr_refusals() -> None:
    with pytest.raises(ImportRefused) as refused:
        decode_qr(_qr_photo("WIFI:S:booth;T:WPA;P:secret;;"))
    assert refused.value.slug == "qr-not-found"
    with pytest.raises(ImportRefused) as refused:
        decode_qr(_qr_photo("javascript:alert(1)"))
    assert refused.value.slug == "qr-not-found"
    with pytest.raises(ImportRefused) as refused:
        decode_qr(PHOTO)
    assert refused.value.slug == "qr-not-found"
    with pytest.raises(ImportRefused) as refused:
        decode_qr(HTML_PAGE)
    assert refused.value.slug == "not-an-image"
    with pytest.raises(ImportRefused) as refused:
        decode_qr(PHOTO, max_pixels=10_000)
    assert refused.value.slug == "not-an-image"
