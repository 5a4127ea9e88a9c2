"""Data access for accounts: users and refresh tokens (SQL)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import delete, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from cheese_runtime.db.session import read_scope, rowcount
from cheese_runtime.db.types import utcnow
from functions.auth.models import RefreshToken, User


class EmailTaken(Exception):
    pass


class UserRepository:
    def __init__(self, session: Session) -> None:
        self._session = session

    def add(self, email: str, email_normalized: str, display_name: str, password_hash: str) -> User:
        user = User(
            email=email,
            email_normalized=email_normalized,
            display_name=display_name,
            password_hash=password_hash,
            status="active",
            roles="",
        )
        self._session.add(user)
        try:
            self._session.flush()
        except IntegrityError as exc:
            raise EmailTaken(email_normalized) from exc
        return user

    def by_email(self, email_normalized: str) -> User | None:
        return self._session.scalar(select(User).where(User.email_normalized == email_normalized))

    def get(self, user_id: str) -> User | None:
        return self._session.get(User, user_id)

    def delete(self, user_id: str) -> bool:
        return rowcount(self._session.execute(delete(User).where(User.id == user_id))) > 0


def profile(user_id: str) -> tuple[str, str, str, str] | None:
    """(id, email, display_name, status) of a user: the hot read behind GET /v1/auth/me."""
    with read_scope() as connection:
        row = connection.execute(
            select(User.id, User.email, User.display_name, User.status).where(User.id == user_id)
        ).one_or_none()
    return row.tuple() if row else None


class RefreshTokenRepository:
    def __init__(self, session: Session) -> None:
        self._session = session

    def add(
        self, user_id: str, family_id: str, token_hash: str, expires_at: datetime
    ) -> RefreshToken:
        token = RefreshToken(
            user_id=user_id, family_id=family_id, token_hash=token_hash, expires_at=expires_at
        )
        self._session.add(token)
        self._session.flush()
        return token

    def by_hash(self, token_hash: str) -> RefreshToken | None:
        return self._session.scalar(
            select(RefreshToken).where(RefreshToken.token_hash == token_hash)
        )

    def mark_used(self, token_id: str) -> bool:
        """Use a token once: the conditional update makes two racing refreshes yield one winner."""
        result = self._session.execute(
            update(RefreshToken)
            .where(
                RefreshToken.id == token_id,
                RefreshToken.used_at.is_(None),
                RefreshToken.revoked_at.is_(None),
            )
            .values(used_at=utcnow())
        )
        return rowcount(result) == 1

    def revoke_family(self, family_id: str) -> None:
        self._session.execute(
            update(RefreshToken)
            .where(RefreshToken.family_id == family_id, RefreshToken.revoked_at.is_(None))
            .values(revoked_at=utcnow())
        )

    def revoke_user(self, user_id: str) -> None:
        self._session.execute(
            update(RefreshToken)
            .where(RefreshToken.user_id == user_id, RefreshToken.revoked_at.is_(None))
            .values(revoked_at=utcnow())
        )
