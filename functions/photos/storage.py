"""Where a photo's objects live in S3, and presigned access to them.

``originals/`` holds what users upload (its ObjectCreated events start the
analysis); ``derived/`` holds what we make from it (thumbnail, face crops,
anonymised views) and never triggers anything. Both are per user, so erasure
is a prefix delete. Presigning and checking uploads is ``cheese_runtime.storage``;
this module binds it to the photos bucket and its key layout.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable

from cheese_runtime import aws
from cheese_runtime import storage as files
from cheese_runtime.resources import PHOTOS_DERIVED_PREFIX, PHOTOS_ORIGINALS_PREFIX
from cheese_runtime.settings import get_settings
from cheese_runtime.storage import UploadSpec

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
    """(user_id, photo_id) of an originals/ key (decoded, as consumers get it)."""
    parts = key.split("/")
    if len(parts) != 3 or f"{parts[0]}/" != PHOTOS_ORIGINALS_PREFIX or not parts[1] or not parts[2]:
        return None
    return parts[1], parts[2]


def bucket() -> str:
    return get_settings().photos_bucket


def upload_spec(key: str, content_type: str, size_bytes: int | None = None) -> UploadSpec:
    """An original's upload: the declared type, and the declared size when there is one."""
    return UploadSpec(
        key, content_type, max_bytes=get_settings().max_upload_bytes, exact_size=size_bytes
    )


def presigned_get(key: str) -> str:
    return files.presigned_get(bucket(), key)


def put_jpeg(key: str, data: bytes) -> None:
    aws.client("s3").put_object(Bucket=bucket(), Key=key, Body=data, ContentType="image/jpeg")


def put_original(key: str, data: bytes, content_type: str) -> None:
    aws.client("s3").put_object(Bucket=bucket(), Key=key, Body=data, ContentType=content_type)


def exists(key: str) -> bool:
    return files.exists(bucket(), key)


def delete_prefix(prefix: str) -> int:
    return files.delete_prefix(bucket(), prefix)


def delete_keys(keys: Iterable[str]) -> None:
    files.delete_keys(bucket(), keys)
