"""Where the emoji-face function's objects live in S3, and presigned access to them.

- ``emoji-templates/{owner}/{template_id}/{expression}``: a template's seven
  uploads (their ObjectCreated events reach ``functions.emotion.uploads``);
- ``derived/{user}/emoji/{task_id}.jpg``: task results (``derived/`` never
  triggers anything; per user, so account erasure is a prefix delete);
- pool avatars go where the pool function reads them (``avatars/...``).
"""

from __future__ import annotations

from typing import Any

from cheese_runtime import aws
from cheese_runtime import storage as runtime_storage
from cheese_runtime.resources import (
    EMOJI_TEMPLATES_PREFIX,
    PHOTOS_DERIVED_PREFIX,
    PHOTOS_ORIGINALS_PREFIX,
)
from cheese_runtime.settings import get_settings
from functions.emotion.schemas import PresignedUpload

EMOJI_MAX_BYTES = 512 * 1024
EMOJI_CONTENT_TYPES = ("image/png", "image/webp")


def bucket() -> str:
    return get_settings().photos_bucket


def template_prefix(owner_id: str, template_id: str | None = None) -> str:
    return f"{EMOJI_TEMPLATES_PREFIX}{owner_id}/" + (f"{template_id}/" if template_id else "")


def template_image_key(owner_id: str, template_id: str, expression: str) -> str:
    return template_prefix(owner_id, template_id) + expression


def parse_template_image_key(key: str) -> tuple[str, str, str] | None:
    """(owner_id, template_id, expression) of a template upload key (already URL-decoded)."""
    parts = key.split("/")
    if len(parts) != 4 or f"{parts[0]}/" != EMOJI_TEMPLATES_PREFIX or not all(parts[1:]):
        return None
    return parts[1], parts[2], parts[3]


def result_prefix(user_id: str) -> str:
    return f"{PHOTOS_DERIVED_PREFIX}{user_id}/emoji/"


def result_key(user_id: str, task_id: str) -> str:
    return result_prefix(user_id) + f"{task_id}.jpg"


def original_key(user_id: str, photo_id: str) -> str:
    """The photos function's key of an uploaded original (read-only here)."""
    return f"{PHOTOS_ORIGINALS_PREFIX}{user_id}/{photo_id}"


def presigned_image_upload(key: str, expression: str) -> PresignedUpload:
    """A presigned POST for one emoji: PNG or WebP, 1 byte to 512 KB, at this key only.

    The policy cannot pin one of two types, so it pins the ``image/`` prefix;
    the arrival check decodes the bytes and refuses anything but PNG or WebP.
    """
    expires_in = get_settings().upload_url_seconds
    post = aws.client("s3").generate_presigned_post(
        Bucket=bucket(),
        Key=key,
        Conditions=[
            ["starts-with", "$Content-Type", "image/"],
            ["content-length-range", 1, EMOJI_MAX_BYTES],
        ],
        ExpiresIn=expires_in,
    )
    return PresignedUpload(
        expression=expression,  # type: ignore[arg-type]
        url=post["url"],
        fields=post["fields"],
        expires_in=expires_in,
        max_bytes=EMOJI_MAX_BYTES,
        accepted_types=list(EMOJI_CONTENT_TYPES),
    )


def presigned_get(key: str) -> str:
    return runtime_storage.presigned_get(bucket(), key)


def head(key: str) -> dict[str, Any] | None:
    s3 = aws.client("s3")
    try:
        return dict(s3.head_object(Bucket=bucket(), Key=key))
    except s3.exceptions.ClientError as exc:
        if exc.response.get("Error", {}).get("Code") in ("404", "NoSuchKey", "NotFound"):
            return None
        raise


def read(key: str) -> bytes:
    return bytes(aws.client("s3").get_object(Bucket=bucket(), Key=key)["Body"].read())


def put(key: str, data: bytes, content_type: str) -> None:
    aws.client("s3").put_object(Bucket=bucket(), Key=key, Body=data, ContentType=content_type)


def delete_prefix(prefix: str) -> int:
    return runtime_storage.delete_prefix(bucket(), prefix)
