"""Uploads straight to S3 and downloads from it, for every function that stores user files.

A client never sends file bytes through the API: the API answers an
``UploadSpec`` (where the object goes, its type, how big it may be) with a
presigned POST whose policy pins all three, the client posts the file to S3,
and the object's ObjectCreated event reaches the function's consumer, which
checks what actually arrived with ``verify_arrival`` before using it (a
policy can be bypassed by anyone holding the bucket's credentials, and a
content type is only what the client claimed)::

    spec = UploadSpec(key, "image/png", max_bytes=256 * 1024)
    upload = presigned_upload(bucket, spec)          # -> {url, fields} for the app
    ...                                              # in the S3 event consumer:
    try:
        arrived = verify_arrival(bucket, spec)       # size, declared type, sniffed type
    except UploadRejected as rejected:
        ...                                          # rejected.reason says which check failed

Reading back is ``presigned_get``; erasure is ``delete_prefix``/``delete_keys``.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Literal

from pydantic import BaseModel

from cheese_runtime import aws
from cheese_runtime.settings import get_settings

# Enough leading bytes to tell every type in SIGNATURES apart (ISO BMFF brands sit in the first box).
SNIFF_BYTES = 64

_HEIF_BRANDS = frozenset({b"heic", b"heix", b"hevc", b"hevx", b"heim", b"heis", b"mif1", b"msf1"})
_QUICKTIME_BRANDS = frozenset({b"qt  "})
_MP4_BRANDS = frozenset(
    {b"isom", b"iso2", b"iso4", b"iso5", b"iso6", b"mp41", b"mp42", b"avc1", b"dash", b"M4V "}
)


def _ftyp_brands(head: bytes) -> set[bytes]:
    """Major and compatible brands of an ISO BMFF file (MP4, QuickTime, HEIF), else empty."""
    if len(head) < 12 or head[4:8] != b"ftyp":
        return set()
    box = int.from_bytes(head[:4], "big")
    return {head[8:12]} | {head[i : i + 4] for i in range(16, min(box, len(head)) - 3, 4)}


SIGNATURES: dict[str, Callable[[bytes], bool]] = {
    "image/jpeg": lambda h: h.startswith(b"\xff\xd8\xff"),
    "image/png": lambda h: h.startswith(b"\x89PNG\r\n\x1a\n"),
    "image/webp": lambda h: len(h) >= 12 and h[:4] == b"RIFF" and h[8:12] == b"WEBP",
    "image/heic": lambda h: bool(_ftyp_brands(h) & _HEIF_BRANDS),
    "video/quicktime": lambda h: bool(_ftyp_brands(h) & _QUICKTIME_BRANDS),
    "video/mp4": lambda h: bool(_ftyp_brands(h) & _MP4_BRANDS),
    "video/webm": lambda h: h.startswith(b"\x1a\x45\xdf\xa3"),
}
"""The content types an upload may declare, each with the check of its leading bytes (first
match wins: a HEIF file also lists MP4 brands)."""


def sniff(head: bytes) -> str | None:
    """The content type the leading bytes of a file show, or None when none of SIGNATURES match."""
    for content_type, matches in SIGNATURES.items():
        if matches(head):
            return content_type
    return None


@dataclass(frozen=True, slots=True)
class UploadSpec:
    """What one upload may be: the key it lands at, its content type and its size.

    ``exact_size`` pins the size the client declared (photos: the policy then
    refuses any other file); without it any size from 1 to ``max_bytes`` is
    accepted. ``expires_in`` defaults to ``Settings.upload_url_seconds``.
    """

    key: str
    content_type: str
    max_bytes: int
    exact_size: int | None = None
    expires_in: int | None = None

    def __post_init__(self) -> None:
        if self.content_type not in SIGNATURES:
            raise ValueError(f"no signature known for {self.content_type!r}: add it to SIGNATURES")
        if self.exact_size is not None and not 0 < self.exact_size <= self.max_bytes:
            raise ValueError("exact_size must be between 1 and max_bytes")

    @property
    def size_range(self) -> tuple[int, int]:
        if self.exact_size is not None:
            return self.exact_size, self.exact_size
        return 1, self.max_bytes


class PresignedUpload(BaseModel):
    """A presigned POST: the app posts ``fields`` and then the file (form field ``file``) to ``url``."""

    url: str
    fields: dict[str, str]
    expires_in: int


UploadRejection = Literal["missing", "too-small", "too-large", "declared-type", "sniffed-type"]


class UploadRejected(Exception):
    """The arrived object is not what its UploadSpec allows; ``reason`` names the failed check."""

    def __init__(
        self, key: str, reason: UploadRejection, detail: str, sniffed: str | None = None
    ) -> None:
        super().__init__(f"{key}: {reason}: {detail}")
        self.key = key
        self.reason: UploadRejection = reason
        self.detail = detail
        # For "sniffed-type": the type the bytes show (None: none of SIGNATURES).
        self.sniffed = sniffed


@dataclass(frozen=True, slots=True)
class ArrivedObject:
    key: str
    size: int
    content_type: str


def presigned_upload(bucket: str, spec: UploadSpec) -> PresignedUpload:
    """A presigned POST whose policy pins the key, the content type and the size (range)."""
    expires_in = spec.expires_in or get_settings().upload_url_seconds
    low, high = spec.size_range
    post = aws.client("s3").generate_presigned_post(
        Bucket=bucket,
        Key=spec.key,
        Fields={"Content-Type": spec.content_type},
        Conditions=[{"Content-Type": spec.content_type}, ["content-length-range", low, high]],
        ExpiresIn=expires_in,
    )
    return PresignedUpload(url=post["url"], fields=post["fields"], expires_in=expires_in)


def presigned_get(bucket: str, key: str, expires_in: int | None = None) -> str:
    """A GET URL for one object; ``expires_in`` defaults to ``Settings.download_url_seconds``."""
    url: str = aws.client("s3").generate_presigned_url(
        "get_object",
        Params={"Bucket": bucket, "Key": key},
        ExpiresIn=expires_in or get_settings().download_url_seconds,
    )
    return url


def _not_found(exc: Exception) -> bool:
    code = getattr(exc, "response", {}).get("Error", {}).get("Code")
    return code in ("404", "NoSuchKey", "NotFound")


def verify_arrival(bucket: str, spec: UploadSpec) -> ArrivedObject:
    """Check an uploaded object against its spec: size and declared type (HEAD), then its bytes.

    Raises UploadRejected; the caller decides what a rejection means (a failed
    photo, a discarded avatar). The object is left in place.
    """
    s3 = aws.client("s3")
    try:
        head = s3.head_object(Bucket=bucket, Key=spec.key)
    except s3.exceptions.ClientError as exc:
        if _not_found(exc):
            raise UploadRejected(spec.key, "missing", "no such object") from exc
        raise
    size = int(head["ContentLength"])
    low, high = spec.size_range
    if not low <= size <= high:
        reason: UploadRejection = "too-small" if size < low else "too-large"
        raise UploadRejected(spec.key, reason, f"{size} bytes, allowed {low}..{high}")
    declared = str(head.get("ContentType", "")).split(";")[0].strip().lower()
    if declared != spec.content_type:
        raise UploadRejected(
            spec.key, "declared-type", f"declared {declared!r}, expected {spec.content_type!r}"
        )
    try:
        leading = s3.get_object(Bucket=bucket, Key=spec.key, Range=f"bytes=0-{SNIFF_BYTES - 1}")
    except s3.exceptions.ClientError as exc:
        if _not_found(exc):
            raise UploadRejected(spec.key, "missing", "deleted while checked") from exc
        raise
    sniffed = sniff(leading["Body"].read())
    if sniffed != spec.content_type:
        raise UploadRejected(
            spec.key,
            "sniffed-type",
            f"bytes look like {sniffed!r}, declared {declared!r}",
            sniffed=sniffed,
        )
    return ArrivedObject(key=spec.key, size=size, content_type=declared)


def exists(bucket: str, key: str) -> bool:
    s3 = aws.client("s3")
    try:
        s3.head_object(Bucket=bucket, Key=key)
    except s3.exceptions.ClientError as exc:
        if _not_found(exc):
            return False
        raise
    return True


def delete_prefix(bucket: str, prefix: str) -> int:
    """Delete every object under a prefix (erasure); returns how many."""
    s3 = aws.client("s3")
    deleted = 0
    for page in s3.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=prefix):
        keys = [{"Key": obj["Key"]} for obj in page.get("Contents", [])]
        if keys:
            s3.delete_objects(Bucket=bucket, Delete={"Objects": keys, "Quiet": True})
            deleted += len(keys)
    return deleted


def delete_keys(bucket: str, keys: Iterable[str]) -> None:
    objects = [{"Key": k} for k in keys]
    for start in range(0, len(objects), 1000):  # DeleteObjects takes at most 1000 keys
        aws.client("s3").delete_objects(
            Bucket=bucket, Delete={"Objects": objects[start : start + 1000], "Quiet": True}
        )
