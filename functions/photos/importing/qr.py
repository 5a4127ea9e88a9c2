"""Reading the booth's QR code from a picture of it (zxing-cpp).

The picture is decoded by ``cheese_ml.images.decode_image`` first (header
checked pixel limit, EXIF orientation, typed errors), then zxing-cpp reads it
as is, and if that finds nothing, a contrast-equalised greyscale copy scaled
so that small codes get bigger and huge pictures get smaller.
"""

from __future__ import annotations

from urllib.parse import urlsplit

from functions.photos.importing.errors import ImportRefused
from functions.photos.importing.settings import get_import_settings

_MAX_TEXT = 4096


def _booth_first(urls: list[str]) -> list[str]:
    """Links to a known booth vendor first (a print may also carry an Instagram code)."""
    from functions.photos.importing.adapters import adapter_for

    def known(url: str) -> bool:
        host = (urlsplit(url).hostname or "").lower()
        return adapter_for(host) is not None

    return sorted(urls, key=lambda url: not known(url))


def _web_addresses(texts: list[str]) -> list[str]:
    found: dict[str, None] = {}
    for text in texts:
        text = text.strip()
        if not text or len(text) > _MAX_TEXT:
            continue
        try:
            parts = urlsplit(text)
        except ValueError:
            continue
        if parts.scheme.lower() in ("http", "https") and parts.netloc:
            found.setdefault(text, None)
    return _booth_first(list(found))


def decode_qr(image_bytes: bytes, *, max_pixels: int | None = None) -> list[str]:
    """The http(s) URLs of the QR codes in a picture (known booths first), or ``qr-not-found``."""
    import cv2
    import zxingcpp

    from cheese_ml.images import ImageError, decode_image

    limit = max_pixels or get_import_settings().qr_max_pixels
    try:
        rgb = decode_image(image_bytes, max_pixels=limit)
    except ImageError as error:
        raise ImportRefused(
            "not-an-image", f"The picture could not be read ({error.code})."
        ) from error
    grey = cv2.cvtColor(rgb, cv2.COLOR_RGB2GRAY)
    formats = (zxingcpp.BarcodeFormat.QRCode, zxingcpp.BarcodeFormat.MicroQRCode)

    def attempt(image, **options) -> list[str]:  # type: ignore[no-untyped-def]
        return [
            barcode.text
            # zxing-cpp 3 takes a tuple of formats (`|` is deprecated); its stubs still say BarcodeFormats.
            for barcode in zxingcpp.read_barcodes(image, formats=formats, **options)  # type: ignore[arg-type]
        ]

    texts = attempt(grey)
    if not texts:
        side = max(grey.shape[:2])
        scale = 1600 / side if side > 2400 else (2.0 if side < 800 else 1.0)
        variant = grey
        if scale != 1.0:
            interpolation = cv2.INTER_AREA if scale < 1 else cv2.INTER_CUBIC
            variant = cv2.resize(grey, None, fx=scale, fy=scale, interpolation=interpolation)
        variant = cv2.createCLAHE(clipLimit=2.0, tileGridSize=(8, 8)).apply(variant)
        texts = attempt(variant) or attempt(variant, binarizer=zxingcpp.Binarizer.GlobalHistogram)
    if not texts:
        raise ImportRefused("qr-not-found", "No QR code could be read in this picture.")
    urls = _web_addresses(texts)
    if not urls:
        raise ImportRefused("qr-not-found", "The QR code does not contain a web address.")
    return urls
