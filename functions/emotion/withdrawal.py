"""What withdrawing ``expression_analysis`` erases of the emoji-face function's data.

Every emoji task is the result of an expression analysis (its faces'
probabilities, and the emoji each expression picked, drawn in the result
JPEG), so the user's tasks and their results go; templates stay (they are
pictures, not analyses). The hook runs in the transaction that records the
withdrawal (``cheese_runtime.consent``); ``PUT /v1/me/consent`` is served by
the photos function, whose hook module imports this one. The ranking's
anonymous counts stay.
"""

from __future__ import annotations

from sqlalchemy import delete
from sqlalchemy.orm import Session

from cheese_runtime import consent
from cheese_runtime.db.session import rowcount
from cheese_runtime.observability import logger
from functions.emotion import storage
from functions.emotion.models import EmojiTask


@consent.on_withdrawal(consent.EXPRESSION_ANALYSIS)
def erase_emoji_results(session: Session, user_id: str) -> None:
    erased = session.execute(delete(EmojiTask).where(EmojiTask.user_id == user_id))
    tasks = rowcount(erased)
    objects = storage.delete_prefix(storage.result_prefix(user_id))
    logger.info(
        "expression analysis consent withdrawn: emoji results erased",
        extra={"tasks": tasks, "objects": objects},
    )
