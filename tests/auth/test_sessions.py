"""Ended sessions end everywhere: logout, refresh-token reuse and account deletion.

Every function refuses the session's access tokens (the local stack runs all
functions in one process, which here is "the function that revoked": at
once; tests/unit/test_revocations.py covers other containers' 30 s), no
write by a deleted account succeeds or fails with a 500, and erasure leaves
nothing, even of a write racing it.
"""

from __future__ import annotations

import threading
import time
import uuid
from collections.abc import Iterator

import pytest
from sqlalchemy import event, func, select

from cheese_runtime.errors import PROBLEM_BASE
from tests.conftest import TestUser, call_api, signup, wait_until

UPLOAD = {"content_type": "image/jpeg", "size_bytes": 1000}


def problem_type(response) -> str:  # noqa: ANN001
    assert response.headers["content-type"].startswith("application/problem+json"), response.body
    return response.json()["type"].removeprefix(PROBLEM_BASE)


@pytest.fixture(scope="module")
def charity_id(backend) -> str:  # noqa: ANN001
    from cheese_runtime.db.session import session_scope
    from functions.smile_rank.models import Charity

    with session_scope() as session:
        charity = Charity(name=f"Sessions test {uuid.uuid4().hex[:6]}", description="")
        session.add(charity)
        session.flush()
        return charity.id


def writes(charity: str) -> list[tuple[str, str, dict]]:
    return [
        ("PUT", "/v1/me/consent", {"face_grouping": True, "expression_analysis": True}),
        ("POST", "/v1/photos/uploads", UPLOAD),
        ("PUT", "/v1/me/charity", {"charity_id": charity}),
        ("POST", "/v1/pools", {"name": "After hours", "capacity": 4}),
    ]


READS = [("GET", "/v1/auth/me"), ("GET", "/v1/photos"), ("GET", "/v1/smiles/me"),
         ("GET", "/v1/pools")]  # fmt: skip


def assert_refused_everywhere(user: TestUser, charity: str, slug: str) -> None:
    for method, path, body in writes(charity):
        response = user.call(method, path, json_body=body)
        assert response.status == 401, (path, response.status, response.body)
        assert problem_type(response) == slug, path
    for method, path in READS:
        response = user.call(method, path)
        assert response.status == 401, (path, response.status)
        assert problem_type(response) == slug, path


def test_logout_ends_the_access_token_everywhere(db, charity_id: str) -> None:  # noqa: ANN001
    user = signup("logout-everywhere")
    other_login = call_api(
        "POST",
        "/v1/auth/login",
        json_body={"email": user.email, "password": user.password},
        source_ip=user.source_ip,
    ).json()
    assert user.call("GET", "/v1/photos").status == 200
    logout = call_api("POST", "/v1/auth/logout", json_body={"refresh_token": user.refresh_token})
    assert logout.status == 204
    assert_refused_everywhere(user, charity_id, "session-revoked")
    # Another login (another session) of the same account goes on.
    assert call_api("GET", "/v1/photos", token=other_login["access_token"]).status == 200


def test_refresh_token_reuse_ends_the_family_access_tokens(db, charity_id: str) -> None:  # noqa: ANN001
    from tests.auth.test_auth_api import age_used_token

    user = signup("reuse-everywhere")
    rotated = call_api("POST", "/v1/auth/refresh", json_body={"refresh_token": user.refresh_token})
    newest = rotated.json()["access_token"]
    age_used_token(user.refresh_token, 60)  # past the retry grace: this is a replay
    replay = call_api("POST", "/v1/auth/refresh", json_body={"refresh_token": user.refresh_token})
    assert problem_type(replay) == "refresh-token-reused"
    assert_refused_everywhere(user, charity_id, "session-revoked")
    assert call_api("GET", "/v1/photos", token=newest).status == 401


def leftovers(user_id: str) -> dict[str, int]:
    """Rows anywhere that still name the user."""
    from cheese_runtime.db.consent import ConsentRecord
    from cheese_runtime.db.session import session_scope
    from functions.auth.models import RefreshToken, User
    from functions.photos.models import Photo
    from functions.smile_rank.models import CharityChoice, SmileDaily, SmileTotal

    counts = {}
    with session_scope() as session:
        for model, column in [
            (User, User.id),
            (RefreshToken, RefreshToken.user_id),
            (ConsentRecord, ConsentRecord.user_id),
            (Photo, Photo.user_id),
            (CharityChoice, CharityChoice.user_id),
            (SmileDaily, SmileDaily.user_id),
            (SmileTotal, SmileTotal.user_id),
        ]:
            counts[model.__tablename__] = session.scalar(
                select(func.count()).select_from(model).where(column == user_id)
            )
    return {table: n for table, n in counts.items() if n}


def test_a_deleted_account_writes_nothing_and_is_refused_everywhere(db, charity_id: str) -> None:  # noqa: ANN001
    user = signup("deleted-everywhere")
    assert user.call("PUT", "/v1/me/charity", json_body={"charity_id": charity_id}).status == 200
    assert user.call("DELETE", "/v1/auth/me").status == 202
    assert_refused_everywhere(user, charity_id, "session-revoked")
    assert wait_until(lambda: not leftovers(user.id), timeout=20), leftovers(user.id)


@pytest.fixture
def stale_revocations() -> Iterator[None]:
    """Another container within its cache period: it has not seen the revocation yet."""
    from cheese_runtime.auth.revocation import get_revocations

    revocations = get_revocations()
    original = revocations.is_revoked
    revocations.is_revoked = lambda *args: False  # type: ignore[method-assign]
    yield
    revocations.is_revoked = original  # type: ignore[method-assign]


def test_writes_of_a_deleted_account_that_pass_the_token_check_are_refused_cleanly(
    db,
    charity_id: str,
    stale_revocations: None,  # noqa: ANN001
) -> None:
    user = signup("deleted-stale")
    assert user.call("DELETE", "/v1/auth/me").status == 202
    for during in ("deleting", "erased"):
        if during == "erased":
            assert wait_until(lambda: not leftovers(user.id), timeout=20), leftovers(user.id)
        for method, path, body in writes(charity_id):
            response = user.call(method, path, json_body=body)
            assert response.status == 401, (during, path, response.status, response.body)
            assert problem_type(response) == "account-gone", path
    assert not leftovers(user.id)


def test_a_write_racing_the_deletion_is_erased_with_the_account(db, charity_id: str) -> None:  # noqa: ANN001
    """A charity choice (no foreign key to users) holds the user row while the deletion starts."""
    from cheese_runtime.db.session import get_engine

    user = signup("racer")
    locked, release = threading.Event(), threading.Event()

    def pause_after_the_user_check(conn, cursor, statement, *args) -> None:  # noqa: ANN001
        # The account check of cheese_runtime.accounts.lock_active_user, on either database.
        compact = statement.replace(" ", "").replace('"', "")
        is_check = compact.endswith("FORSHARE") or "SETstatus=users.status" in compact
        if is_check and not locked.is_set():
            locked.set()
            release.wait(10)

    results: dict[str, int] = {}

    def write() -> None:
        results["write"] = user.call(
            "PUT", "/v1/me/charity", json_body={"charity_id": charity_id}
        ).status

    def delete() -> None:
        results["delete"] = user.call("DELETE", "/v1/auth/me").status

    engine = get_engine()
    event.listen(engine, "after_cursor_execute", pause_after_the_user_check)
    try:
        writer_thread = threading.Thread(target=write)
        writer_thread.start()
        assert locked.wait(10), "the write never checked the account"
        deleter = threading.Thread(target=delete)
        deleter.start()
        time.sleep(1.0)
        # The deletion waits for the write holding the user row.
        assert "delete" not in results
        release.set()
        writer_thread.join(15)
        deleter.join(35)
    finally:
        event.remove(engine, "after_cursor_execute", pause_after_the_user_check)
        release.set()
    assert results == {"write": 200, "delete": 202}
    # The choice landed before the deletion, so the erasure saw it and removed it.
    assert wait_until(lambda: not leftovers(user.id), timeout=20), leftovers(user.id)
