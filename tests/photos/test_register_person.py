"""POST /v1/people: a person registered at once from 1–5 real photos, through the photos handler.

The photos are real fixture photos (obama, biden, a group photo); the analysis is the
upload's own, on the real database, and the local stack's S3 notification of each stored
original finds it analysed already.
"""

from __future__ import annotations

import io
from typing import Any

import pytest
from PIL import Image

from tests.conftest import TestUser, signup
from tests.photos.helpers import consent, multipart, register_person

OBAMA = ["obama.jpg", "obama2.jpg", "obama3.jpg"]


def _problem(response: Any, status: int, slug: str) -> dict[str, Any]:
    assert response.status == status, response.body
    assert response.headers["content-type"].startswith("application/problem+json")
    problem = dict(response.json())
    assert problem["type"].endswith("/" + slug), problem
    return problem


def _photo_count(user: TestUser) -> int:
    return len(user.call("GET", "/v1/photos", query="limit=100").json()["items"])


def _people(user: TestUser) -> list[dict[str, Any]]:
    return list(user.call("GET", "/v1/people", query="all=true").json()["items"])


def test_three_photos_register_a_named_person_at_once(db: Any) -> None:
    user = signup("registers-obama")
    consent(user, face_grouping=True, expression_analysis=False)
    response = register_person(user, OBAMA, name="Barack")
    assert response.status == 201, response.body
    person = response.json()
    assert (person["name"], person["face_count"], person["photo_count"]) == ("Barack", 3, 3)
    assert person["cover_face_url"]
    assert [p["id"] for p in _people(user)] == [person["id"]]
    # The photos are the user's photos now, analysed, and the person's.
    photos = user.call("GET", f"/v1/people/{person['id']}/photos").json()["items"]
    assert len(photos) == 3 and {p["status"] for p in photos} == {"analyzed"}

    # More photos of him (one of them already in the library) join the same person: 200.
    again = register_person(user, ["obama_partial_face.jpg", "obama.jpg"])
    assert again.status == 200, again.body
    assert again.json()["id"] == person["id"] and again.json()["face_count"] == 4
    assert again.json()["name"] == "Barack"
    assert _photo_count(user) == 4


def test_one_photo_is_enough_and_its_face_is_kept_by_a_recluster(db: Any) -> None:
    user = signup("registers-one")
    consent(user, face_grouping=True, expression_analysis=False)
    response = register_person(user, ["biden.jpg"])
    assert response.status == 201, response.body
    person_id = response.json()["id"]
    assert response.json()["face_count"] == 1
    # Grouping alone would never make a person of one face (min_faces 3); this one is manual.
    from cheese_runtime.db.session import session_scope
    from functions.photos.grouping import recluster_user

    with session_scope() as session:
        recluster_user(session, user.id)
    assert [(p["id"], p["face_count"]) for p in _people(user)] == [(person_id, 1)]


def test_a_photo_of_someone_else_is_refused_and_leaves_nothing(db: Any) -> None:
    user = signup("registers-mixed")
    consent(user, face_grouping=True, expression_analysis=False)
    problem = _problem(
        register_person(user, ["obama.jpg", "obama2.jpg", "biden.jpg"]), 422, "faces-disagree"
    )
    assert problem["photo"] == 3
    assert _photo_count(user) == 0 and _people(user) == []


def test_in_a_group_photo_the_face_of_the_other_photos_is_chosen(db: Any) -> None:
    user = signup("registers-group")
    consent(user, face_grouping=True, expression_analysis=False)
    _problem(register_person(user, ["multi_face.jpg"]), 422, "several-faces")
    assert _photo_count(user) == 0
    # Nobody of the group photo is obama: its closest face still disagrees with his photos.
    problem = _problem(
        register_person(user, ["obama.jpg", "multi_face.jpg"]), 422, "faces-disagree"
    )
    assert problem["photo"] in (1, 2)
    assert _photo_count(user) == 0


def _blank_png() -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (320, 240), (200, 180, 160)).save(out, format="PNG")
    return out.getvalue()


@pytest.mark.parametrize(
    "parts, status, slug",
    [
        ([("photos", "noise.jpg", b"\x00\x01 not an image" * 50)], 422, "photo-unreadable"),
        ([("photos", "blank.png", _blank_png())], 422, "no-face-found"),
        ([("name", None, b"nobody")], 422, "validation-error"),
        ([("photos", f"p{i}.jpg", b"x") for i in range(6)], 422, "photo-count"),
        (
            [("photos", "a.jpg", b"\xff\xd8\xff" + b"\x00" * 100), ("name", None, b"a\x00b")],
            422,
            "validation-error",
        ),
    ],
    ids=["noise", "no-face", "no-photos", "six-photos", "nul-in-name"],
)
def test_bad_registrations_get_a_problem_and_store_nothing(
    db: Any, parts: list[tuple[str, str | None, bytes]], status: int, slug: str
) -> None:
    user = signup("registers-badly")
    consent(user, face_grouping=True, expression_analysis=False)
    body, headers = multipart(parts)
    _problem(user.call("POST", "/v1/people", body=body, headers=headers), status, slug)
    assert _photo_count(user) == 0 and _people(user) == []


def test_registration_needs_face_grouping_consent_and_stays_in_the_users_library(
    db: Any,
) -> None:
    without = signup("registers-without-consent")
    consent(without, face_grouping=False, expression_analysis=False)
    _problem(register_person(without, OBAMA[:1]), 409, "consent-required")
    assert _photo_count(without) == 0

    owner, other = signup("registers-owner"), signup("registers-other")
    for user in (owner, other):
        consent(user, face_grouping=True, expression_analysis=False)
    mine = register_person(owner, OBAMA[:2]).json()
    theirs = register_person(other, OBAMA[:2]).json()
    # The same photos make a person of each user's own; neither sees or grows the other's.
    assert mine["id"] != theirs["id"]
    assert [p["id"] for p in _people(owner)] == [mine["id"]]
    assert other.call("GET", f"/v1/people/{mine['id']}").status == 404
    assert owner.call("GET", f"/v1/people/{mine['id']}").json()["face_count"] == 2
