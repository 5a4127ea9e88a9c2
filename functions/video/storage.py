"""Where the video function's objects live in S3.

- ``videos/{user}/{video_id}``: uploaded originals (no bucket notification: the
  app asks for an anonymisation, which checks the arrival);
- ``derived/{user}/videos/{anonymisation_id}.mp4``: results (``derived/`` never
  triggers anything);
- ``live/{user}/{stream_id}/{sequence}``: uploaded live segments (announced through
  the API, no notification) and ``derived/{user}/live/{stream_id}/{sequence}.ts``
  their anonymised HLS segments. All per user, so erasure is prefix deletes.
"""

from __future__ import annotations

import gzip
import json
from pathlib import Path
from typing import Any

from cheese_runtime import aws
from cheese_runtime import storage as runtime_storage
from cheese_runtime.resources import PHOTOS_DERIVED_PREFIX
from cheese_runtime.settings import get_settings

VIDEOS_PREFIX = "videos/"
LIVE_PREFIX = "live/"
MAX_VIDEO_BYTES = 500 * 1024 * 1024
# A 2-second segment: 20 MB is 80 Mbit/s, above any phone's 4K bitrate.
MAX_SEGMENT_BYTES = 20 * 1024 * 1024
SEGMENT_SECONDS = 2.0
# 24 hours of 2-second segments.
MAX_LIVE_SEGMENTS = 43_200


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


def segment_key(user_id: str, stream_id: str, sequence: int) -> str:
    return f"{LIVE_PREFIX}{user_id}/{stream_id}/{sequence}"


def live_prefix(user_id: str) -> str:
    return f"{LIVE_PREFIX}{user_id}/"


def live_result_prefix(user_id: str) -> str:
    return f"{PHOTOS_DERIVED_PREFIX}{user_id}/live/"


def live_result_key(user_id: str, stream_id: str, sequence: int) -> str:
    return live_result_prefix(user_id) + f"{stream_id}/{sequence}.ts"


def segment_spec(
    user_id: str, stream_id: str, sequence: int, content_type: str, size: int
) -> runtime_storage.UploadSpec:
    return runtime_storage.UploadSpec(
        key=segment_key(user_id, stream_id, sequence),
        content_type=content_type,
        max_bytes=MAX_SEGMENT_BYTES,
        exact_size=size,
    )


def upload_segment(path: Path, key: str) -> None:
    aws.client("s3").upload_file(str(path), bucket(), key, ExtraArgs={"ContentType": "video/mp2t"})


def chunk_prefix(user_id: str, anonymisation_id: str) -> str:
    """A long video's chunk work (detections, plans, encoded segments); removed once joined."""
    return result_prefix(user_id) + f"chunks/{anonymisation_id}/"


def chunk_key(user_id: str, anonymisation_id: str, number: int, kind: str) -> str:
    """kind: "detections.json", "plan.json" or "mp4"."""
    return chunk_prefix(user_id, anonymisation_id) + f"{number}.{kind}"


def put_json(key: str, data: object) -> None:
    body = json.dumps(data, separators=(",", ":")).encode()
    aws.client("s3").put_object(
        Bucket=bucket(),
        Key=key,
        Body=gzip.compress(body),
        ContentType="application/json",
        ContentEncoding="gzip",
    )


def get_json(key: str) -> Any:
    body = aws.client("s3").get_object(Bucket=bucket(), Key=key)["Body"].read()
    return json.loads(gzip.decompress(body))


def upload_chunk(path: Path, key: str) -> None:
    aws.client("s3").upload_file(str(path), bucket(), key, ExtraArgs={"ContentType": "video/mp4"})
