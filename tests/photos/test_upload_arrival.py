"""What arrives is what was declared, and the same bytes twice are one photo (issue 10, 7 and 8)."""

from __future__ import annotations

import httpx

from cheese_runtime import aws
from cheese_runtime.settings import get_settings
from tests.conftest import TestUser, signup
from tests.photos.helpers import consent, photo_bytes, wait_status

SETTLED = ("analyzed", "failed", "duplicate")


def request_upload(user: TestUser, content_type: str, size_bytes: int) -> dict:
    """An upload request as the app sends it when it does not compute a sha256."""
    created = user.call(
        "POST",
        "/v1/photos/uploads",
        json_body={"content_type": content_type, "size_bytes": size_bytes},
    )
    assert created.status == 201, created.body
    return created.json()


def post_file(created: dict, data: bytes, content_type: str) -> None:
    post = created["upload"]
    response = httpx.post(
        post["url"], data=post["fields"], files={"file": ("photo", data, content_type)}
    )
    assert response.status_code in (200, 201, 204), response.text


def put_around_the_policy(user: TestUser, photo_id: str, data: bytes, content_type: str) -> None:
    """Whoever holds the bucket's credentials can write an original the policy would refuse."""
    aws.client("s3").put_object(
        Bucket=get_settings().photos_bucket,
        Key=f"originals/{user.id}/{photo_id}",
        Body=data,
        ContentType=content_type,
    )


def original_exists(user: TestUser, photo_id: str) -> bool:
    listed = aws.client("s3").list_objects_v2(
        Bucket=get_settings().photos_bucket, Prefix=f"originals/{user.id}/{photo_id}"
    )
    return bool(listed.get("Contents"))


def test_the_same_bytes_uploaded_twice_without_a_hash_is_one_photo(db) -> None:  # noqa: ANN001
    user = signup("twice-no-hash")
    consent(user)
    data = photo_bytes("sample5.jpg")
    first = request_upload(user, "image/jpeg", len(data))
    post_file(first, data, "image/jpeg")
    analysed = wait_status(user, first["photo_id"], SETTLED)
    assert analysed["status"] == "analyzed", analysed

    second = request_upload(user, "image/jpeg", len(data))
    post_file(second, data, "image/jpeg")
    duplicate = wait_status(user, second["photo_id"], SETTLED)
    assert duplicate["status"] == "duplicate", duplicate
    assert duplicate["duplicate_of"] == first["photo_id"]
    assert duplicate["failure_reason"] is None and duplicate["faces"] == []
    assert duplicate["image_url"] is None
    assert not original_exists(user, second["photo_id"])

    listed = user.call("GET", "/v1/photos").json()["items"]
    assert [p["id"] for p in listed] == [first["photo_id"]]
    assert user.call("GET", f"/v1/photos/{first['photo_id']}").json()["faces"] == analysed["faces"]

    # Deleting the photo deletes what duplicated it.
    assert user.call("DELETE", f"/v1/photos/{first['photo_id']}").status == 204
    assert user.call("GET", f"/v1/photos/{second['photo_id']}").status == 404


def test_the_same_bytes_uploaded_at_once_are_analysed_once(db) -> None:  # noqa: ANN001
    user = signup("burst-no-hash")
    data = photo_bytes("sample6.jpg")
    created = [request_upload(user, "image/jpeg", len(data)) for _ in range(3)]
    for upload in created:
        post_file(upload, data, "image/jpeg")
    settled = [wait_status(user, c["photo_id"], SETTLED) for c in created]
    statuses = sorted(p["status"] for p in settled)
    assert statuses == ["analyzed", "duplicate", "duplicate"], settled
    kept = next(p["id"] for p in settled if p["status"] == "analyzed")
    assert all(p["duplicate_of"] == kept for p in settled if p["status"] == "duplicate")
    assert len(user.call("GET", "/v1/photos").json()["items"]) == 1


def test_an_original_larger_than_declared_fails_without_analysis(db) -> None:  # noqa: ANN001
    user = signup("too-big")
    data = photo_bytes("0-f1-su-ph.jpg")
    assert len(data) == 26_683
    created = request_upload(user, "image/jpeg", 1_000)
    put_around_the_policy(user, created["photo_id"], data, "image/jpeg")
    photo = wait_status(user, created["photo_id"], SETTLED)
    assert (photo["status"], photo["failure_reason"]) == ("failed", "upload-size-mismatch")
    assert photo["faces"] == [] and photo["width"] is None


def test_a_png_uploaded_as_jpeg_fails_without_analysis(db) -> None:  # noqa: ANN001
    user = signup("png-as-jpeg")
    data = photo_bytes("32bit.png")
    created = request_upload(user, "image/jpeg", len(data))
    post_file(created, data, "image/jpeg")
    photo = wait_status(user, created["photo_id"], SETTLED)
    assert (photo["status"], photo["failure_reason"]) == ("failed", "upload-type-mismatch")
    assert photo["content_type"] == "image/jpeg" and photo["width"] is None


def test_an_original_stored_under_another_type_fails(db) -> None:  # noqa: ANN001
    user = signup("stored-as-png")
    data = photo_bytes("obama2.jpg")
    created = request_upload(user, "image/jpeg", len(data))
    put_around_the_policy(user, created["photo_id"], data, "image/png")
    photo = wait_status(user, created["photo_id"], SETTLED)
    assert (photo["status"], photo["failure_reason"]) == ("failed", "upload-type-mismatch")


def test_bytes_that_are_not_the_declared_hash_fail(db) -> None:  # noqa: ANN001
    user = signup("wrong-hash")
    data = photo_bytes("obama2.jpg")
    created = user.call(
        "POST",
        "/v1/photos/uploads",
        json_body={"content_type": "image/jpeg", "size_bytes": len(data), "sha256": "ab" * 32},
    ).json()
    post_file(created, data, "image/jpeg")
    photo = wait_status(user, created["photo_id"], SETTLED)
    assert (photo["status"], photo["failure_reason"]) == ("failed", "upload-hash-mismatch")
