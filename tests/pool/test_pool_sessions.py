"""A revoked session is refused on the WebSocket API: at $connect and on an open connection."""

from __future__ import annotations

import pytest
from websockets.exceptions import ConnectionClosed, InvalidStatus
from websockets.sync.client import connect

from tests.conftest import call_api
from tests.pool.conftest import create_pool


def test_an_open_connection_of_a_deleted_account_cannot_enter(make_user, clients) -> None:  # noqa: ANN001
    owner, leaving = make_user("ws-owner"), make_user("ws-leaving")
    pool_id = create_pool(owner)
    client = clients(leaving)
    client.send(action="ping")
    assert client.event("pong")
    assert leaving.call("DELETE", "/v1/auth/me").status == 202
    # Either the frame is refused (session_revoked, then closed) or the pool erasure
    # consumer has already closed the socket: both leave no way in.
    with pytest.raises(ConnectionClosed):
        client.send(action="enter", pool_id=pool_id, ref="e1")
        error = client.event("error")
        assert error["code"] == "session_revoked"
        client.recv(timeout=5)
    detail = owner.call("GET", f"/v1/pools/{pool_id}").json()
    assert [m["user_id"] for m in detail["members"]] == []


def test_a_logged_out_session_cannot_connect(make_user, ws_url) -> None:  # noqa: ANN001
    user = make_user("ws-logout")
    with connect(f"{ws_url}?token={user.access_token}", open_timeout=10):
        pass
    assert (
        call_api("POST", "/v1/auth/logout", json_body={"refresh_token": user.refresh_token}).status
        == 204
    )
    with pytest.raises(InvalidStatus) as refused:
        connect(f"{ws_url}?token={user.access_token}", open_timeout=10)
    assert refused.value.response.status_code in (401, 403)
