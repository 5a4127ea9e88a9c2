"""Consent to processing that needs it (biometrics, expressions...), for every function.

A scope is one thing a user may allow; each feature declares its scope here,
in ``SCOPES``, and nowhere else. A user's decision on a scope is one
``ConsentRecord`` (granted or not, and when); no record means not granted.
Withdrawing a scope erases what it allowed, at once and in the same
transaction, through the hooks the owning function registers::

    from cheese_runtime import consent

    consent.require_consent(user_id, consent.FACE_GROUPING)   # raises ConsentRequired

    @consent.on_withdrawal(consent.FACE_GROUPING)
    def erase_embeddings(session: Session, user_id: str) -> None: ...

``ConsentRequired`` maps to the ``consent-required`` problem (409).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from cheese_runtime.db.consent import ConsentRecord
from cheese_runtime.db.session import session_scope
from cheese_runtime.db.types import utcnow
from cheese_runtime.errors import DomainError


@dataclass(frozen=True, slots=True)
class Scope:
    """One thing a user may allow. ``needed_for`` completes "… needs your consent first"."""

    name: str
    needed_for: str


FACE_GROUPING = Scope("face_grouping", "Face grouping")
EXPRESSION_ANALYSIS = Scope("expression_analysis", "Expression analysis")
# Body keypoints and the mood of each cut (functions/photos, "Poses and mood"): the user's
# own pose recommendations, and their cuts count in the pose types everyone is shown.
POSE_ANALYSIS = Scope("pose_analysis", "Pose and mood analysis")
# The user's cuts may be shown to other users as de-identified examples of a pose type.
POSE_EXAMPLES = Scope("pose_examples", "Sharing de-identified pose examples")

SCOPES: dict[str, Scope] = {
    s.name: s for s in (FACE_GROUPING, EXPRESSION_ANALYSIS, POSE_ANALYSIS, POSE_EXAMPLES)
}
"""Every scope a user can be asked for; a new feature adds its own line here."""


@dataclass(frozen=True, slots=True)
class Decision:
    """A user's current answer on one scope; ``changed_at`` is None when never asked."""

    scope: Scope
    granted: bool
    changed_at: datetime | None


class ConsentRequired(DomainError):
    """The user has not granted a scope an operation needs (``COMMON_ERRORS``: 409 in every app)."""

    slug = "consent-required"
    title = "Consent required"

    def __init__(self, scope: Scope) -> None:
        super().__init__(f"{scope.needed_for} needs your consent first (PUT /v1/me/consent).")
        self.scope = scope


WithdrawalHook = Callable[[Session, str], None]
_HOOKS: dict[str, list[WithdrawalHook]] = {}


def on_withdrawal(scope: Scope) -> Callable[[WithdrawalHook], WithdrawalHook]:
    """Register ``hook(session, user_id)`` to erase what ``scope`` allowed when it is withdrawn.

    Hooks run in the withdrawal's transaction: if one fails, the consent stays
    granted and the client's request fails, so nothing outlives its consent.
    """

    def register(hook: WithdrawalHook) -> WithdrawalHook:
        _HOOKS.setdefault(scope.name, []).append(hook)
        return hook

    return register


class Consents:
    """The consent records of one unit of work."""

    def __init__(self, session: Session) -> None:
        self._session = session

    def decisions(self, user_id: str) -> dict[str, Decision]:
        """The user's answer on every declared scope (not granted when never asked)."""
        records = {
            r.scope: r
            for r in self._session.scalars(
                select(ConsentRecord).where(ConsentRecord.user_id == user_id)
            )
        }
        return {
            name: Decision(scope, records[name].granted, records[name].changed_at)
            if name in records
            else Decision(scope, False, None)
            for name, scope in SCOPES.items()
        }

    def granted(self, user_id: str, scope: Scope) -> bool:
        record = self._session.get(ConsentRecord, (user_id, scope.name))
        return bool(record and record.granted)

    def require(self, user_id: str, scope: Scope) -> None:
        if not self.granted(user_id, scope):
            raise ConsentRequired(scope)

    def lock(self, user_id: str, scope: Scope) -> bool:
        """Lock the user's record of ``scope`` until the transaction ends; True if granted.

        Work that a withdrawal must not interleave with (grouping faces while
        the embeddings are erased) takes this lock; ``decide`` takes it too.
        """
        record = self._session.scalar(
            select(ConsentRecord)
            .where(ConsentRecord.user_id == user_id, ConsentRecord.scope == scope.name)
            .with_for_update()
        )
        return bool(record and record.granted)

    def decide(self, user_id: str, answers: Mapping[Scope, bool]) -> list[Scope]:
        """Store the user's answers; returns the scopes withdrawn now, after running their hooks.

        An unchanged answer keeps its time; the first answer on a scope is
        recorded even when it is "no".
        """
        now = utcnow()
        withdrawn: list[Scope] = []
        for scope, granted in answers.items():
            if scope.name not in SCOPES:
                raise KeyError(f"undeclared consent scope {scope.name!r}")
            record = self._session.scalar(
                select(ConsentRecord)
                .where(ConsentRecord.user_id == user_id, ConsentRecord.scope == scope.name)
                .with_for_update()
            )
            if record is None:
                self._session.add(
                    ConsentRecord(
                        user_id=user_id, scope=scope.name, granted=granted, changed_at=now
                    )
                )
            elif record.granted != granted:
                if record.granted:
                    withdrawn.append(scope)
                record.granted, record.changed_at = granted, now
        self._session.flush()
        for scope in withdrawn:
            for hook in _HOOKS.get(scope.name, ()):
                hook(self._session, user_id)
        return withdrawn

    def erase(self, user_id: str, scopes: Iterable[Scope] | None = None) -> None:
        """Forget the user's records (account erasure); no hooks run."""
        query = delete(ConsentRecord).where(ConsentRecord.user_id == user_id)
        if scopes is not None:
            query = query.where(ConsentRecord.scope.in_([s.name for s in scopes]))
        self._session.execute(query)


def has_consent(user_id: str, scope: Scope) -> bool:
    with session_scope() as session:
        return Consents(session).granted(user_id, scope)


def require_consent(user_id: str, scope: Scope) -> None:
    """Raise ConsentRequired unless the user has granted ``scope``."""
    with session_scope() as session:
        Consents(session).require(user_id, scope)
