"""Hardened image decoding and small image utilities.

`decode_image` is the only way untrusted bytes become pixels in the ML layer:
it reads the header first and refuses images whose declared size exceeds the
pixel limit before any pixel is decoded, applies EXIF orientation, and turns
every failure into an `ImageError` with a stable code.
"""

from __future__ import annotations

import io
import warnings
from typing import Literal

import cv2
import numpy as np
from PIL import Image, ImageOps, UnidentifiedImageError

ImageErrorCode = Literal[
    "empty", "unsupported_format", "too_many_pixels", "too_large", "no_alpha", "corrupt"
]

SUPPORTED_FORMATS = frozenset({"JPEG", "PNG", "WEBP"})
DEFAULT_MAX_PIXELS = 40_000_000
EXIF_ORIENTATION = 0x0112


class ImageError(ValueError):
    """Bytes that cannot be turned into an image; `code` is stable for API responses."""

    def __init__(self, code: ImageErrorCode, message: str) -> None:
        super().__init__(f"{code}: {message}")
        self.code: ImageErrorCode = code
        self.message = message


def _has_supported_signature(data: bytes) -> bool:
    """True if the bytes start like a JPEG, PNG or WebP file (so a failure means damage)."""
    return (
        data.startswith(b"\xff\xd8\xff")
        or data.startswith(b"\x89PNG\r\n\x1a\n")
        or (data[:4] == b"RIFF" and data[8:12] == b"WEBP")
    )


def _to_rgb(image: Image.Image) -> np.ndarray:
    """Convert any Pillow mode we accept to RGB uint8.

    16-bit and 32-bit integer greys are scaled down (Pillow's own conversion
    clips them to 255, which would turn most of a 16-bit photo white).
    Transparent pixels are composited over white rather than dropped, since
    the colour under a zero alpha is arbitrary (often black).
    """
    mode = image.mode
    if mode in ("I;16", "I;16B", "I;16L", "I;16N", "I"):
        grey = np.asarray(image, dtype=np.float64)
        top = 65535.0 if mode.startswith("I;16") or grey.max() <= 65535 else float(grey.max())
        grey8 = np.clip(grey / top * 255.0 + 0.5, 0, 255).astype(np.uint8)
        return np.repeat(grey8[:, :, None], 3, axis=2)
    if mode == "F":
        grey = np.asarray(image, dtype=np.float64)
        top = 1.0 if grey.max() <= 1.0 else 255.0
        grey8 = np.clip(grey / top * 255.0 + 0.5, 0, 255).astype(np.uint8)
        return np.repeat(grey8[:, :, None], 3, axis=2)
    has_alpha = mode in ("RGBA", "LA", "PA", "RGBa", "La") or (
        mode == "P" and "transparency" in image.info
    )
    if has_alpha:
        rgba = image.convert("RGBA")
        background = Image.new("RGBA", rgba.size, (255, 255, 255, 255))
        return np.asarray(Image.alpha_composite(background, rgba).convert("RGB"))
    return np.asarray(image if mode == "RGB" else image.convert("RGB"))


def _open(data: bytes) -> Image.Image:
    """Open untrusted bytes lazily (header only), every failure an ImageError."""
    if not data:
        raise ImageError("empty", "no image data")
    try:
        with warnings.catch_warnings():
            # Pillow warns past its own bomb limit (~89 MP) and errors past twice that;
            # the caller's limit is checked below from the header.
            warnings.simplefilter("ignore", Image.DecompressionBombWarning)
            image = Image.open(io.BytesIO(data))
    except UnidentifiedImageError as error:
        if _has_supported_signature(data):
            raise ImageError("corrupt", "the header of this image is damaged") from error
        raise ImageError("unsupported_format", "not a recognised image format") from error
    except Image.DecompressionBombError as error:
        raise ImageError("too_many_pixels", str(error)) from error
    except (OSError, ValueError, SyntaxError) as error:
        raise ImageError("corrupt", f"unreadable image header: {error}") from error
    return image


def decode_image(data: bytes, max_pixels: int = DEFAULT_MAX_PIXELS) -> np.ndarray:
    """Decode JPEG/PNG/WebP bytes into an upright RGB uint8 array (H, W, 3)."""
    image = _open(data)
    with image:
        if image.format not in SUPPORTED_FORMATS:
            raise ImageError("unsupported_format", f"{image.format} images are not accepted")
        width, height = image.size
        if width <= 0 or height <= 0:
            raise ImageError("corrupt", f"invalid dimensions {width}x{height}")
        if width * height > max_pixels:
            raise ImageError(
                "too_many_pixels", f"{width}x{height} exceeds the limit of {max_pixels} pixels"
            )
        try:
            image.load()
            # exif_transpose copies the image even when there is nothing to do.
            needs_turn = image.getexif().get(EXIF_ORIENTATION, 1) not in (0, 1)
            upright = ImageOps.exif_transpose(image) if needs_turn else image
            return np.ascontiguousarray(_to_rgb(upright))
        except (OSError, ValueError, SyntaxError, EOFError) as error:
            raise ImageError("corrupt", f"image data is damaged or truncated: {error}") from error


EMOJI_FORMATS = frozenset({"PNG", "WEBP"})
EMOJI_MAX_SIDE = 1024


def decode_emoji_image(data: bytes, max_side: int = EMOJI_MAX_SIDE) -> np.ndarray:
    """Decode an uploaded emoji (PNG or WebP with an alpha channel) into RGBA uint8 (H, W, 4).

    The same hardening as `decode_image` (header read first, sizes checked
    before any pixel is decoded, every failure an ImageError), plus: only PNG
    and WebP, at most `max_side` pixels a side (`too_large`), and the image
    must carry transparency (`no_alpha`): an emoji is pasted over a face.
    """
    image = _open(data)
    with image:
        if image.format not in EMOJI_FORMATS:
            raise ImageError(
                "unsupported_format", f"{image.format} is not accepted for emoji (PNG or WebP)"
            )
        width, height = image.size
        if width <= 0 or height <= 0:
            raise ImageError("corrupt", f"invalid dimensions {width}x{height}")
        if width > max_side or height > max_side:
            raise ImageError("too_large", f"{width}x{height} exceeds {max_side} pixels a side")
        has_alpha = image.mode in ("RGBA", "LA", "PA", "RGBa", "La") or (
            image.mode == "P" and "transparency" in image.info
        )
        if not has_alpha:
            raise ImageError("no_alpha", f"{image.mode} image without transparency")
        try:
            image.load()
            return np.ascontiguousarray(np.asarray(image.convert("RGBA")))
        except (OSError, ValueError, SyntaxError, EOFError) as error:
            raise ImageError("corrupt", f"image data is damaged or truncated: {error}") from error


def encode_jpeg(rgb: np.ndarray, quality: int = 85) -> bytes:
    """Encode an RGB uint8 array as baseline JPEG."""
    ok, encoded = cv2.imencode(
        ".jpg", cv2.cvtColor(rgb, cv2.COLOR_RGB2BGR), [cv2.IMWRITE_JPEG_QUALITY, int(quality)]
    )
    if not ok:
        raise ValueError("JPEG encoding failed")
    return encoded.tobytes()


def thumbnail(rgb: np.ndarray, max_side: int) -> np.ndarray:
    """Downscale so that the longer side is at most `max_side` (never upscales)."""
    height, width = rgb.shape[:2]
    scale = max_side / max(height, width)
    if scale >= 1.0:
        return rgb.copy()
    size = (max(1, round(width * scale)), max(1, round(height * scale)))
    return cv2.resize(rgb, size, interpolation=cv2.INTER_AREA)
