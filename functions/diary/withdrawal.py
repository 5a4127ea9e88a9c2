"""What withdrawing ``expression_analysis`` erases of the diary: every emotion analysis.

A diary's emotion timeline, its emotion summary (dominant emotion, shares,
stretches) and the calendar's dominant emotion are expression analyses of the
diarist's face; withdrawing the consent erases them from every diary of the
user, which then shows ``timeline_status: "skipped"`` with
``timeline_skipped_reason: "consent-withdrawn"``. The video, its thumbnail,
the transcript, key sentences and tags are not expression analyses and stay.

The hook runs inside the transaction that records the withdrawal
(``cheese_runtime.consent``), so nothing outlives the consent and a failure
leaves it granted. ``PUT /v1/me/consent`` is served by the photos function,
whose hook module imports this one: the photos function runs in the ML image,
which carries every ``functions/`` package (``infra/components/functions.py``),
so the hook is registered there in AWS as in the local stack
(``tests/diary/test_withdrawal.py`` checks both). An analysis running during
the withdrawal re-checks the consent under the same lock before it stores a
timeline (``results.record_analysis``).
"""

from __future__ import annotations

from sqlalchemy import null, update
from sqlalchemy.orm import Session

from cheese_runtime import consent
from cheese_runtime.db.session import rowcount
from cheese_runtime.observability import logger
from functions.diary.models import Diary


@consent.on_withdrawal(consent.EXPRESSION_ANALYSIS)
def erase_emotion_analysis(session: Session, user_id: str) -> None:
    # SQL NULL (null()), not JSON null: nothing of the analysis is left in the row.
    cleared = session.execute(
        update(Diary)
        .where(Diary.user_id == user_id)
        .values(timeline=null(), emotion_summary=null(), dominant_emotion=None)
        .execution_options(synchronize_session=False)
    )
    # Diaries that had a timeline say why it is gone; "no-consent"/"no-face" stay as they were.
    session.execute(
        update(Diary)
        .where(
            Diary.user_id == user_id,
            Diary.analysed_at.is_not(None),
            Diary.emotion_skipped.is_(None),
        )
        .values(emotion_skipped="consent-withdrawn")
        .execution_options(synchronize_session=False)
    )
    logger.info(
        "expression analysis consent withdrawn: diary emotion timelines erased",
        extra={"diaries": rowcount(cleared)},
    )
