"""`cheese admin grant EMAIL`: the way to make the first admin."""

from __future__ import annotations

from typing import Any

import pytest

from cheese_local.cli import main
from tests.conftest import call_api


def test_granting_admin_lets_the_user_add_charities_from_their_next_login(
    make_user: Any, capsys: pytest.CaptureFixture[str]
) -> None:
    user = make_user("operator")
    refused = user.call("POST", "/v1/admin/charities", json_body={"name": "Before grant"})
    assert refused.status == 403

    assert main(["admin", "grant", user.email.upper()]) == 0
    assert "is an admin" in capsys.readouterr().out
    login = call_api(
        "POST",
        "/v1/auth/login",
        json_body={"email": user.email, "password": user.password},
        source_ip=user.source_ip,
    )
    token = login.json()["access_token"]
    import uuid

    created = call_api(
        "POST",
        "/v1/admin/charities",
        json_body={"name": f"Granted {uuid.uuid4().hex[:8]}"},
        token=token,
    )
    assert created.status == 201, created.body
    # Granting again changes nothing.
    assert main(["admin", "grant", user.email]) == 0


def test_granting_an_unknown_email_fails_and_says_so(
    db: Any, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["admin", "grant", "nobody-here@example.com"]) == 1
    assert "no account" in capsys.readouterr().err
