"""The account row as every function sees it: does a user exist, may it still write.

Auth owns the account columns of ``users`` (``functions/auth/models.py``);
other functions need one fact from them (is this user active?) and read it
through this lightweight table clause, without importing auth's models.

:func:`lock_active_user` is how a write refuses a leaving user and cannot
race the erasure: in the write's own transaction it reads the user's status
with ``FOR SHARE`` (PostgreSQL; on SQLite, which locks the whole database,
with a no-op update that takes the write lock). Deletion's ``UPDATE users
SET status = 'deleting'`` needs a conflicting lock, so it waits for every
write that saw the user active to commit, and every write after it sees
``deleting`` and is refused; the erasure consumers only start after that
update has committed (the event is published after the commit), so they
see every row such a write left. Without the check, a write with a still-valid access token would
either fail on the foreign key (a 500) or, where there is none, leave a row
behind the erasure.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from sqlalchemy import column, select, table, update

from cheese_runtime.db.session import read_scope, rowcount
from cheese_runtime.errors import DomainError

if TYPE_CHECKING:
    # Only a type here: the pool function reads accounts without the ORM (cheese_runtime.db.session).
    from sqlalchemy.orm import Session

USERS = table("users", column("id"), column("status"))
ACTIVE = "active"


class AccountGone(DomainError):
    """The account was deleted (or is being deleted): its token no longer acts for it."""

    slug = "account-gone"
    title = "Authentication required"
    default_detail = "The account no longer exists."


def is_active_user(user_id: str) -> bool:
    with read_scope() as connection:
        status = connection.execute(
            select(USERS.c.status).where(USERS.c.id == user_id)
        ).scalar_one_or_none()
    return status == ACTIVE


def lock_active_user(session: Session, user_id: str) -> None:
    """Hold the user row until the transaction ends; AccountGone unless the account is active."""
    if session.get_bind().dialect.name == "sqlite":
        # SQLite reads outside a write lock; a no-op write takes the database's
        # write lock now, so that the deletion's update waits for this commit.
        result = session.execute(
            update(USERS)
            .where(USERS.c.id == user_id, USERS.c.status == ACTIVE)
            .values(status=USERS.c.status)
        )
        active = rowcount(result) == 1
    else:
        active = (
            session.execute(
                select(USERS.c.status).where(USERS.c.id == user_id).with_for_update(read=True)
            ).scalar_one_or_none()
            == ACTIVE
        )
    if not active:
        raise AccountGone()
