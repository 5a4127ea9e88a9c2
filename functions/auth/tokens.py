"""Issuing access tokens (EdDSA JWT) and refresh tokens (opaque, stored hashed).

A refresh retried after a network failure presents the token it already
used. Within ``refresh_reuse_grace_seconds`` it gets the same successor
back instead of revoking its family. The successor is kept neither in
plaintext nor under a server key: it is sealed (AES-256-GCM, the family id
as associated data) with a key derived by HKDF-SHA256 from the *old* token's
plaintext, which the server never stores (only its SHA-256, and HKDF with
its own info string is not computable from that). So only the client that
holds the old token can open it, and a database leak opens nothing. The
alternative, deriving the successor deterministically from the old token,
would let anyone who ever held an old token compute every later one; with
a server-side pepper it would need one more secret to keep and rotate.
"""

from __future__ import annotations

import base64
import hashlib
import secrets
import time
import uuid
from collections.abc import Callable
from functools import cache

import jwt
from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from cheese_runtime.auth.keys import ALGORITHM, KeySet
from cheese_runtime.settings import Settings, get_settings


def load_key_set(force: bool = False) -> KeySet:
    from cheese_runtime.parameters import get_secret

    return KeySet.from_json(get_secret(get_settings().signing_keys_secret, force=force))


class AccessTokenIssuer:
    def __init__(
        self, settings: Settings, key_set_loader: Callable[[], KeySet] = load_key_set
    ) -> None:
        self._settings = settings
        self._load = key_set_loader

    def issue(self, user_id: str, roles: list[str], session_id: str) -> str:
        """An access token of one session (``sid``: its refresh-token family)."""
        key = self._load().active
        now = int(time.time())
        claims = {
            "iss": self._settings.jwt_issuer,
            "aud": self._settings.jwt_audience,
            "sub": user_id,
            "sid": session_id,
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


SEAL_INFO = b"cheese refresh-token successor v1"
NONCE_BYTES = 12


def _seal_key(old_token: str) -> AESGCM:
    key = HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=SEAL_INFO).derive(
        old_token.encode()
    )
    return AESGCM(key)


def seal_successor(old_token: str, family_id: str, successor: str) -> str:
    nonce = secrets.token_bytes(NONCE_BYTES)
    sealed = _seal_key(old_token).encrypt(nonce, successor.encode(), family_id.encode())
    return base64.urlsafe_b64encode(nonce + sealed).decode()


def open_successor(old_token: str, family_id: str, sealed: str) -> str | None:
    raw = base64.urlsafe_b64decode(sealed)
    try:
        plain = _seal_key(old_token).decrypt(
            raw[:NONCE_BYTES], raw[NONCE_BYTES:], family_id.encode()
        )
    except InvalidTag:
        return None
    return plain.decode()
