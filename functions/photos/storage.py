"""Where a photo's objects live in S3, and presigned access to them.

``originals/`` holds what users upload (its ObjectCreated events start the
analysis); ``derived/`` holds what we make from it (thumbnail, face crops,
anonymised views) and never triggers anything. Both are per user, so erasure
is a prefix delete.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from urllib.parse import unquote_plus

from cheese_runtime import aws
from cheese_runtime.resources import PHOTOS_DERIVED_PREFIX, PHOTOS_ORIGINALS_PREFIX
from cheese_runtime.settings import get_settings

ALLOWED_CONTENT_TYPES = ("image/jpeg", "image/png", "image/webp")


def original_key(user_id: str, photo_id: str) -> str:
    return f"{PHOTOS_ORIGINALS_PREFIX}{user_id}/{photo_id}"


def derived_prefix(user_id: str, photo_id: str | None = None) -> str:
    return f"{PHOTOS_DERIVED_PREFIX}{user_id}/" + (f"{photo_id}/" if photo_id else "")


def thumbnail_key(user_id: str, photo_id: str) -> str:
    return derived_prefix(user_id, photo_id) + "thumbnail.jpg"


def face_crop_key(user_id: str, photo_id: str, face_id: str) -> str:
    return derived_prefix(user_id, photo_id) + f"faces/{face_id}.jpg"


def anonymised_key(user_id: str, photo_id: str, keep_person_ids: Iterable[str], style: str) -> str:
    digest = hashlib.sha256(",".join(sorted(keep_person_ids)).encode()).hexdigest()[:16]
    return derived_prefix(user_id, photo_id) + f"anonymised/{style}-{digest}.jpg"


def parse_original_key(key: str) -> tuple[str, str] | None:
    """(user_id, photo_id) of an originals/ key as S3 events spell it (URL-encoded)."""
    parts = unquote_plus(key).split("/")
    if len(parts) != 3 or f"{parts[0]}/" != PHOTOS_ORIGINALS_PREFIX or not parts[1] or not parts[2]:
        return None
    return parts[1], parts[2]


def bucket() -> str:
    return get_settings().photos_bucket


def presigned_upload(key: str, content_type: str, size_bytes: int) -> dict:
    """A presigned POST whose policy pins the key, the content type and the exact size."""
    settings = get_settings()
    return aws.client("s3").generate_presigned_post(
        Bucket=bucket(),
        Key=key,
        Fields={"Content-Type": content_type},
        Conditions=[
            {"Content-Type": content_type},
            ["content-length-range", size_bytes, size_bytes],
        ],
        ExpiresIn=settings.upload_url_seconds,
    )


def presigned_get(key: str) -> str:
    return aws.client("s3").generate_presigned_url(
        "get_object",
        Params={"Bucket": bucket(), "Key": key},
        ExpiresIn=get_settings().download_url_seconds,
    )


def put_jpeg(key: str, data: bytes) -> None:
    aws.client("s3").put_object(Bucket=bucket(), Key=key, Body=data, ContentType="image/jpeg")


def put_original(key: str, data: bytes, content_type: str) -> None:
    aws.client("s3").put_object(Bucket=bucket(), Key=key, Body=data, ContentType=content_type)


def exists(key: str) -> bool:
    s3 = aws.client("s3")
    try:
        s3.head_object(Bucket=bucket(), Key=key)
    except s3.exceptions.ClientError as exc:
        if exc.response.get("Error", {}).get("Code") in ("404", "NoSuchKey", "NotFound"):
            return False
        raise
    return True


def delete_prefix(prefix: str) -> int:
    """Delete every object under a prefix (all versions' current objects); returns how many."""
    s3 = aws.client("s3")
    deleted = 0
    for page in s3.get_paginator("list_objects_v2").paginate(Bucket=bucket(), Prefix=prefix):
        keys = [{"Key": obj["Key"]} for obj in page.get("Contents", [])]
        if keys:
            s3.delete_objects(Bucket=bucket(), Delete={"Objects": keys, "Quiet": True})
            deleted += len(keys)
    return deleted


def delete_keys(keys: Iterable[str]) -> None:
    objects = [{"Key": k} for k in keys]
    for start in range(0, len(objects), 1000):
        aws.client("s3").delete_objects(
            Bucket=bucket(), Delete={"Objects": objects[start : start + 1000], "Quiet": True}
        )
