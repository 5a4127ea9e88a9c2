"""The one input policy (cheese_runtime.inputs), through every function's handler.

NUL and other control characters in text, ids of the wrong shape in paths,
queries and bodies, and JSON values of the wrong type answer 404 or 422
problems, never a 500, on PostgreSQL (which refuses NUL in text) and SQLite
(which would store it).
"""

from __future__ import annotations

import uuid

import httpx
import pytest

from cheese_runtime.errors import PROBLEM_BASE
from tests.conftest import TestUser, call_api, random_ip, signup

NUL_ID = "a\x00b"


def problem_type(response) -> str:  # noqa: ANN001
    assert response.headers["content-type"].startswith("application/problem+json"), response.body
    return response.json()["type"].removeprefix(PROBLEM_BASE)


@pytest.fixture(scope="module")
def user(backend) -> TestUser:  # noqa: ANN001
    return signup("policy")


@pytest.fixture(scope="module")
def person_id(user: TestUser) -> str:
    from cheese_runtime.db.session import session_scope
    from functions.photos.models import Person

    with session_scope() as session:
        person = Person(user_id=user.id, name="Ann")
        session.add(person)
        session.flush()
        return person.id


@pytest.mark.parametrize(
    "email", ["a\x00@example.com", "a\x07@example.com", "a\n@example.com", "\ud800@example.com"]
)
def test_login_with_a_control_character_in_the_email_is_a_422(db, email: str) -> None:  # noqa: ANN001
    response = call_api(
        "POST",
        "/v1/auth/login",
        json_body={"email": email, "password": "whatever123"},
        source_ip=random_ip(),
    )
    assert response.status == 422
    assert problem_type(response) == "validation-error"


@pytest.mark.parametrize("name", ["An\x00n", "Ann\x1b[31m", "Ann\nBob", "Ann\u0085"])
def test_a_person_name_with_a_control_character_is_a_422_and_not_stored(
    user: TestUser, person_id: str, name: str
) -> None:
    response = user.call("PATCH", f"/v1/people/{person_id}", json_body={"name": name})
    assert response.status == 422
    assert problem_type(response) == "validation-error"
    people = user.call("GET", "/v1/people", query="include_hidden=true").json()["items"]
    assert [p["name"] for p in people if p["id"] == person_id] == ["Ann"]


def test_names_keep_the_characters_people_type(user: TestUser, person_id: str) -> None:
    # Emoji with zero-width joiners (format characters, not controls) are a name.
    family = "\U0001f468\u200d\U0001f469\u200d\U0001f467 Kim"
    response = user.call("PATCH", f"/v1/people/{person_id}", json_body={"name": family})
    assert response.status == 200, response.body
    assert response.json()["name"] == family


@pytest.mark.parametrize(
    "method, path, body",
    [
        ("GET", "/v1/photos/{}", None),
        ("DELETE", "/v1/photos/{}", None),
        ("GET", "/v1/photos/{}/anonymised", None),
        ("GET", "/v1/photos/{}/smiles", None),
        ("GET", "/v1/people/{}", None),
        ("GET", "/v1/people/{}/photos", None),
        ("GET", "/v1/people/{}/suggestions", None),
        ("PATCH", "/v1/people/{}", {"name": "x"}),
        ("POST", "/v1/people/{}/merge", {"person_ids": [str(uuid.uuid4())]}),
        ("POST", "/v1/faces/{}/assign", {"person_id": None}),
        ("GET", "/v1/pools/{}", None),
        ("GET", "/v1/pools/{}/leaderboard", None),
        ("POST", "/v1/pools/{}/invites", {"user_id": str(uuid.uuid4())}),
    ],
)
@pytest.mark.parametrize("bad_id", [NUL_ID, "not-an-id", "\x1f", str(uuid.uuid4()).upper()])
def test_path_ids_that_are_not_ids_are_404(
    user: TestUser, method: str, path: str, body: object, bad_id: str
) -> None:
    response = user.call(method, path.format(bad_id), json_body=body)
    assert response.status == 404, response.body
    assert problem_type(response) == "not-found"


@pytest.mark.parametrize(
    "path, query",
    [
        ("/v1/photos", "person_ids=a%00b"),
        ("/v1/photos", "person_ids=not-an-id"),
        ("/v1/photos", f"person_ids={uuid.uuid4()},a%00b"),
        ("/v1/photos/{photo}/anonymised", "keep=a%00b"),
        ("/v1/photos/{photo}/anonymised", "keep=meh"),
        ("/v1/photos", "cursor=a%00b"),
        ("/v1/pools", "cursor=%00"),
        ("/v1/smiles/ranking", "period=week%00"),
        ("/v1/donations/statement", "period=2026-W0%00"),
    ],
)
def test_query_values_with_control_characters_or_bad_ids_are_422(
    user: TestUser, path: str, query: str
) -> None:
    response = user.call("GET", path.format(photo=uuid.uuid4()), query=query)
    assert response.status in (400, 422), response.body
    assert problem_type(response) in ("validation-error", "invalid-cursor")


@pytest.mark.parametrize(
    "method, path, body",
    [
        ("PUT", "/v1/me/charity", {"charity_id": "a\x00b"}),
        ("PUT", "/v1/me/charity", {"charity_id": "not-an-id"}),
        ("POST", "/v1/people/{person}/merge", {"person_ids": ["a\x00b"]}),
        ("POST", "/v1/faces/{face}/assign", {"person_id": "a\x00b"}),
        ("POST", "/v1/pools", {"name": "Study\x00", "capacity": 4}),
        ("POST", "/v1/pools/{pool}/invites", {"user_id": "a\x00b"}),
        ("POST", "/v1/photos/uploads", {"content_type": "image/jpeg\x00", "size_bytes": 10}),
        (
            "POST",
            "/v1/auth/signup",
            {"email": "a@b.co", "password": "0123456789\x00", "display_name": "A"},
        ),
        ("POST", "/v1/auth/refresh", {"refresh_token": "abc\x00"}),
        ("POST", "/v1/auth/logout", {"refresh_token": "abc\x00"}),
    ],
)
def test_body_text_and_ids_with_control_characters_are_422(
    user: TestUser, person_id: str, method: str, path: str, body: dict
) -> None:
    path = path.format(person=person_id, face=uuid.uuid4(), pool=uuid.uuid4().hex)
    response = user.call(method, path, json_body=body)
    assert response.status == 422, response.body
    assert problem_type(response) == "validation-error"


@pytest.mark.parametrize(
    "body",
    [
        {"face_grouping": "yes", "expression_analysis": 1},
        {"face_grouping": 1, "expression_analysis": 0},
        {"face_grouping": "true", "expression_analysis": False},
        {"face_grouping": None, "expression_analysis": False},
    ],
)
def test_consent_flags_are_json_booleans(user: TestUser, body: dict) -> None:
    before = user.call("GET", "/v1/me/consent").json()
    response = user.call("PUT", "/v1/me/consent", json_body=body)
    assert response.status == 422, response.body
    assert problem_type(response) == "validation-error"
    assert user.call("GET", "/v1/me/consent").json() == before


@pytest.mark.parametrize(
    "method, path, body",
    [
        ("PATCH", "/v1/people/{person}", {"hidden": "true"}),
        ("PATCH", "/v1/people/{person}", {"is_me": 1}),
        ("POST", "/v1/photos/uploads", {"content_type": "image/jpeg", "size_bytes": "1000"}),
        ("POST", "/v1/photos/uploads", {"content_type": "image/jpeg", "size_bytes": 1000.0}),
        ("POST", "/v1/pools", {"name": "Study", "capacity": "4"}),
        ("POST", "/v1/pools", {"name": "Study", "capacity": 4, "public": "false"}),
    ],
)
def test_no_type_coercion_in_bodies(
    user: TestUser, person_id: str, method: str, path: str, body: dict
) -> None:
    response = user.call(method, path.format(person=person_id), json_body=body)
    assert response.status == 422, response.body
    assert problem_type(response) == "validation-error"


def test_encoded_nul_in_paths_and_queries_over_http(http_base_url: str, user: TestUser) -> None:
    """The same through the local stack's HTTP gateway, with the NUL percent-encoded on the wire."""
    headers = {"authorization": f"Bearer {user.access_token}"}
    with httpx.Client(base_url=http_base_url, headers=headers) as client:
        for method, path in [
            ("GET", "/v1/photos/a%00b"),
            ("DELETE", "/v1/photos/a%00b"),
            ("GET", "/v1/people/a%00b/photos"),
            ("PATCH", "/v1/people/a%00b"),
            ("GET", "/v1/people/a%00b/suggestions"),
            ("POST", "/v1/faces/a%00b/assign"),
            ("GET", "/v1/photos/a%00b/smiles"),
        ]:
            response = client.request(method, path, json={"person_id": None, "name": "x"})
            assert response.status_code == 404, (method, path, response.text)
        for path in [
            "/v1/photos?person_ids=a%00b",
            f"/v1/photos/{uuid.uuid4()}/anonymised?keep=a%00b",
        ]:
            response = client.get(path)
            assert response.status_code == 422, (path, response.text)
        response = client.post(
            "/v1/auth/login", json={"email": "a\u0000@example.com", "password": "whatever123"}
        )
        assert response.status_code == 422, response.text
