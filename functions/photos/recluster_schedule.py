"""Nightly job: ask for a re-cluster of every user whose faces still wait for a person."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.utilities.typing import LambdaContext

from cheese_runtime import events, resources
from cheese_runtime.db.session import session_scope
from cheese_runtime.observability import logger
from functions.photos.dal import FaceRepository


@logger.inject_lambda_context(clear_state=True)
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, int]:
    with session_scope() as session:
        users = FaceRepository(session).users_with_waiting_faces()
    for user_id in users:
        events.publish(resources.RECLUSTER_REQUESTED, events.ReclusterRequested(user_id=user_id))
    logger.info("nightly recluster requested", extra={"users": len(users)})
    return {"users": len(users)}
