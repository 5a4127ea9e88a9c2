"""Photos end to end through the local stack: presigned upload → S3 event → analysis → API."""

from __future__ import annotations

import base64
import hashlib
import json
import uuid

import httpx
import numpy as np
import pytest
from sqlalchemy import func, select

from cheese_runtime import aws
from cheese_runtime.db.session import session_scope
from cheese_runtime.settings import get_settings
from functions.photos.models import Face, Person, Photo
from tests.conftest import signup, wait_until
from tests.idor import Attempt, assert_others_get_404, assert_owner_still_sees
from tests.photos.helpers import consent, photo_bytes, upload, wait_status


class _AnyUrl(str):
    """Presigned URLs differ per request; equal to any http(s) URL."""

    def __eq__(self, other: object) -> bool:
        return isinstance(other, str) and other.startswith("http")

    __hash__ = str.__hash__


ANY_URL = _AnyUrl("any url")


def objects_under(prefix: str) -> list[str]:
    response = aws.client("s3").list_objects_v2(Bucket=get_settings().photos_bucket, Prefix=prefix)
    return [o["Key"] for o in response.get("Contents", [])]


def test_upload_is_analysed_into_faces_with_boxes_smiles_and_urls(db) -> None:  # noqa: ANN001
    user = signup("photographer")
    consent(user)
    photo_id = upload(user, photo_bytes("sample1.jpg"))
    photo = wait_status(user, photo_id)
    assert photo["status"] == "analyzed", photo
    assert (photo["width"], photo["height"]) > (1000, 1000)
    assert len(photo["faces"]) == 3
    for face in photo["faces"]:
        assert face["box"]["w"] > 20 and face["box"]["h"] > 20
        assert 0 <= face["smile"] <= 100
        assert abs(sum(face["expression"].values()) - 1) < 1e-3
    thumbnail = httpx.get(photo["thumbnail_url"])
    assert thumbnail.status_code == 200 and thumbnail.content[:2] == b"\xff\xd8"
    assert httpx.get(photo["image_url"]).content == photo_bytes("sample1.jpg")


def test_presigned_post_pins_type_size_and_key(db) -> None:  # noqa: ANN001
    user = signup("policy")
    data = photo_bytes("obama.jpg")
    created = user.call(
        "POST",
        "/v1/photos/uploads",
        json_body={"content_type": "image/jpeg", "size_bytes": len(data)},
    ).json()
    fields = created["upload"]["fields"]
    policy = json.loads(base64.b64decode(fields["policy"]))
    assert {"Content-Type": "image/jpeg"} in policy["conditions"]
    assert ["content-length-range", len(data), len(data)] in policy["conditions"]
    assert fields["key"] == f"originals/{user.id}/{created['photo_id']}"
    assert user.call("GET", f"/v1/photos/{created['photo_id']}").json()["status"] == "pending"


@pytest.mark.parametrize(
    "body, status, slug",
    [
        ({"content_type": "text/html", "size_bytes": 10}, 422, "validation-error"),
        ({"content_type": "image/jpeg", "size_bytes": 0}, 422, "validation-error"),
        (
            {"content_type": "image/jpeg", "size_bytes": 20 * 1024 * 1024 + 1},
            413,
            "photo-too-large",
        ),
        (
            {"content_type": "image/jpeg", "size_bytes": 10, "sha256": "nothex"},
            422,
            "validation-error",
        ),
    ],
)
def test_upload_requests_are_validated(db, body: dict, status: int, slug: str) -> None:  # noqa: ANN001
    response = signup("validate").call("POST", "/v1/photos/uploads", json_body=body)
    assert response.status == status
    assert response.json()["type"].endswith("/" + slug)


def test_same_content_twice_returns_the_existing_photo(db) -> None:  # noqa: ANN001
    user = signup("dedupe")
    data = photo_bytes("obama2.jpg")
    first = upload(user, data)
    again = user.call(
        "POST",
        "/v1/photos/uploads",
        json_body={
            "content_type": "image/jpeg",
            "size_bytes": len(data),
            "sha256": hashlib.sha256(data).hexdigest(),
        },
    )
    assert again.status == 200
    assert again.json() == {"photo_id": first, "upload": None, "duplicate": True}


def test_without_consent_no_embedding_or_expression_is_computed(db) -> None:  # noqa: ANN001
    user = signup("no-consent")
    photo = wait_status(user, upload(user, photo_bytes("sample2.jpg")))
    assert photo["status"] == "analyzed" and len(photo["faces"]) == 3
    assert all(
        f["person_id"] is None and f["expression"] is None and f["smile"] is None
        for f in photo["faces"]
    )
    with session_scope() as session:
        stored = session.scalars(select(Face).where(Face.photo_id == photo["id"])).all()
        assert stored and all(f.embedding is None for f in stored)
    assert user.call("GET", "/v1/people").json()["items"] == []


def test_a_corrupt_image_ends_failed_with_a_reason_and_in_the_dlq(db) -> None:  # noqa: ANN001
    user = signup("poison")
    photo = wait_status(user, upload(user, b"this is a text file, not a JPEG at all" * 10))
    assert photo["status"] == "failed"
    assert photo["failure_reason"].startswith("image-")
    sqs = aws.client("sqs")
    dlq = sqs.get_queue_url(QueueName="cheese-photos-analysis-dlq")["QueueUrl"]

    def in_dlq() -> bool:
        messages = sqs.receive_message(QueueUrl=dlq, MaxNumberOfMessages=10, WaitTimeSeconds=1).get(
            "Messages", []
        )
        return any(photo["id"] in m["Body"] for m in messages)

    assert wait_until(in_dlq, timeout=60, interval=0.5)


def test_duplicate_delivery_leaves_one_set_of_faces(db) -> None:  # noqa: ANN001
    from cheese_local.events import (
        received_message,
        s3_notification,
        s3_notification_record,
        sqs_event,
    )
    from cheese_local.lambda_context import LocalLambdaContext
    from functions.photos import analyzer

    user = signup("twice")
    consent(user)
    photo = wait_status(user, upload(user, photo_bytes("sample3.jpg")))
    key = f"originals/{user.id}/{photo['id']}"
    message = received_message(
        s3_notification(s3_notification_record(get_settings().photos_bucket, key, 1))
    )
    for _ in range(2):
        result = analyzer.handler(
            sqs_event([message], "arn:aws:sqs:us-east-1:000000000000:q"),
            LocalLambdaContext("photos-analysis"),
        )
        assert result == {"batchItemFailures": []}
    with session_scope() as session:
        count = session.scalar(
            select(func.count()).select_from(Face).where(Face.photo_id == photo["id"])
        )
    assert count == len(photo["faces"]) == 3


def test_others_cannot_see_or_touch_my_photos_people_and_faces(db) -> None:  # noqa: ANN001
    owner, other = signup("owner"), signup("intruder")
    consent(owner)
    consent(other)
    photo = wait_status(owner, upload(owner, photo_bytes("sample4.jpg")))
    face_id = photo["faces"][0]["id"]
    person = owner.call("POST", f"/v1/faces/{face_id}/assign", json_body={"person_id": None}).json()
    before = owner.call("GET", f"/v1/photos/{photo['id']}").json()
    assert_others_get_404(
        other,
        [
            Attempt("GET", f"/v1/photos/{photo['id']}"),
            Attempt("DELETE", f"/v1/photos/{photo['id']}"),
            Attempt("GET", f"/v1/photos/{photo['id']}/anonymised"),
            Attempt("PATCH", f"/v1/people/{person['id']}", {"name": "mine now"}),
            Attempt(
                "POST", f"/v1/people/{person['id']}/merge", {"person_ids": [str(uuid.uuid4())]}
            ),
            Attempt("GET", f"/v1/people/{person['id']}/suggestions"),
            Attempt("GET", f"/v1/people/{person['id']}/photos"),
            Attempt("POST", f"/v1/faces/{face_id}/assign", {"person_id": None}),
            Attempt("GET", "/v1/photos", query=f"person_ids={person['id']}"),
        ],
    )
    # Pulling the owner's face into the intruder's own person is refused too.
    theirs = wait_status(other, upload(other, photo_bytes("obama.jpg")))
    their_person = other.call(
        "POST", f"/v1/faces/{theirs['faces'][0]['id']}/assign", json_body={"person_id": None}
    ).json()
    assert_others_get_404(
        other,
        [
            Attempt(
                "POST", f"/v1/people/{their_person['id']}/merge", {"person_ids": [person["id"]]}
            ),
            Attempt("POST", f"/v1/faces/{face_id}/assign", {"person_id": their_person["id"]}),
        ],
    )
    assert other.call("GET", "/v1/people").json()["items"][0]["id"] == their_person["id"]
    assert_owner_still_sees(
        owner,
        f"/v1/photos/{photo['id']}",
        before | {"image_url": ANY_URL, "thumbnail_url": ANY_URL},
    )


def test_listing_paginates_and_filters(db) -> None:  # noqa: ANN001
    user = signup("lister")
    ids = [upload(user, photo_bytes(name)) for name in ("obama.jpg", "obama2.jpg", "obama3.jpg")]
    for photo_id in ids:
        wait_status(user, photo_id)
    seen, cursor = [], None
    while True:
        page = user.call(
            "GET", "/v1/photos", query="limit=2" + (f"&cursor={cursor}" if cursor else "")
        ).json()
        seen += [p["id"] for p in page["items"]]
        cursor = page["next_cursor"]
        if not cursor:
            break
    assert sorted(seen) == sorted(ids) and len(seen) == 3
    assert user.call("GET", "/v1/photos", query="source=qr").json()["items"] == []
    assert user.call("GET", "/v1/photos", query="cursor=!!!").status == 400
    assert user.call("GET", "/v1/photos", query="limit=1000").status == 422


def test_deleting_a_photo_removes_its_objects_rows_and_people(db) -> None:  # noqa: ANN001
    user = signup("deleter")
    consent(user)
    photo = wait_status(user, upload(user, photo_bytes("sample5.jpg")))
    user.call("POST", f"/v1/faces/{photo['faces'][0]['id']}/assign", json_body={"person_id": None})
    assert objects_under(f"originals/{user.id}/{photo['id']}")
    assert user.call("DELETE", f"/v1/photos/{photo['id']}").status == 204
    assert user.call("GET", f"/v1/photos/{photo['id']}").status == 404
    assert objects_under(f"originals/{user.id}/{photo['id']}") == []
    assert objects_under(f"derived/{user.id}/{photo['id']}/") == []
    assert user.call("GET", "/v1/people").json()["items"] == []
    assert user.call("DELETE", f"/v1/photos/{photo['id']}").status == 404


def test_anonymised_view_hides_every_face_but_mine(db) -> None:  # noqa: ANN001
    from cheese_ml.images import decode_image

    user = signup("private")
    consent(user)
    photo = wait_status(user, upload(user, photo_bytes("sample6.jpg")))
    me_face = photo["faces"][0]
    me = user.call(
        "POST", f"/v1/faces/{me_face['id']}/assign", json_body={"person_id": None}
    ).json()
    assert (
        user.call("PATCH", f"/v1/people/{me['id']}", json_body={"is_me": True}).json()["is_me"]
        is True
    )
    first = user.call("GET", f"/v1/photos/{photo['id']}/anonymised", query="keep=me&style=mosaic")
    assert first.status == 202 and first.json()["status"] == "rendering"
    ready: dict = {}

    def rendered() -> bool:
        response = user.call(
            "GET", f"/v1/photos/{photo['id']}/anonymised", query="keep=me&style=mosaic"
        )
        ready.update(response.json())
        return response.status == 200

    assert wait_until(rendered, timeout=60, interval=0.5)
    original = decode_image(photo_bytes("sample6.jpg")).astype(np.int16)
    hidden = decode_image(httpx.get(ready["url"]).content).astype(np.int16)

    def region_change(face: dict) -> float:
        b = face["box"]
        return float(
            np.abs(
                original[b["y"] : b["y"] + b["h"], b["x"] : b["x"] + b["w"]]
                - hidden[b["y"] : b["y"] + b["h"], b["x"] : b["x"] + b["w"]]
            ).mean()
        )

    assert region_change(me_face) < 6  # only JPEG re-encoding noise
    for face in photo["faces"][1:]:
        assert region_change(face) > 10
    assert (
        user.call(
            "GET", f"/v1/photos/{photo['id']}/anonymised", query=f"keep={uuid.uuid4()}"
        ).status
        == 404
    )
    assert (
        user.call("GET", f"/v1/photos/{photo['id']}/anonymised", query="keep=nobody").status == 422
    )
    assert (
        user.call("GET", f"/v1/photos/{photo['id']}/anonymised", query="style=sepia").status == 422
    )


def test_withdrawing_consent_erases_embeddings_and_people(db) -> None:  # noqa: ANN001
    user = signup("withdraws")
    consent(user)
    photo = wait_status(user, upload(user, photo_bytes("obama3.jpg")))
    user.call("POST", f"/v1/faces/{photo['faces'][0]['id']}/assign", json_body={"person_id": None})
    response = user.call(
        "PUT", "/v1/me/consent", json_body={"face_grouping": False, "expression_analysis": False}
    )
    assert response.json()["face_grouping"] is False
    with session_scope() as session:
        faces = session.scalars(select(Face).where(Face.user_id == user.id)).all()
        assert faces and all(
            f.embedding is None and f.person_id is None and f.smile is None for f in faces
        )
        assert (
            session.scalar(
                select(func.count()).select_from(Person).where(Person.user_id == user.id)
            )
            == 0
        )
    assert user.call("POST", "/v1/people/recluster").status == 409


def test_account_deletion_leaves_nothing_in_s3_or_the_database(db) -> None:  # noqa: ANN001
    user = signup("erased")
    consent(user)
    photo = wait_status(user, upload(user, photo_bytes("sample1.jpg")))
    user.call("POST", f"/v1/faces/{photo['faces'][0]['id']}/assign", json_body={"person_id": None})
    assert objects_under(f"derived/{user.id}/")
    assert user.call("DELETE", "/v1/auth/me").status == 202

    def nothing_left() -> bool:
        with session_scope() as session:
            rows = sum(
                session.scalar(
                    select(func.count()).select_from(model).where(model.user_id == user.id)
                )
                for model in (Photo, Face, Person)
            )
        return (
            rows == 0
            and not objects_under(f"originals/{user.id}/")
            and not objects_under(f"derived/{user.id}/")
        )

    assert wait_until(nothing_left, timeout=30, interval=0.5)
