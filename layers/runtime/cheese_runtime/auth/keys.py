"""Ed25519 signing key sets: generation, rotation and the public JWKS.

The private key set lives in Secrets Manager (only the auth function reads
it); its public half is published as JWKS in an SSM parameter that every
verifier reads. A rotated-out key stays published until every token it
signed has expired, so rotation never logs anyone out.
"""

from __future__ import annotations

import base64
import json
import secrets
import time
from dataclasses import asdict, dataclass, field

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

ALGORITHM = "EdDSA"


def _b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


@dataclass
class SigningKey:
    kid: str
    private_key_pem: str
    created_at: int
    retired_at: int | None = None

    @classmethod
    def generate(cls, now: int | None = None) -> SigningKey:
        key = Ed25519PrivateKey.generate()
        pem = key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        ).decode()
        return cls(
            kid=secrets.token_urlsafe(12), private_key_pem=pem, created_at=int(now or time.time())
        )

    def private_key(self) -> Ed25519PrivateKey:
        key = serialization.load_pem_private_key(self.private_key_pem.encode(), password=None)
        assert isinstance(key, Ed25519PrivateKey)
        return key

    def public_jwk(self) -> dict[str, str]:
        raw = (
            self.private_key()
            .public_key()
            .public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
        )
        return {
            "kty": "OKP",
            "crv": "Ed25519",
            "x": _b64url(raw),
            "kid": self.kid,
            "alg": ALGORITHM,
            "use": "sig",
        }


@dataclass
class KeySet:
    keys: list[SigningKey] = field(default_factory=list)

    @classmethod
    def from_json(cls, text: str) -> KeySet:
        return cls(keys=[SigningKey(**k) for k in json.loads(text)["keys"]])

    def to_json(self) -> str:
        return json.dumps({"keys": [asdict(k) for k in self.keys]})

    @property
    def active(self) -> SigningKey:
        live = [k for k in self.keys if k.retired_at is None]
        if not live:
            raise LookupError("the key set has no active signing key")
        return max(live, key=lambda k: k.created_at)

    def rotate(self, token_lifetime_seconds: int, now: int | None = None) -> SigningKey:
        """Add a new active key, retire the others, drop keys no live token can use."""
        now = int(now or time.time())
        for key in self.keys:
            if key.retired_at is None:
                key.retired_at = now
        # A retired key verifies tokens issued before its retirement; after one
        # token lifetime (plus a margin for clock skew) none are left.
        self.keys = [
            k
            for k in self.keys
            if k.retired_at is None or k.retired_at + token_lifetime_seconds + 300 > now
        ]
        new_key = SigningKey.generate(now)
        self.keys.append(new_key)
        return new_key

    def jwks(self) -> dict[str, list[dict[str, str]]]:
        return {"keys": [k.public_jwk() for k in self.keys]}


def public_key_from_jwk(jwk: dict[str, str]) -> Ed25519PublicKey:
    if jwk.get("kty") != "OKP" or jwk.get("crv") != "Ed25519":
        raise ValueError("only Ed25519 OKP keys are accepted")
    padded = jwk["x"] + "=" * (-len(jwk["x"]) % 4)
    return Ed25519PublicKey.from_public_bytes(base64.urlsafe_b64decode(padded))
