"""Where the diary function's objects live in S3, and presigned access to them.

- ``diaries/{user}/{diary_id}/video``: the uploaded video (its ObjectCreated
  event starts the analysis, declared by the analysis side);
- ``derived/{user}/diary/{diary_id}/...``: what the analysis makes of it (the
  thumbnail, extracted audio, Transcribe outputs); ``derived/`` never
  triggers anything.

Both are per user and per diary, so deleting a diary or an account is a
prefix delete.
"""

from __future__ import annotations

from cheese_runtime import storage as files
from cheese_runtime.resources import DIARIES_PREFIX, PHOTOS_DERIVED_PREFIX
from cheese_runtime.settings import get_settings

MAX_VIDEO_BYTES = 200 * 1024 * 1024
MAX_VIDEO_SECONDS = 600
VIDEO_CONTENT_TYPES = ("video/mp4", "video/webm", "video/quicktime")


def bucket() -> str:
    return get_settings().photos_bucket


def user_prefix(user_id: str) -> str:
    return f"{DIARIES_PREFIX}{user_id}/"


def derived_user_prefix(user_id: str) -> str:
    return f"{PHOTOS_DERIVED_PREFIX}{user_id}/diary/"


def video_key(user_id: str, diary_id: str) -> str:
    return f"{user_prefix(user_id)}{diary_id}/video"


def derived_prefix(user_id: str, diary_id: str) -> str:
    """Where the analysis writes a diary's thumbnail and Transcribe outputs."""
    return f"{derived_user_prefix(user_id)}{diary_id}/"


def parse_video_key(key: str) -> tuple[str, str] | None:
    """(user_id, diary_id) of an uploaded video's key (already URL-decoded), else None."""
    parts = key.split("/")
    if len(parts) != 4 or f"{parts[0]}/" != DIARIES_PREFIX or parts[3] != "video":
        return None
    return (parts[1], parts[2]) if parts[1] and parts[2] else None


def upload_spec(key: str, content_type: str, size_bytes: int) -> files.UploadSpec:
    """The one upload a diary allows: its key, declared type and exact declared size.

    The analysis checks the arrived object against the same spec
    (``cheese_runtime.storage.verify_arrival``)."""
    return files.UploadSpec(
        key=key, content_type=content_type, max_bytes=MAX_VIDEO_BYTES, exact_size=size_bytes
    )


def presigned_upload(spec: files.UploadSpec) -> files.PresignedUpload:
    return files.presigned_upload(bucket(), spec)


def presigned_get(key: str) -> str:
    return files.presigned_get(bucket(), key)


def delete_diary_objects(user_id: str, diary_id: str) -> int:
    return files.delete_prefix(
        bucket(), f"{user_prefix(user_id)}{diary_id}/"
    ) + files.delete_prefix(bucket(), derived_prefix(user_id, diary_id))


def delete_user_objects(user_id: str) -> int:
    return files.delete_prefix(bucket(), user_prefix(user_id)) + files.delete_prefix(
        bucket(), derived_user_prefix(user_id)
    )
