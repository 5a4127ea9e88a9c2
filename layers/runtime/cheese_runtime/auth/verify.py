"""The one access-token verifier every function uses.

Only EdDSA tokens whose ``kid`` is in the published JWKS are accepted; the
algorithm is pinned before any key is chosen, so ``alg: none`` and HS256
signed with a public key are refused whatever the header says. A valid
token of a revoked session (logout, refresh-token reuse, account deletion)
is refused too, within 30 s everywhere and at once where it was revoked
(``cheese_runtime.auth.revocation``).
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from dataclasses import dataclass
from functools import cache
from typing import Any

import jwt
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from cheese_runtime import parameters
from cheese_runtime.auth.keys import ALGORITHM, public_key_from_jwk
from cheese_runtime.auth.revocation import Revocations, get_revocations
from cheese_runtime.settings import Settings, get_settings

REQUIRED_CLAIMS = ["exp", "iat", "nbf", "sub", "sid", "jti", "iss", "aud"]
# A token of more than this is refused before any parsing.
MAX_TOKEN_LENGTH = 4096


class InvalidToken(Exception):
    """Raised for every rejected token; ``reason`` is safe to return to the client."""

    def __init__(self, reason: str, *, expired: bool = False, revoked: bool = False) -> None:
        super().__init__(reason)
        self.reason = reason
        self.expired = expired
        self.revoked = revoked


@dataclass(frozen=True)
class Principal:
    user_id: str
    roles: frozenset[str]
    token_id: str
    expires_at: int
    # The refresh-token family (login session) the token was issued to.
    session_id: str
    issued_at: int

    @property
    def is_admin(self) -> bool:
        return "admin" in self.roles


JwksLoader = Callable[[bool], dict[str, Any]]


def ssm_jwks_loader(settings: Settings) -> JwksLoader:
    """Read the JWKS parameter through the Parameters and Secrets extension.

    A forced read (after an unknown ``kid``: a key may have just been rotated
    in) goes to SSM itself, past the extension's cache
    (``cheese_runtime.parameters``).
    """

    def load(force: bool) -> dict[str, Any]:
        value = parameters.get_parameter(
            settings.jwks_parameter, max_age=settings.jwks_cache_seconds, force=force
        )
        jwks: dict[str, Any] = json.loads(value)
        return jwks

    return load


class TokenVerifier:
    # After an unknown kid, the JWKS is re-read at most this often (a key may
    # have just been rotated in; a flood of forged kids must not hammer SSM).
    REFRESH_INTERVAL_SECONDS = 30

    def __init__(self, settings: Settings, load_jwks: JwksLoader, revocations: Revocations) -> None:
        self._settings = settings
        self._load_jwks = load_jwks
        self._revocations = revocations
        self._keys: dict[str, Ed25519PublicKey] = {}
        self._last_forced_refresh = 0.0

    def _refresh(self, force: bool) -> None:
        jwks = self._load_jwks(force)
        self._keys = {jwk["kid"]: public_key_from_jwk(jwk) for jwk in jwks.get("keys", [])}

    def _key_for(self, kid: str) -> Ed25519PublicKey:
        if not self._keys:
            self._refresh(force=False)
        key = self._keys.get(kid)
        if (
            key is None
            and time.monotonic() - self._last_forced_refresh > self.REFRESH_INTERVAL_SECONDS
        ):
            self._last_forced_refresh = time.monotonic()
            self._refresh(force=True)
            key = self._keys.get(kid)
        if key is None:
            raise InvalidToken("unknown signing key")
        return key

    def verify(self, token: str) -> Principal:
        if not token or len(token) > MAX_TOKEN_LENGTH:
            raise InvalidToken("malformed token")
        try:
            header = jwt.get_unverified_header(token)
        except jwt.PyJWTError as exc:
            raise InvalidToken("malformed token") from exc
        if header.get("alg") != ALGORITHM:
            raise InvalidToken("unsupported algorithm")
        kid = header.get("kid")
        if not isinstance(kid, str) or not kid:
            raise InvalidToken("missing key id")
        key = self._key_for(kid)
        try:
            claims = jwt.decode(
                token,
                key,
                algorithms=[ALGORITHM],
                audience=self._settings.jwt_audience,
                issuer=self._settings.jwt_issuer,
                leeway=self._settings.jwt_leeway_seconds,
                options={"require": REQUIRED_CLAIMS},
            )
        except jwt.ExpiredSignatureError as exc:
            raise InvalidToken("token expired", expired=True) from exc
        except jwt.ImmatureSignatureError as exc:
            raise InvalidToken("token not yet valid") from exc
        except jwt.InvalidAudienceError as exc:
            raise InvalidToken("wrong audience") from exc
        except jwt.InvalidIssuerError as exc:
            raise InvalidToken("wrong issuer") from exc
        except jwt.PyJWTError as exc:
            raise InvalidToken("invalid token") from exc
        if (
            claims.get("token_use") != "access"
            or not isinstance(claims["sub"], str)
            or not isinstance(claims["sid"], str)
        ):
            raise InvalidToken("not an access token")
        if self._revocations.is_revoked(claims["sid"], claims["sub"], float(claims["iat"])):
            raise InvalidToken("session revoked", revoked=True)
        roles = claims.get("roles", [])
        return Principal(
            user_id=claims["sub"],
            roles=frozenset(r for r in roles if isinstance(r, str))
            if isinstance(roles, list)
            else frozenset(),
            token_id=str(claims["jti"]),
            expires_at=int(claims["exp"]),
            session_id=claims["sid"],
            issued_at=int(claims["iat"]),
        )


@cache
def get_verifier() -> TokenVerifier:
    settings = get_settings()
    return TokenVerifier(settings, ssm_jwks_loader(settings), get_revocations())


def bearer_token(authorization: str | None) -> str:
    if not authorization:
        raise InvalidToken("missing bearer token")
    scheme, _, token = authorization.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise InvalidToken("malformed authorization header")
    return token.strip()
