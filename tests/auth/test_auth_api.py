"""The auth function through its Lambda handler, with real HTTP API v2 events."""

from __future__ import annotations

import threading
import uuid

import pytest

from cheese_runtime.errors import PROBLEM_BASE
from tests.conftest import call_api, random_ip, signup, wait_until

PASSWORD = "correct horse battery staple"


def problem_type(response) -> str:  # noqa: ANN001
    assert response.headers["content-type"].startswith("application/problem+json"), response.body
    return response.json()["type"].removeprefix(PROBLEM_BASE)


def test_signup_returns_the_token_pair_contract(db) -> None:  # noqa: ANN001
    email = f"Ann-{uuid.uuid4().hex[:8]}@Example.COM"
    response = call_api(
        "POST",
        "/v1/auth/signup",
        json_body={"email": email, "password": PASSWORD, "display_name": "  Ann  "},
    )
    assert response.status == 201
    body = response.json()
    assert set(body) == {"user", "access_token", "refresh_token", "token_type", "expires_in"}
    assert body["token_type"] == "Bearer"
    assert body["expires_in"] == 900
    assert body["user"]["display_name"] == "Ann"
    me = call_api("GET", "/v1/auth/me", token=body["access_token"])
    assert me.status == 200
    assert me.json() == body["user"]


def test_email_is_unique_case_insensitively(db) -> None:  # noqa: ANN001
    user = signup("dup")
    response = call_api(
        "POST",
        "/v1/auth/signup",
        json_body={"email": user.email.upper(), "password": PASSWORD, "display_name": "Other"},
    )
    assert response.status == 409
    assert problem_type(response) == "email-taken"


@pytest.mark.parametrize(
    "password, slug", [("short", "validation-error"), ("x" * 300, "validation-error")]
)
def test_password_policy(db, password: str, slug: str) -> None:  # noqa: ANN001
    response = call_api(
        "POST",
        "/v1/auth/signup",
        json_body={
            "email": f"p-{uuid.uuid4().hex[:8]}@example.com",
            "password": password,
            "display_name": "P",
        },
    )
    assert response.status == 422
    assert problem_type(response) == slug


def test_password_may_not_be_the_email(db) -> None:  # noqa: ANN001
    email = f"sameasemail{uuid.uuid4().hex[:6]}@example.com"
    response = call_api(
        "POST",
        "/v1/auth/signup",
        json_body={"email": email, "password": email.upper(), "display_name": "S"},
    )
    assert response.status == 422
    assert problem_type(response) == "weak-password"


def test_password_is_stored_as_argon2id(db) -> None:  # noqa: ANN001
    from cheese_runtime.db.session import session_scope
    from functions.auth.models import User

    user = signup("hash")
    with session_scope() as session:
        stored = session.get(User, user.id).password_hash
    assert stored.startswith("$argon2id$v=19$m=65536,t=3,p=4$")
    assert user.password not in stored


@pytest.mark.parametrize(
    "body",
    [
        b"{not json",
        b"[]",
        b'{"email": 5, "password": [], "display_name": null}',
        b'{"email": "a@b.co", "password": "0123456789", "display_name": "\\u0000bad"}',
        b'{"email": "a@b.co", "password": "0123456789", "display_name": "ok", "admin": true}',
    ],
)
def test_malformed_signup_bodies_get_422_problem(db, body: bytes) -> None:  # noqa: ANN001
    response = call_api("POST", "/v1/auth/signup", body=body)
    assert response.status == 422
    assert problem_type(response) == "validation-error"


def test_login_errors_are_uniform_for_unknown_email_and_wrong_password(db) -> None:  # noqa: ANN001
    user = signup("login")
    wrong = call_api(
        "POST",
        "/v1/auth/login",
        json_body={"email": user.email, "password": "wrong password"},
        source_ip=random_ip(),
    )
    unknown = call_api(
        "POST",
        "/v1/auth/login",
        json_body={"email": "nobody@example.com", "password": "whatever1"},
        source_ip=random_ip(),
    )
    assert wrong.status == unknown.status == 401
    assert wrong.json() == unknown.json()
    ok = call_api(
        "POST",
        "/v1/auth/login",
        json_body={"email": user.email.upper(), "password": user.password},
        source_ip=random_ip(),
    )
    assert ok.status == 200
    assert ok.json()["user"]["id"] == user.id


def login(email: str, password: str, ip: str):  # noqa: ANN201
    return call_api(
        "POST", "/v1/auth/login", json_body={"email": email, "password": password}, source_ip=ip
    )


def test_failures_back_off_the_failing_client_with_retry_after(db) -> None:  # noqa: ANN001
    user = signup("throttled")
    attacker = random_ip()
    for _ in range(5):
        assert login(user.email, "wrong password", attacker).status == 401
    # That client waits now, even with the right password...
    locked = login(user.email, user.password, attacker)
    assert locked.status == 429
    assert problem_type(locked) == "too-many-attempts"
    assert 0 < int(locked.headers["retry-after"]) <= 900


def test_an_attacker_failing_50_times_does_not_stop_the_owner_elsewhere(db) -> None:  # noqa: ANN001
    user = signup("owner")
    attacker = random_ip()
    statuses = [login(user.email, f"guess {i:04d}", attacker).status for i in range(50)]
    # Five free failures, then waits of 1, 2, 4... s: only a few more guesses get through.
    assert statuses[:6] == [401] * 5 + [429]
    assert statuses.count(401) < 10 and set(statuses) == {401, 429}
    # ...and 25 more from 25 addresses, once each (a distributed attack: it slows the account).
    for _ in range(25):
        assert login(user.email, "another guess", random_ip()).status == 401
    owner = login(user.email, user.password, random_ip())
    assert owner.status == 200, owner.body
    assert owner.json()["user"]["id"] == user.id


def test_one_client_spraying_many_accounts_backs_off(db) -> None:  # noqa: ANN001
    user = signup("victim-of-shared-ip")
    ip = random_ip()
    for i in range(50):
        assert (
            login(f"spray{i}-{uuid.uuid4().hex[:6]}@example.com", "password123", ip).status == 401
        )
    blocked = login(user.email, user.password, ip)
    assert blocked.status == 429
    assert int(blocked.headers["retry-after"]) >= 1
    assert login(user.email, user.password, random_ip()).status == 200


def refresh(token: str):  # noqa: ANN201
    return call_api("POST", "/v1/auth/refresh", json_body={"refresh_token": token})


def age_used_token(token: str, seconds: int) -> None:
    """Pretend the token was used ``seconds`` ago (past the reuse grace)."""
    from datetime import timedelta

    from sqlalchemy import select

    from cheese_runtime.db.session import session_scope
    from functions.auth.models import RefreshToken
    from functions.auth.tokens import refresh_token_hash

    with session_scope() as session:
        stored = session.scalar(
            select(RefreshToken).where(RefreshToken.token_hash == refresh_token_hash(token))
        )
        stored.used_at -= timedelta(seconds=seconds)


def test_refresh_rotates_and_reuse_after_the_grace_revokes_the_family(db) -> None:  # noqa: ANN001
    user = signup("rotate")
    first = refresh(user.refresh_token)
    assert first.status == 200
    second_token = first.json()["refresh_token"]
    assert second_token != user.refresh_token
    # Replaying the used token after the grace: a thief or a bug. The whole family dies.
    age_used_token(user.refresh_token, 31)
    replay = refresh(user.refresh_token)
    assert replay.status == 401
    assert problem_type(replay) == "refresh-token-reused"
    assert refresh(second_token).status == 401
    # Another login (another family) is untouched.
    other = login(user.email, user.password, random_ip())
    assert refresh(other.json()["refresh_token"]).status == 200


def test_a_retried_refresh_within_the_grace_gets_the_same_new_pair(db) -> None:  # noqa: ANN001
    from sqlalchemy import select

    from cheese_runtime.db.session import session_scope
    from functions.auth.models import RefreshToken

    user = signup("retry")
    first = refresh(user.refresh_token)  # the answer is lost on the way: the app retries
    retry = refresh(user.refresh_token)
    assert first.status == retry.status == 200, retry.body
    new_token = first.json()["refresh_token"]
    assert retry.json()["refresh_token"] == new_token
    assert call_api("GET", "/v1/auth/me", token=retry.json()["access_token"]).status == 200
    # The successor is not kept in plaintext anywhere.
    with session_scope() as session:
        stored = session.scalars(select(RefreshToken).where(RefreshToken.user_id == user.id)).all()
    assert all(new_token not in repr(vars(row)) for row in stored)
    # The family goes on normally...
    third = refresh(new_token)
    assert third.status == 200
    # ...and once the successor was used, the old token is a replay even within the grace.
    replay = refresh(user.refresh_token)
    assert replay.status == 401 and problem_type(replay) == "refresh-token-reused"
    assert refresh(third.json()["refresh_token"]).status == 401


def test_two_racing_refreshes_get_the_same_new_pair(db) -> None:  # noqa: ANN001
    user = signup("race")
    results: list = []

    def run() -> None:
        results.append(refresh(user.refresh_token))

    threads = [threading.Thread(target=run) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert [r.status for r in results] == [200, 200]
    assert results[0].json()["refresh_token"] == results[1].json()["refresh_token"]


def test_unknown_refresh_token_is_refused(db) -> None:  # noqa: ANN001
    response = call_api("POST", "/v1/auth/refresh", json_body={"refresh_token": "made-up"})
    assert response.status == 401
    assert problem_type(response) == "invalid-refresh-token"


def test_logout_revokes_the_family(db) -> None:  # noqa: ANN001
    user = signup("logout")
    assert (
        call_api("POST", "/v1/auth/logout", json_body={"refresh_token": user.refresh_token}).status
        == 204
    )
    assert (
        call_api("POST", "/v1/auth/refresh", json_body={"refresh_token": user.refresh_token}).status
        == 401
    )
    # Logging out twice (or with an unknown token) is harmless.
    assert (
        call_api("POST", "/v1/auth/logout", json_body={"refresh_token": user.refresh_token}).status
        == 204
    )


@pytest.mark.parametrize(
    "authorization", [None, "Bearer nonsense", "Basic dXNlcjpwYXNz", "Bearer a.b.c"]
)
def test_me_requires_a_valid_token(db, authorization: str | None) -> None:  # noqa: ANN001
    headers = {"authorization": authorization} if authorization else {}
    response = call_api("GET", "/v1/auth/me", headers=headers)
    assert response.status == 401
    assert response.headers["www-authenticate"] == "Bearer"
    assert problem_type(response) == "invalid-token"


def test_account_deletion_erases_the_account_through_the_event(db) -> None:  # noqa: ANN001
    from sqlalchemy import select

    from cheese_runtime.db.session import session_scope
    from functions.auth.models import RefreshToken, User

    user = signup("leaving")
    response = user.call("DELETE", "/v1/auth/me")
    assert response.status == 202
    assert response.json() == {"status": "deletion_requested"}
    # Refresh tokens die at once; the erasure consumer removes the rows.
    assert (
        call_api("POST", "/v1/auth/refresh", json_body={"refresh_token": user.refresh_token}).status
        == 401
    )

    def erased() -> bool:
        with session_scope() as session:
            return (
                session.get(User, user.id) is None
                and not session.scalars(
                    select(RefreshToken).where(RefreshToken.user_id == user.id)
                ).all()
            )

    assert wait_until(erased, timeout=15)
    assert user.call("GET", "/v1/auth/me").status == 401
    # The email is free again.
    again = call_api(
        "POST",
        "/v1/auth/signup",
        json_body={"email": user.email, "password": PASSWORD, "display_name": "Back"},
    )
    assert again.status == 201


def test_jwks_publishes_the_signing_key(db) -> None:  # noqa: ANN001
    import jwt

    user = signup("jwks")
    jwks = call_api("GET", "/.well-known/jwks.json").json()
    kid = jwt.get_unverified_header(user.access_token)["kid"]
    assert kid in {k["kid"] for k in jwks["keys"]}
    assert all("d" not in k for k in jwks["keys"]), "private key material leaked"
