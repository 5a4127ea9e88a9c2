"""Data access for accounts: users and refresh tokens (SQL), login throttles (DynamoDB)."""

from __future__ import annotations

import hashlib
import time
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import delete, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from cheese_runtime import aws
from functions.auth.models import RefreshToken, User
from cheese_runtime.db.session import read_scope
from cheese_runtime.db.types import utcnow


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
        return self._session.execute(delete(User).where(User.id == user_id)).rowcount > 0


def profile(user_id: str) -> tuple[str, str, str, str] | None:
    """(id, email, display_name, status) of a user: the hot read behind GET /v1/auth/me."""
    with read_scope() as connection:
        row = connection.execute(
            select(User.id, User.email, User.display_name, User.status).where(User.id == user_id)
        ).one_or_none()
    return tuple(row) if row else None


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
        return result.rowcount == 1

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


@dataclass(frozen=True)
class ThrottleRule:
    scope: str  # "account" or "ip"
    limit: int
    window_seconds: int


class LoginThrottle:
    """Failure counters per (scope, key) in fixed windows, one DynamoDB item per window.

    A request is refused while the current and the previous window together
    hold ``limit`` failures: failures are remembered for one to two windows,
    and a burst across a window boundary is not forgiven. Keys are hashed: the
    table holds no email addresses or IPs.
    """

    def __init__(self, table_name: str) -> None:
        self._table_name = table_name

    @staticmethod
    def _pk(rule: ThrottleRule, key: str, window: int) -> str:
        digest = hashlib.sha256(f"{rule.scope}:{key}".encode()).hexdigest()
        return f"{rule.scope}#{digest}#{window}"

    def retry_after(self, rule: ThrottleRule, key: str, now: float | None = None) -> int | None:
        """Seconds until another attempt is allowed, or None when not throttled."""
        now = time.time() if now is None else now
        window = int(now // rule.window_seconds)
        current_pk, previous_pk = self._pk(rule, key, window), self._pk(rule, key, window - 1)
        response = aws.client("dynamodb").batch_get_item(
            RequestItems={
                self._table_name: {
                    "Keys": [{"pk": {"S": current_pk}}, {"pk": {"S": previous_pk}}],
                    "ConsistentRead": True,
                }
            }
        )
        counts = {
            item["pk"]["S"]: int(item["failures"]["N"])
            for item in response["Responses"][self._table_name]
        }
        current, previous = counts.get(current_pk, 0), counts.get(previous_pk, 0)
        until_window_end = (window + 1) * rule.window_seconds - now
        if current >= rule.limit:
            # These failures still count through the whole next window.
            return max(1, int(until_window_end + rule.window_seconds))
        if current + previous >= rule.limit:
            return max(1, int(until_window_end))
        return None

    def record_failure(self, rule: ThrottleRule, key: str, now: float | None = None) -> None:
        now = time.time() if now is None else now
        window = int(now // rule.window_seconds)
        aws.client("dynamodb").update_item(
            TableName=self._table_name,
            Key={"pk": {"S": self._pk(rule, key, window)}},
            UpdateExpression="ADD failures :one SET expires_at = :expires",
            ExpressionAttributeValues={
                ":one": {"N": "1"},
                ":expires": {"N": str((window + 2) * rule.window_seconds + 3600)},
            },
        )

    def clear(self, rule: ThrottleRule, key: str, now: float | None = None) -> None:
        now = time.time() if now is None else now
        window = int(now // rule.window_seconds)
        aws.client("dynamodb").batch_write_item(
            RequestItems={
                self._table_name: [
                    {"DeleteRequest": {"Key": {"pk": {"S": self._pk(rule, key, w)}}}}
                    for w in (window, window - 1)
                ]
            }
        )
