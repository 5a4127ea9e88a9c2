"""Where the video function's objects live in S3.

- ``videos/{user}/{video_id}``: uploaded originals (no bucket notification: the
  app asks for an anonymisation, which checks the arrival);
- ``derived/{user}/videos/{anonymisation_id}.mp4``: results (``derived/`` never
  triggers anything). Both per user, so erasure is two prefix deletes.
"""

from __future__ import annotations

from pathlib import Path

from cheese_runtime import aws
from cheese_runtime import storage as runtime_storage
from cheese_runtime.resources import PHOTOS_DERIVED_PREFIX
from cheese_runtime.settings import get_settings

VIDEOS_PREFIX = "videos/"
MAX_VIDEO_BYTES = 500 * 1024 * 1024


def bucket() -> str:
    return get_settings().photos_bucket


def original_prefix(user_id: str) -> str:
    return f"{VIDEOS_PREFIX}{user_id}/"


def original_key(user_id: str, video_id: str) -> str:
    return original_prefix(user_id) + video_id


def result_prefix(user_id: str) -> str:
    return f"{PHOTOS_DERIVED_PREFIX}{user_id}/videos/"


def result_key(user_id: str, anonymisation_id: str) -> str:
    return result_prefix(user_id) + f"{anonymisation_id}.mp4"


def upload_spec(
    user_id: str, video_id: str, content_type: str, size: int
) -> runtime_storage.UploadSpec:
    return runtime_storage.UploadSpec(
        key=original_key(user_id, video_id),
        content_type=content_type,
        max_bytes=MAX_VIDEO_BYTES,
        exact_size=size,
    )


def download(key: str, path: Path) -> None:
    aws.client("s3").download_file(bucket(), key, str(path))


def upload(path: Path, key: str) -> None:
    aws.client("s3").upload_file(str(path), bucket(), key, ExtraArgs={"ContentType": "video/mp4"})
