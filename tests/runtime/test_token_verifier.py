"""The shared access-token verifier refuses every kind of bad token."""

from __future__ import annotations

import base64
import json
import time

import jwt
import pytest
from cryptography.hazmat.primitives import serialization

from cheese_runtime.auth.keys import KeySet
from cheese_runtime.auth.verify import InvalidToken, TokenVerifier, bearer_token
from cheese_runtime.settings import Settings

SETTINGS = Settings(jwt_issuer="https://issuer.test", jwt_audience="app.test", jwt_leeway_seconds=0)


@pytest.fixture
def keys() -> KeySet:
    key_set = KeySet()
    key_set.rotate(900)
    return key_set


class RevokedSessions:
    """The verifier's view of revocations, kept in memory (the real store is tested below)."""

    def __init__(self) -> None:
        self.sessions: set[str] = set()

    def is_revoked(self, session_id: str, user_id: str, issued_at: float) -> bool:
        return session_id in self.sessions


@pytest.fixture
def revoked() -> RevokedSessions:
    return RevokedSessions()


@pytest.fixture
def verifier(keys: KeySet, revoked: RevokedSessions) -> TokenVerifier:
    return TokenVerifier(SETTINGS, lambda force: keys.jwks(), revoked)


def make_token(
    keys: KeySet, *, kid: str | None = None, algorithm: str = "EdDSA", key=None, **overrides
) -> str:  # noqa: ANN001
    now = int(time.time())
    claims = {
        "iss": SETTINGS.jwt_issuer,
        "aud": SETTINGS.jwt_audience,
        "sub": "user-1",
        "sid": "session-1",
        "iat": now,
        "nbf": now,
        "exp": now + 900,
        "jti": "j1",
        "token_use": "access",
        "roles": [],
    }
    claims.update(overrides)
    claims = {k: v for k, v in claims.items() if v is not None}
    active = keys.active
    return jwt.encode(
        claims,
        key if key is not None else active.private_key(),
        algorithm=algorithm,
        headers={"kid": kid or active.kid},
    )


def test_valid_token_gives_principal(keys: KeySet, verifier: TokenVerifier) -> None:
    principal = verifier.verify(make_token(keys, roles=["admin"]))
    assert principal.user_id == "user-1"
    assert principal.is_admin


# Times are offsets from when the test runs (not from collection: a long suite
# would otherwise turn "not yet valid" into valid).
@pytest.mark.parametrize(
    "overrides, reason",
    [
        ({"exp": -10}, "token expired"),
        ({"nbf": 600}, "token not yet valid"),
        ({"aud": "someone-else"}, "wrong audience"),
        ({"iss": "https://evil.test"}, "wrong issuer"),
        ({"jti": None}, "invalid token"),
        ({"sub": None}, "invalid token"),
        ({"sid": None}, "invalid token"),
        ({"sid": 7}, "not an access token"),
        ({"token_use": "refresh"}, "not an access token"),
    ],
)
def test_bad_claims_are_refused(
    keys: KeySet, verifier: TokenVerifier, overrides: dict, reason: str
) -> None:
    now = int(time.time())
    claims = {k: (now + v if k in ("exp", "nbf") else v) for k, v in overrides.items()}
    with pytest.raises(InvalidToken) as err:
        verifier.verify(make_token(keys, **claims))
    assert err.value.reason == reason


def test_a_revoked_session_is_refused(
    keys: KeySet, verifier: TokenVerifier, revoked: RevokedSessions
) -> None:
    token = make_token(keys)
    assert verifier.verify(token).session_id == "session-1"
    revoked.sessions.add("session-1")
    with pytest.raises(InvalidToken) as err:
        verifier.verify(token)
    assert err.value.reason == "session revoked" and err.value.revoked


def test_expired_token_is_flagged_expired(keys: KeySet, verifier: TokenVerifier) -> None:
    with pytest.raises(InvalidToken) as err:
        verifier.verify(make_token(keys, exp=int(time.time()) - 10))
    assert err.value.expired


def test_unknown_kid_is_refused(keys: KeySet, verifier: TokenVerifier) -> None:
    with pytest.raises(InvalidToken, match="unknown signing key"):
        verifier.verify(make_token(keys, kid="not-a-key"))


def test_token_signed_by_another_key_is_refused(keys: KeySet, verifier: TokenVerifier) -> None:
    stranger = KeySet()
    stranger.rotate(900)
    with pytest.raises(InvalidToken):
        verifier.verify(make_token(keys, key=stranger.active.private_key()))


def test_alg_none_is_refused(keys: KeySet, verifier: TokenVerifier) -> None:
    header = base64.urlsafe_b64encode(
        json.dumps({"alg": "none", "kid": keys.active.kid}).encode()
    ).rstrip(b"=")
    payload = base64.urlsafe_b64encode(json.dumps({"sub": "user-1"}).encode()).rstrip(b"=")
    with pytest.raises(InvalidToken, match="unsupported algorithm"):
        verifier.verify(f"{header.decode()}.{payload.decode()}.")


def test_hs256_signed_with_the_public_key_is_refused(keys: KeySet, verifier: TokenVerifier) -> None:
    public_pem = (
        keys.active.private_key()
        .public_key()
        .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
    )
    header = {"alg": "HS256", "kid": keys.active.kid, "typ": "JWT"}
    segments = [
        base64.urlsafe_b64encode(json.dumps(part).encode()).rstrip(b"=")
        for part in (
            header,
            {"sub": "user-1", "aud": SETTINGS.jwt_audience, "iss": SETTINGS.jwt_issuer},
        )
    ]
    import hashlib
    import hmac

    signature = hmac.new(public_pem, b".".join(segments), hashlib.sha256).digest()
    token = b".".join([*segments, base64.urlsafe_b64encode(signature).rstrip(b"=")]).decode()
    with pytest.raises(InvalidToken, match="unsupported algorithm"):
        verifier.verify(token)


def test_tampered_payload_is_refused(keys: KeySet, verifier: TokenVerifier) -> None:
    header, payload, signature = make_token(keys).split(".")
    claims = json.loads(base64.urlsafe_b64decode(payload + "=="))
    claims["sub"] = "someone-else"
    forged = base64.urlsafe_b64encode(json.dumps(claims).encode()).rstrip(b"=").decode()
    with pytest.raises(InvalidToken, match="invalid token"):
        verifier.verify(f"{header}.{forged}.{signature}")


@pytest.mark.parametrize("token", ["", "abc", "a.b", "a.b.c", "x" * 5000, "Zm9v.YmFy.YmF6"])
def test_malformed_tokens_are_refused(verifier: TokenVerifier, token: str) -> None:
    with pytest.raises(InvalidToken):
        verifier.verify(token)


@pytest.mark.parametrize("header", [None, "", "Bearer", "Bearer   ", "Basic abc", "token abc"])
def test_malformed_authorization_headers_are_refused(header: str | None) -> None:
    with pytest.raises(InvalidToken):
        bearer_token(header)


def test_rotation_keeps_old_tokens_verifiable_until_they_expire(keys: KeySet) -> None:
    verifier = TokenVerifier(SETTINGS, lambda force: keys.jwks(), RevokedSessions())
    old_token = make_token(keys)
    old_kid = keys.active.kid
    keys.rotate(900)
    assert keys.active.kid != old_kid
    assert verifier.verify(old_token).user_id == "user-1"
    assert verifier.verify(make_token(keys)).user_id == "user-1"
    # One token lifetime (plus margin) later, the retired key is dropped.
    keys.rotate(900, now=int(time.time()) + 900 + 301)
    assert old_kid not in {k.kid for k in keys.keys}


def test_verifier_picks_up_a_key_rotated_in_after_it_cached_the_jwks(keys: KeySet) -> None:
    published = {"jwks": keys.jwks()}
    verifier = TokenVerifier(SETTINGS, lambda force: published["jwks"], RevokedSessions())
    verifier.verify(make_token(keys))
    keys.rotate(900)
    published["jwks"] = keys.jwks()
    assert verifier.verify(make_token(keys)).user_id == "user-1"
