"""The account row as every function sees it: does a user exist, may it still write.

Only the auth function owns the ``users`` table; other functions need one
fact from it (is this user active?) and read it through this Core table,
without importing the auth models.

:func:`lock_active_user` is how a write refuses a leaving user and cannot
race the erasure: in the write's own transaction it reads the user's status
with ``FOR SHARE`` (PostgreSQL). Deletion's ``UPDATE users SET status =
'deleting'`` needs a conflicting row lock, so it waits for every write that
saw the user active to commit, and every write after it sees ``deleting``
and is refused; the erasure consumers only start after that update has
committed (the event is published after the commit), so they see every row
such a write left. SQLite has one writer at a time, which serialises the
same way. Without the check, a write with a still-valid access token would
either fail on the foreign key (a 500) or, where there is none, leave a row
behind the erasure.
"""

from __future__ import annotations

from sqlalchemy import column, select, table
from sqlalchemy.orm import Session

from cheese_runtime.db.session import read_scope
from cheese_runtime.errors import Unauthorized

USERS = table("users", column("id"), column("status"))
ACTIVE = "active"


class AccountGone(Unauthorized):
    def __init__(self) -> None:
        super().__init__("The account no longer exists.", slug="account-gone")


def is_active_user(user_id: str) -> bool:
    with read_scope() as connection:
        status = connection.execute(
            select(USERS.c.status).where(USERS.c.id == user_id)
        ).scalar_one_or_none()
    return status == ACTIVE


def lock_active_user(session: Session, user_id: str) -> None:
    """Hold the user row (shared) until the transaction ends; AccountGone unless active."""
    status = session.execute(
        select(USERS.c.status).where(USERS.c.id == user_id).with_for_update(read=True)
    ).scalar_one_or_none()
    if status != ACTIVE:
        raise AccountGone()
