"""Content sniffing from magic bytes: the Content-Type header is never trusted."""

from __future__ import annotations

import json

from cheese_runtime import storage as files

# WHATWG MIME Sniffing, "identifying a resource with an unknown MIME type":
# tags that start an HTML document, followed by a space or '>'.
_HTML_TAGS = (
    b"<!doctype html",
    b"<html",
    b"<head",
    b"<script",
    b"<iframe",
    b"<h1",
    b"<div",
    b"<font",
    b"<table",
    b"<a",
    b"<style",
    b"<title",
    b"<b",
    b"<body",
    b"<br",
    b"<p",
    b"<!--",
    b"<meta",
    b"<link",
    b"<noscript",
)


def sniff_image(data: bytes) -> str | None:
    """The MIME type of a JPEG/PNG/WebP/HEIC file from its first bytes, else None."""
    kind = files.sniff(data[: files.SNIFF_BYTES])
    return kind if kind and kind.startswith("image/") else None


def sniff_html(data: bytes) -> bool:
    head = data[:1024]
    for bom in (b"\xef\xbb\xbf",):
        if head.startswith(bom):
            head = head[len(bom) :]
    head = head.lstrip(b" \t\r\n\x0c").lower()
    for tag in _HTML_TAGS:
        if head.startswith(tag):
            following = head[len(tag) : len(tag) + 1]
            if tag == b"<!--" or following in (b" ", b">", b"\t", b"\n", b"\r", b"\x0c"):
                return True
    return False


def sniff_json(data: bytes) -> bool:
    text = data.lstrip(b"\xef\xbb\xbf \t\r\n")
    if text[:1] not in (b"{", b"["):
        return False
    try:
        json.loads(text)
    except (ValueError, UnicodeDecodeError):
        return False
    return True


def sniff(data: bytes) -> str | None:
    """Best guess of the MIME type of ``data``: an image type, text/html, application/json."""
    image = sniff_image(data)
    if image:
        return image
    if sniff_html(data):
        return "text/html"
    if sniff_json(data):
        return "application/json"
    return None
