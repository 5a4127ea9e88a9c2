"""Nightly job: ask for a re-cluster of every user whose faces still wait for a person."""

from __future__ import annotations

from cheese_runtime import events
from cheese_runtime.db.session import session_scope
from cheese_runtime.handlers import NoPayload, scheduled_handler
from cheese_runtime.observability import logger
from functions.photos.dal import FaceRepository


def run(_: NoPayload) -> dict[str, int]:
    with session_scope() as session:
        users = FaceRepository(session).users_with_waiting_faces()
    for user_id in users:
        events.publish(events.ReclusterRequested(user_id=user_id))
    logger.info("nightly recluster requested", extra={"users": len(users)})
    return {"users": len(users)}


handler = scheduled_handler(run, NoPayload)
