"""Helpers of the smile_rank tests: events in the contract's shape, admins, direct consumer calls."""

from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

from cheese_runtime.events import AnalyzedFace, PhotoAnalyzed, PhotoDeleted

LAST_WEEK = datetime.now(UTC) - timedelta(days=7)


def face(
    smile: float | None, *, is_me: bool = False, usable: bool = True, person: str | None = None
) -> AnalyzedFace:
    return AnalyzedFace(
        face_id=str(uuid.uuid4()), smile=smile, person_id=person, is_me=is_me, usable=usable
    )


def random_dhash() -> str:
    return f"{uuid.uuid4().int & ((1 << 64) - 1):016x}"


def analyzed(
    user_id: str,
    faces: list[AnalyzedFace],
    *,
    photo_id: str | None = None,
    sha256: str | None = None,
    dhash: str | None = None,
    at: datetime | None = None,
) -> PhotoAnalyzed:
    return PhotoAnalyzed(
        photo_id=photo_id or str(uuid.uuid4()),
        user_id=user_id,
        sha256=sha256 or uuid.uuid4().hex + uuid.uuid4().hex,
        perceptual_hash=dhash or random_dhash(),
        analyzed_at=(at or datetime.now(UTC)).isoformat(),
        faces=faces,
    )


def deleted(user_id: str, photo_id: str) -> PhotoDeleted:
    return PhotoDeleted(
        photo_id=photo_id, user_id=user_id, deleted_at=datetime.now(UTC).isoformat()
    )


def sqs_event(*details: tuple[str, Any]) -> dict[str, Any]:
    """An SQS batch of EventBridge events, as the smile-rank queue delivers them."""
    from cheese_local.events import eventbridge_event, received_message
    from cheese_local.events import sqs_event as batch

    messages = [
        received_message(
            json.dumps(
                eventbridge_event(
                    detail_type,
                    detail.model_dump(mode="json") if hasattr(detail, "model_dump") else detail,
                )
            )
        )
        for detail_type, detail in details
    ]
    return batch(messages, "arn:aws:sqs:us-east-1:000000000000:cheese-smile-rank")


def deliver_event(event: dict[str, Any]) -> dict[str, Any]:
    """Invoke the consumer's handler with an SQS event; returns its partial batch response."""
    from cheese_local.gateway import invoke
    from functions.smile_rank.consumer import handler

    return invoke(handler, event, "smile-rank")


def deliver(*details: tuple[str, Any]) -> dict[str, Any]:
    """Invoke the consumer's handler with one SQS batch; returns its partial batch response."""
    return deliver_event(sqs_event(*details))


def make_admin(user) -> None:  # noqa: ANN001
    """Give a test user the admin role and log in again for a token carrying it."""
    from cheese_runtime.db.session import session_scope
    from functions.auth.models import User
    from tests.conftest import call_api

    with session_scope() as session:
        session.get(User, user.id).roles = "admin"
    response = call_api(
        "POST",
        "/v1/auth/login",
        json_body={"email": user.email, "password": user.password},
        source_ip=user.source_ip,
    )
    assert response.status == 200, response.body
    user.access_token = response.json()["access_token"]
