"""The local stack over real HTTP on loopback, as the Android app talks to it."""

from __future__ import annotations

import uuid

import httpx

from tests.conftest import wait_until


def test_health_docs_and_openapi(http_base_url: str) -> None:
    with httpx.Client(base_url=http_base_url) as client:
        assert client.get("/healthz").json() == {"status": "ok"}
        assert "swagger" in client.get("/docs").text.lower()
        spec = client.get("/openapi.json").json()
        assert "/v1/auth/signup" in spec["paths"]
        assert spec["paths"]["/v1/auth/me"]["get"]["security"] == [{"bearer": []}]


def test_a_new_user_signs_up_logs_in_refreshes_logs_out_and_leaves(http_base_url: str) -> None:
    email = f"app-{uuid.uuid4().hex[:8]}@example.com"
    password = "correct horse battery staple"
    with httpx.Client(base_url=http_base_url, timeout=30) as client:
        signup = client.post(
            "/v1/auth/signup", json={"email": email, "password": password, "display_name": "App"}
        )
        assert signup.status_code == 201, signup.text
        login = client.post("/v1/auth/login", json={"email": email, "password": password})
        assert login.status_code == 200
        tokens = login.json()
        me = client.get(
            "/v1/auth/me", headers={"Authorization": f"Bearer {tokens['access_token']}"}
        )
        assert me.json()["email"] == email
        refreshed = client.post("/v1/auth/refresh", json={"refresh_token": tokens["refresh_token"]})
        assert refreshed.status_code == 200
        new_tokens = refreshed.json()
        assert (
            client.post(
                "/v1/auth/logout", json={"refresh_token": new_tokens["refresh_token"]}
            ).status_code
            == 204
        )
        assert (
            client.post(
                "/v1/auth/refresh", json={"refresh_token": new_tokens["refresh_token"]}
            ).status_code
            == 401
        )
        # Logging out ends the access token too.
        ended = {"Authorization": f"Bearer {new_tokens['access_token']}"}
        assert client.get("/v1/auth/me", headers=ended).status_code == 401
        relogin = client.post("/v1/auth/login", json={"email": email, "password": password})
        bearer = {"Authorization": f"Bearer {relogin.json()['access_token']}"}
        assert client.delete("/v1/auth/me", headers=bearer).status_code == 202
        assert wait_until(
            lambda: client.get("/v1/auth/me", headers=bearer).status_code == 401, timeout=15
        )
        again = client.post("/v1/auth/login", json={"email": email, "password": password})
        assert again.status_code == 401


def test_unknown_routes_and_oversized_bodies_get_problems(http_base_url: str) -> None:
    with httpx.Client(base_url=http_base_url) as client:
        missing = client.get("/v1/nothing-here")
        assert missing.status_code == 404
        assert missing.headers["content-type"] == "application/problem+json"
        wrong_method = client.put("/v1/auth/signup", json={})
        assert wrong_method.status_code == 404
        huge = client.post(
            "/v1/auth/signup",
            content=b"x" * (10 * 1024 * 1024 + 1),
            headers={"content-type": "application/json"},
        )
        assert huge.status_code == 413
        assert huge.json()["type"].endswith("/payload-too-large")
