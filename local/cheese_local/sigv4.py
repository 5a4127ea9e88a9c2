"""AWS Signature Version 4 checks, as AWS makes them, against the local stack's credentials.

The local stand-ins that AWS protects with IAM (the WebSocket API's
``@connections`` endpoint, browser POST uploads to S3) verify signatures the
way AWS does: the canonical request is rebuilt with botocore's own signer from
the headers the client signed, and compared in constant time.
"""

from __future__ import annotations

import hashlib
import hmac
import os
import re
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials

SIGV4_TIMESTAMP = "%Y%m%dT%H%M%SZ"
# AWS refuses requests whose X-Amz-Date is further than this from its clock.
MAX_CLOCK_SKEW = timedelta(minutes=15)
_AUTHORIZATION = re.compile(
    r"AWS4-HMAC-SHA256\s+Credential=(?P<credential>[^,\s]+),\s*"
    r"SignedHeaders=(?P<signed_headers>[^,\s]+),\s*Signature=(?P<signature>[0-9a-f]{64})$"
)


@dataclass(frozen=True)
class SignatureRefused(Exception):
    """Why AWS would refuse the request (its error code and message)."""

    code: str
    message: str


def local_credentials() -> Credentials:
    """The credentials the local stack gives every boto3 client (``LOCAL_ENVIRONMENT``)."""
    return Credentials(os.environ["AWS_ACCESS_KEY_ID"], os.environ["AWS_SECRET_ACCESS_KEY"])


def signing_key(secret: str, date: str, region: str, service: str) -> bytes:
    key = f"AWS4{secret}".encode()
    for part in (date, region, service, "aws4_request"):
        key = hmac.new(key, part.encode(), hashlib.sha256).digest()
    return key


def post_policy_signature(secret: str, credential_scope: str, policy_b64: str) -> str:
    """The ``x-amz-signature`` of a browser POST policy (credential scope: key/date/region/s3/...)."""
    _, date, region, service, _ = credential_scope.split("/")
    key = signing_key(secret, date, region, service)
    return hmac.new(key, policy_b64.encode(), hashlib.sha256).hexdigest()


def verify_header_signature(
    method: str,
    url: str,
    headers: dict[str, str],
    body: bytes,
    *,
    service: str,
    credentials: Credentials,
    now: datetime | None = None,
) -> None:
    """Raise SignatureRefused unless ``Authorization`` is a valid SigV4 signature by ``credentials``.

    ``headers`` are the request's headers, names in any case; ``url`` is the URL
    as the client addressed it (scheme, Host, path and query).
    """
    lowered = {k.lower(): v for k, v in headers.items()}
    authorization = lowered.get("authorization")
    if not authorization:
        raise SignatureRefused(
            "MissingAuthenticationTokenException", "Missing Authentication Token"
        )
    match = _AUTHORIZATION.match(authorization.strip())
    amz_date = lowered.get("x-amz-date", "")
    if match is None or not amz_date:
        raise SignatureRefused(
            "IncompleteSignatureException",
            "Authorization header requires Credential, SignedHeaders and Signature, and X-Amz-Date.",
        )
    credential = match["credential"].split("/")
    if len(credential) != 5 or credential[3] != service or credential[4] != "aws4_request":
        raise SignatureRefused("IncompleteSignatureException", "Credential scope is malformed.")
    if not hmac.compare_digest(credential[0], credentials.access_key):
        raise SignatureRefused(
            "UnrecognizedClientException", "The security token included in the request is invalid."
        )
    try:
        signed_at = datetime.strptime(amz_date, SIGV4_TIMESTAMP).replace(tzinfo=UTC)
    except ValueError:
        raise SignatureRefused("IncompleteSignatureException", "X-Amz-Date is malformed.") from None
    if credential[1] != amz_date[:8]:
        raise SignatureRefused(
            "InvalidSignatureException", "Credential date does not match X-Amz-Date."
        )
    if abs((now or datetime.now(UTC)) - signed_at) > MAX_CLOCK_SKEW:
        raise SignatureRefused("InvalidSignatureException", "Signature expired.")
    signed_names = match["signed_headers"].split(";")
    if "host" not in signed_names:
        raise SignatureRefused("InvalidSignatureException", "The Host header must be signed.")
    request = AWSRequest(
        method=method,
        url=url,
        data=body,
        headers={name: lowered.get(name, "") for name in signed_names},
    )
    request.context["timestamp"] = amz_date
    signer = SigV4Auth(credentials, service, credential[2])
    canonical = signer.canonical_request(request)
    expected = signer.signature(signer.string_to_sign(request, canonical), request)
    if not hmac.compare_digest(expected, match["signature"]):
        raise SignatureRefused(
            "InvalidSignatureException",
            "The request signature we calculated does not match the signature you provided.",
        )
