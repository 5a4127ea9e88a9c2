"""Signing-key rotation (scheduled): new active key, old keys kept until their tokens expire.

Writes the private key set to Secrets Manager and the public JWKS to the SSM
parameter every verifier reads.
"""

from __future__ import annotations

import json

from cheese_runtime import aws
from cheese_runtime.auth.keys import KeySet
from cheese_runtime.handlers import NoPayload, scheduled_handler
from cheese_runtime.observability import logger
from cheese_runtime.settings import Settings, get_settings


def publish_key_set(key_set: KeySet, settings: Settings) -> None:
    aws.client("secretsmanager").put_secret_value(
        SecretId=settings.signing_keys_secret, SecretString=key_set.to_json()
    )
    aws.client("ssm").put_parameter(
        Name=settings.jwks_parameter,
        Value=json.dumps(key_set.jwks()),
        Type="String",
        Overwrite=True,
    )


def rotate(settings: Settings) -> str:
    secrets = aws.client("secretsmanager")
    try:
        key_set = KeySet.from_json(
            secrets.get_secret_value(SecretId=settings.signing_keys_secret)["SecretString"]
        )
    except (secrets.exceptions.ResourceNotFoundException, KeyError, ValueError):
        key_set = KeySet()
    new_key = key_set.rotate(settings.access_token_ttl_seconds)
    publish_key_set(key_set, settings)
    logger.info(
        "signing key rotated", extra={"kid": new_key.kid, "published_keys": len(key_set.keys)}
    )
    return new_key.kid


def run(_: NoPayload) -> dict[str, str]:
    return {"active_kid": rotate(get_settings())}


# Scheduled, and run once by the first deploy (a CDK Trigger: an empty payload).
handler = scheduled_handler(run, NoPayload)
