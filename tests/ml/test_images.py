"""decode_image on hostile and unusual inputs, and the small image utilities."""

from __future__ import annotations

import io
import struct
import zlib
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from cheese_ml.images import ImageError, decode_emoji_image, decode_image, encode_jpeg, thumbnail


def png_bytes(image: Image.Image, **params: object) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, format="PNG", **params)
    return buffer.getvalue()


def bomb_png(width: int, height: int) -> bytes:
    """A tiny PNG whose header declares width x height grey pixels: the IDAT is a
    few kB of zlib-compressed zero rows, so decoding it would allocate width*height bytes."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        return (
            struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))
        )

    header = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)
    rows = zlib.compress(b"\x00" * (width + 1) * 16, 9)  # only 16 rows: the header is what matters
    return (
        b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", rows) + chunk(b"IEND", b"")
    )


def test_decompression_bomb_is_refused_from_the_header() -> None:
    data = bomb_png(100_000, 100_000)  # 10 gigapixels declared
    assert len(data) < 10_000
    with pytest.raises(ImageError) as error:
        decode_image(data)
    assert error.value.code == "too_many_pixels"


def test_pixel_limit_is_configurable() -> None:
    data = png_bytes(Image.new("RGB", (300, 200)))
    assert decode_image(data, max_pixels=60_000).shape == (200, 300, 3)
    with pytest.raises(ImageError) as error:
        decode_image(data, max_pixels=59_999)
    assert error.value.code == "too_many_pixels"


def test_empty_input() -> None:
    with pytest.raises(ImageError) as error:
        decode_image(b"")
    assert error.value.code == "empty"


def test_truncated_jpeg(photo_paths: dict[str, Path]) -> None:
    data = photo_paths["obama.jpg"].read_bytes()
    for cut in (len(data) // 2, 2000, 300):
        with pytest.raises(ImageError) as error:
            decode_image(data[:cut])
        assert error.value.code == "corrupt"


def test_damaged_headers(photo_paths: dict[str, Path]) -> None:
    jpeg = bytearray(photo_paths["obama2.jpg"].read_bytes())
    jpeg[3:600] = bytes(597)  # JPEG signature kept, segment headers destroyed
    png = bytearray(png_bytes(Image.new("RGB", (64, 64), (1, 2, 3))))
    png[12:20] = b"XXXXXXXX"  # PNG signature kept, IHDR chunk type and size destroyed
    for damaged in (bytes(jpeg), bytes(png)):
        with pytest.raises(ImageError) as error:
            decode_image(damaged)
        assert error.value.code == "corrupt"


def test_text_file_named_jpg(tmp_path: Path) -> None:
    path = tmp_path / "holiday.jpg"
    path.write_text("this is not a photo\n" * 20)
    with pytest.raises(ImageError) as error:
        decode_image(path.read_bytes())
    assert error.value.code == "unsupported_format"


def test_other_formats_are_refused() -> None:
    buffer = io.BytesIO()
    Image.new("RGB", (20, 20)).save(buffer, format="GIF")
    with pytest.raises(ImageError) as error:
        decode_image(buffer.getvalue())
    assert error.value.code == "unsupported_format"


def test_exif_orientation_is_applied(photos: dict[str, np.ndarray]) -> None:
    upright = photos["obama.jpg"]
    # Stored rotated 90 degrees clockwise with Orientation=6 ("rotate 90 CW to display").
    stored = Image.fromarray(np.ascontiguousarray(np.rot90(upright, k=1)))
    exif = Image.Exif()
    exif[0x0112] = 6
    buffer = io.BytesIO()
    stored.save(buffer, format="JPEG", quality=95, exif=exif)
    decoded = decode_image(buffer.getvalue())
    assert decoded.shape == upright.shape
    assert np.abs(decoded.astype(int) - upright.astype(int)).mean() < 4


def test_rgba_is_composited_on_white(photos: dict[str, np.ndarray]) -> None:
    rgba = np.zeros((10, 10, 4), dtype=np.uint8)
    rgba[:, :5] = (200, 10, 10, 255)  # opaque red half, transparent black half
    decoded = decode_image(png_bytes(Image.fromarray(rgba, "RGBA")))
    assert decoded.shape == (10, 10, 3)
    assert tuple(decoded[0, 0]) == (200, 10, 10) and tuple(decoded[0, 9]) == (255, 255, 255)
    # The real RGBA fixture decodes to the same pixels as its JPEG twin, within JPEG error.
    assert photos["32bit.png"].shape == photos["obama2.jpg"].shape


def test_grey_16bit_palette_and_webp() -> None:
    grey = np.tile(np.arange(256, dtype=np.uint8), (8, 1))
    decoded = decode_image(png_bytes(Image.fromarray(grey, "L")))
    assert decoded.shape == (8, 256, 3) and np.array_equal(decoded[:, :, 1], grey)

    deep = (np.tile(np.arange(256, dtype=np.uint16), (8, 1)) * 257).astype(np.uint16)
    decoded16 = decode_image(png_bytes(Image.fromarray(deep)))
    assert np.abs(decoded16[:, :, 0].astype(int) - grey).max() <= 1  # scaled, not clipped to white

    palette = Image.fromarray(np.full((6, 6, 3), (10, 120, 240), dtype=np.uint8)).convert(
        "P", palette=Image.Palette.ADAPTIVE
    )
    assert tuple(decode_image(png_bytes(palette))[3, 3]) == (10, 120, 240)

    buffer = io.BytesIO()
    Image.fromarray(np.full((16, 16, 3), (30, 60, 90), dtype=np.uint8)).save(
        buffer, format="WEBP", lossless=True
    )
    assert tuple(decode_image(buffer.getvalue())[8, 8]) == (30, 60, 90)


def test_encode_jpeg_round_trip_and_thumbnail(photos: dict[str, np.ndarray]) -> None:
    rgb = photos["sample1.jpg"]
    encoded = encode_jpeg(rgb, quality=90)
    assert encoded[:2] == b"\xff\xd8"
    assert np.abs(decode_image(encoded).astype(int) - rgb.astype(int)).mean() < 3
    small = thumbnail(rgb, 256)
    assert max(small.shape[:2]) == 256
    assert abs(small.shape[1] / small.shape[0] - rgb.shape[1] / rgb.shape[0]) < 0.01
    assert thumbnail(small, 1000).shape == small.shape  # never upscales


def test_mutated_files_decode_or_raise_image_error(photos: dict[str, np.ndarray]) -> None:
    """Never a crash: random damage to real JPEG, PNG and WebP files either still
    decodes to an RGB image or raises ImageError, nothing else."""
    small = thumbnail(photos["obama.jpg"], 96)
    originals = [encode_jpeg(small, 80), png_bytes(Image.fromarray(small))]
    buffer = io.BytesIO()
    Image.fromarray(small).save(buffer, format="WEBP", quality=80)
    originals.append(buffer.getvalue())
    rng = np.random.default_rng(3)
    outcomes = {"decoded": 0, "error": 0}
    for _ in range(300):
        data = bytearray(originals[rng.integers(len(originals))])
        for _ in range(rng.integers(1, 6)):
            # Half the damage hits the first 80 bytes, where the headers are.
            limit = 80 if rng.random() < 0.5 else len(data)
            data[rng.integers(limit)] = rng.integers(256)
        if rng.random() < 0.3:
            data = data[: rng.integers(1, len(data))]
        try:
            image = decode_image(bytes(data))
        except ImageError:
            outcomes["error"] += 1
        else:
            assert image.dtype == np.uint8 and image.ndim == 3 and image.shape[2] == 3
            outcomes["decoded"] += 1
    assert outcomes["error"] > 0 and outcomes["decoded"] > 0


def _png(mode: str, size: tuple[int, int] = (64, 64)) -> bytes:
    buffer = io.BytesIO()
    Image.new(mode, size).save(buffer, format="PNG")
    return buffer.getvalue()


def test_emoji_images_must_be_png_or_webp_with_alpha_and_at_most_1024_px() -> None:
    rgba = decode_emoji_image(_png("RGBA"))
    assert rgba.shape == (64, 64, 4) and rgba.dtype == np.uint8
    webp = io.BytesIO()
    Image.new("RGBA", (32, 16), (255, 0, 0, 128)).save(webp, format="WEBP", lossless=True)
    assert decode_emoji_image(webp.getvalue())[0, 0].tolist() == [255, 0, 0, 128]
    refusals = {
        "no_alpha": _png("RGB"),
        "too_large": _png("RGBA", (1025, 10)),
        "empty": b"",
        "corrupt": _png("RGBA")[:60],
    }
    jpeg = io.BytesIO()
    Image.new("RGB", (8, 8)).save(jpeg, format="JPEG")
    refusals["unsupported_format"] = jpeg.getvalue()
    for code, data in refusals.items():
        with pytest.raises(ImageError) as error:
            decode_emoji_image(data)
        assert error.value.code == code
