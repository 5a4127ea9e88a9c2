"""Import by URL and by a picture of the QR code, through the photos API and the pipeline.

A booth's image is served by an HTTP server on loopback; the import settings
allow exactly that host, as the local stack recipe in the importing README says.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import cv2
import numpy as np
import pytest
import zxingcpp

from tests.conftest import signup
from tests.photos.helpers import consent, photo_bytes, wait_status


@pytest.fixture
def booth(monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    from functions.photos.importing import get_import_settings

    image = photo_bytes("sample3.jpg")

    class Booth(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            if self.path != "/share/photo.jpg":
                self.send_error(404)
                return
            self.send_response(200)
            self.send_header("Content-Type", "image/jpeg")
            self.send_header("Content-Length", str(len(image)))
            self.end_headers()
            self.wfile.write(image)

        def log_message(self, *args: object) -> None:
            return

    server = ThreadingHTTPServer(("127.0.0.1", 0), Booth)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    monkeypatch.setenv("CHEESE_IMPORT_ALLOW_HTTP", "true")
    monkeypatch.setenv("CHEESE_IMPORT_ALLOW_PRIVATE_ADDRESSES", "true")
    monkeypatch.setenv("CHEESE_IMPORT_ALLOWED_HOSTS", "127.0.0.1")
    get_import_settings.cache_clear()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    monkeypatch.undo()
    get_import_settings.cache_clear()


def qr_picture(text: str) -> bytes:
    code = np.asarray(
        zxingcpp.write_barcode_to_image(
            zxingcpp.create_barcode(text, zxingcpp.BarcodeFormat.QRCode), scale=6
        )
    )
    canvas = np.full((700, 700), 235, np.uint8)
    canvas[100 : 100 + code.shape[0], 100 : 100 + code.shape[1]] = code
    ok, encoded = cv2.imencode(
        ".jpg", cv2.GaussianBlur(canvas, (3, 3), 0.8), [cv2.IMWRITE_JPEG_QUALITY, 70]
    )
    assert ok
    return encoded.tobytes()


def test_import_by_url_is_analysed(db, booth: str) -> None:  # noqa: ANN001
    user = signup("booth-url")
    consent(user)
    response = user.call("POST", "/v1/photos/import", json_body={"url": f"{booth}/share/photo.jpg"})
    assert response.status == 202, response.body
    [photo_id] = response.json()["photo_ids"]
    photo = wait_status(user, photo_id)
    assert photo["status"] == "analyzed" and photo["source"] == "url" and len(photo["faces"]) == 3
    # Importing the same booth link again gives the same photo, not a copy.
    again = user.call("POST", "/v1/photos/import", json_body={"url": f"{booth}/share/photo.jpg"})
    assert again.json()["photo_ids"] == [photo_id]


def test_import_by_qr_picture(db, booth: str) -> None:  # noqa: ANN001
    import uuid

    user = signup("booth-qr")
    body = qr_picture(f"{booth}/share/photo.jpg")
    boundary = uuid.uuid4().hex
    multipart = (
        (
            f'--{boundary}\r\nContent-Disposition: form-data; name="image"; filename="qr.jpg"\r\n'
            f"Content-Type: image/jpeg\r\n\r\n"
        ).encode()
        + body
        + f"\r\n--{boundary}--\r\n".encode()
    )
    response = user.call(
        "POST",
        "/v1/photos/import/qr",
        body=multipart,
        headers={"content-type": f"multipart/form-data; boundary={boundary}"},
    )
    assert response.status == 202, response.body
    [photo_id] = response.json()["photo_ids"]
    assert wait_status(user, photo_id)["source"] == "qr"


# The host allow-list is checked first, so metadata and private addresses never
# get as far as a DNS lookup (the address checks behind it are tested in test_importing).
@pytest.mark.parametrize(
    "url, slug",
    [
        ("http://169.254.169.254/latest/meta-data/", "host-not-allowed"),
        ("http://10.0.0.1/photo.jpg", "host-not-allowed"),
        ("http://user:pass@127.0.0.1/photo.jpg", "url-not-allowed"),
        ("ftp://example.com/photo.jpg", "validation-error"),
        ("https://not-a-booth.example/photo.jpg", "host-not-allowed"),
    ],
)
def test_hostile_import_urls_are_refused_with_a_problem(
    db, booth: str, url: str, slug: str
) -> None:  # noqa: ANN001
    response = signup("booth-hostile").call("POST", "/v1/photos/import", json_body={"url": url})
    assert 400 <= response.status < 500, response.body
    assert response.json()["type"].endswith("/" + slug), response.json()


def test_a_picture_without_a_qr_code_is_refused(db) -> None:  # noqa: ANN001
    import uuid

    boundary = uuid.uuid4().hex
    multipart = (
        (
            f'--{boundary}\r\nContent-Disposition: form-data; name="image"; filename="x.jpg"\r\n'
            f"Content-Type: image/jpeg\r\n\r\n"
        ).encode()
        + photo_bytes("obama.jpg")
        + f"\r\n--{boundary}--\r\n".encode()
    )
    response = signup("no-qr").call(
        "POST",
        "/v1/photos/import/qr",
        body=multipart,
        headers={"content-type": f"multipart/form-data; boundary={boundary}"},
    )
    assert response.status == 422
    assert response.json()["type"].endswith("/qr-not-found")
