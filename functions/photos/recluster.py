"""Full re-clustering of one user's faces (``ReclusterRequested``)."""

from __future__ import annotations

from cheese_runtime.consent import FACE_GROUPING, Consents
from cheese_runtime.consumers import event_consumer
from cheese_runtime.db.session import session_scope
from cheese_runtime.events import ReclusterRequested
from cheese_runtime.observability import logger
from functions.photos.grouping import recluster_user
from functions.photos.service import publish_me_faces


def recluster(request: ReclusterRequested) -> None:
    with session_scope() as session:
        if not Consents(session).granted(request.user_id, FACE_GROUPING):
            logger.info("recluster skipped: no face grouping consent")
            return
        recluster_user(session, request.user_id)
    # Re-clustering may have given the "me" person more faces.
    publish_me_faces(request.user_id)


handler = event_consumer({ReclusterRequested: recluster})
