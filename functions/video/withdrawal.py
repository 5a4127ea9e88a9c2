"""What withdrawing ``face_grouping`` erases of the live streams: their engine states.

A live stream's state between segments (``live_state.py``) holds each followed track's
identity votes: whom face recognition took it for. Withdrawing face grouping deletes
every such state of the user at once, whether or not the stream sends another segment
(a stream that keeps people visible then fails its next segment ``consent-withdrawn``;
one that hides everyone starts tracking afresh, as after a pause).

The hook runs in the withdrawal's transaction (``cheese_runtime.consent``), which
DynamoDB is not part of: the items go first, and should the transaction then fail the
consent stays granted and the streams merely start tracking afresh (the state is a
cache of what tracking learned). ``PUT /v1/me/consent`` is served by the photos
function, whose hook module imports this one (it runs the ML image, which carries every
``functions/`` package).
"""

from __future__ import annotations

from sqlalchemy.orm import Session

from cheese_runtime import consent
from cheese_runtime.observability import logger
from functions.video.live_state import LiveStateStore


@consent.on_withdrawal(consent.FACE_GROUPING)
def forget_live_tracks(_session: Session, user_id: str) -> None:
    deleted = LiveStateStore().erase_user(user_id)
    logger.info(
        "face grouping consent withdrawn: live engine states deleted", extra={"states": deleted}
    )
