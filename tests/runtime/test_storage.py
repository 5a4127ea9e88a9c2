"""cheese_runtime.storage: presigned uploads pin what was declared; arrivals are checked."""

from __future__ import annotations

import base64
import json

import httpx
import pytest

from cheese_runtime import aws
from cheese_runtime import storage as files

BUCKET = "storage-test"
JPEG = b"\xff\xd8\xff\xe0\x00\x10JFIF\x00" + b"\x00" * 100
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 100


@pytest.fixture
def s3(backend) -> object:  # noqa: ANN001
    """The local stack's S3 (moto): a mock_aws() here would reset the stack's moto state."""
    client = aws.client("s3")
    if BUCKET not in {b["Name"] for b in client.list_buckets()["Buckets"]}:
        client.create_bucket(Bucket=BUCKET)
    return client


def policy(upload: files.PresignedUpload) -> dict:
    return json.loads(base64.b64decode(upload.fields["policy"]))


def test_presigned_post_pins_key_type_and_exact_size(s3) -> None:  # noqa: ANN001
    spec = files.UploadSpec("u/1/photo", "image/jpeg", max_bytes=1000, exact_size=len(JPEG))
    upload = files.presigned_upload(BUCKET, spec)
    conditions = policy(upload)["conditions"]
    assert {"Content-Type": "image/jpeg"} in conditions
    assert ["content-length-range", len(JPEG), len(JPEG)] in conditions
    assert {"key": "u/1/photo"} in conditions
    assert upload.fields["Content-Type"] == "image/jpeg" and upload.fields["key"] == "u/1/photo"
    assert upload.expires_in > 0


def test_presigned_post_without_exact_size_allows_a_range_and_its_own_expiry(s3) -> None:  # noqa: ANN001
    spec = files.UploadSpec("a/1.png", "image/png", max_bytes=4096, expires_in=120)
    upload = files.presigned_upload(BUCKET, spec)
    assert ["content-length-range", 1, 4096] in policy(upload)["conditions"]
    assert upload.expires_in == 120


def test_a_spec_refuses_types_without_a_signature_and_sizes_past_the_limit() -> None:
    with pytest.raises(ValueError, match="SIGNATURES"):
        files.UploadSpec("k", "application/pdf", max_bytes=10)
    with pytest.raises(ValueError):
        files.UploadSpec("k", "image/png", max_bytes=10, exact_size=11)


def test_an_arrival_matching_its_spec_is_accepted(s3) -> None:  # noqa: ANN001
    s3.put_object(Bucket=BUCKET, Key="ok.jpg", Body=JPEG, ContentType="image/jpeg")
    arrived = files.verify_arrival(BUCKET, files.UploadSpec("ok.jpg", "image/jpeg", 1000))
    assert (arrived.size, arrived.content_type) == (len(JPEG), "image/jpeg")


@pytest.mark.parametrize(
    ("body", "content_type", "spec", "reason"),
    [
        (JPEG, "image/jpeg", files.UploadSpec("k", "image/jpeg", 50), "too-large"),
        (JPEG, "image/jpeg", files.UploadSpec("k", "image/jpeg", 999, 200), "too-small"),
        (PNG, "image/png", files.UploadSpec("k", "image/jpeg", 1000), "declared-type"),
        (PNG, "image/jpeg", files.UploadSpec("k", "image/jpeg", 1000), "sniffed-type"),
        (b"<html>" * 20, "image/jpeg", files.UploadSpec("k", "image/jpeg", 1000), "sniffed-type"),
    ],
)
def test_an_arrival_that_is_not_what_was_declared_is_rejected_with_the_failed_check(
    s3,  # noqa: ANN001
    body: bytes,
    content_type: str,
    spec: files.UploadSpec,
    reason: str,
) -> None:
    s3.put_object(Bucket=BUCKET, Key="k", Body=body, ContentType=content_type)
    with pytest.raises(files.UploadRejected) as rejected:
        files.verify_arrival(BUCKET, spec)
    assert rejected.value.reason == reason
    assert files.exists(BUCKET, "k")  # the caller decides what to do with it


def test_a_missing_object_is_rejected_as_missing(s3) -> None:  # noqa: ANN001
    with pytest.raises(files.UploadRejected) as rejected:
        files.verify_arrival(BUCKET, files.UploadSpec("gone", "image/png", 1000))
    assert rejected.value.reason == "missing"


@pytest.mark.parametrize(
    ("head", "content_type"),
    [
        (JPEG, "image/jpeg"),
        (PNG, "image/png"),
        (b"RIFF\x00\x00\x00\x00WEBPVP8 ", "image/webp"),
        (b"\x00\x00\x00\x18ftypheic\x00\x00\x00\x00mif1heic", "image/heic"),
        (b"\x00\x00\x00\x14ftypqt  \x00\x00\x00\x00qt  ", "video/quicktime"),
        (b"\x00\x00\x00\x20ftypisom\x00\x00\x02\x00isomiso2avc1mp41", "video/mp4"),
        (b"\x1a\x45\xdf\xa3\x9f\x42\x86\x81\x01", "video/webm"),
        (b"GIF89a", None),
        (b"", None),
    ],
)
def test_sniffing_names_the_type_the_bytes_show(head: bytes, content_type: str | None) -> None:
    assert files.sniff(head) == content_type


def test_presigned_get_serves_the_object_and_delete_prefix_erases_it(s3) -> None:  # noqa: ANN001
    for i in range(3):
        s3.put_object(Bucket=BUCKET, Key=f"user/1/{i}", Body=b"x")
    s3.put_object(Bucket=BUCKET, Key="user/2/0", Body=b"y")
    assert httpx.get(files.presigned_get(BUCKET, "user/1/0", expires_in=60)).content == b"x"
    assert files.delete_prefix(BUCKET, "user/1/") == 3
    assert not files.exists(BUCKET, "user/1/0") and files.exists(BUCKET, "user/2/0")
    files.delete_keys(BUCKET, ["user/2/0"])
    assert not files.exists(BUCKET, "user/2/0")
