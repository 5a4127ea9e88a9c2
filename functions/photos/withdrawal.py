"""What withdrawing a photos consent scope erases, registered as the scope's withdrawal hooks.

Imported by the photos service, which serves ``PUT /v1/me/consent``: the hooks
run in the transaction that records the withdrawal (cheese_runtime.consent).
Other functions' hooks for the same scopes are imported here too, so that they
are registered in the process that serves the withdrawal: the photos function
runs in the ML image, which carries every ``functions/`` package.
"""

from __future__ import annotations

from sqlalchemy.orm import Session

from cheese_runtime import consent
from cheese_runtime.observability import logger
from functions.diary import withdrawal as _diary  # noqa: F401  (diary emotion timelines)
from functions.emotion import withdrawal as _emotion  # noqa: F401  (emoji results: expressions)
from functions.photos import storage
from functions.photos.dal import FaceRepository, PersonRepository
from functions.photos.face_index import external_index
from functions.video import withdrawal as _video  # noqa: F401  (live streams' engine states)


@consent.on_withdrawal(consent.FACE_GROUPING)
def erase_face_grouping(session: Session, user_id: str) -> None:
    """Embeddings, people and the external index's entries go; the photos and faces stay."""
    faces = FaceRepository(session)
    index_ids = faces.index_face_ids(user_id)
    faces.forget_embeddings(user_id)
    PersonRepository(session).delete_for_user(user_id)
    index = external_index()
    if index is not None:
        index.delete_user_faces(user_id)
    logger.info(
        "face grouping consent withdrawn: embeddings and people erased",
        extra={"index_entries": len(index_ids)},
    )


@consent.on_withdrawal(consent.EXPRESSION_ANALYSIS)
def erase_expressions(session: Session, user_id: str) -> None:
    FaceRepository(session).forget_expressions(user_id)


@consent.on_withdrawal(consent.POSE_ANALYSIS)
def erase_poses(session: Session, user_id: str) -> None:
    """Keypoints and moods of every cut go, and with them the user's shared examples."""
    # Imported here: poses_dal pulls numpy and cheese_ml, which no API cold start may load.
    from functions.photos import poses_dal

    keys = poses_dal.forget_poses(session, user_id)
    storage.delete_keys(keys)
    logger.info("pose analysis consent withdrawn: poses erased", extra={"examples": len(keys)})


@consent.on_withdrawal(consent.POSE_EXAMPLES)
def erase_pose_examples(session: Session, user_id: str) -> None:
    """The user's de-identified examples stop being shown and their images are deleted."""
    from functions.photos import poses_dal

    keys = poses_dal.forget_examples(session, user_id)
    storage.delete_keys(keys)
    logger.info("pose examples consent withdrawn: examples erased", extra={"examples": len(keys)})
