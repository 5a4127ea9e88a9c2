"""Issuing access tokens (EdDSA JWT) and refresh tokens (opaque, stored hashed)."""

from __future__ import annotations

import hashlib
import secrets
import time
import uuid
from functools import cache

import jwt

from cheese_runtime.auth.keys import ALGORITHM, KeySet
from cheese_runtime.settings import Settings, get_settings


def load_key_set(force: bool = False) -> KeySet:
    from aws_lambda_powertools.utilities.parameters import get_secret

    text = get_secret(get_settings().signing_keys_secret, max_age=300, force_fetch=force)
    assert isinstance(text, str)
    return KeySet.from_json(text)


class AccessTokenIssuer:
    def __init__(self, settings: Settings, key_set_loader=load_key_set) -> None:  # noqa: ANN001
        self._settings = settings
        self._load = key_set_loader

    def issue(self, user_id: str, roles: list[str]) -> str:
        key = self._load().active
        now = int(time.time())
        claims = {
            "iss": self._settings.jwt_issuer,
            "aud": self._settings.jwt_audience,
            "sub": user_id,
            "iat": now,
            "nbf": now,
            "exp": now + self._settings.access_token_ttl_seconds,
            "jti": str(uuid.uuid4()),
            "token_use": "access",
            "roles": roles,
        }
        return jwt.encode(claims, key.private_key(), algorithm=ALGORITHM, headers={"kid": key.kid})


@cache
def get_issuer() -> AccessTokenIssuer:
    return AccessTokenIssuer(get_settings())


def new_refresh_token() -> str:
    return secrets.token_urlsafe(32)


def refresh_token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()
