"""Revoked sessions: what makes a still-unexpired access token stop working.

Access tokens are stateless JWTs (15 minutes). Logging out, a refresh-token
reuse (the family is revoked) and account deletion must not leave them
valid until they expire. Each access token carries ``sid``, the id of its
refresh-token family (its login session). Revoking writes one row to the
runtime's ``revoked_sessions`` table (cheese_runtime/db/revocations.py):

- ``sid#<family id>`` when one session ends (logout, reuse detected);
- ``user#<user id>`` when every session of an account ends (deletion).

Each row lives as long as a token issued before it can: the access-token
lifetime plus the clock leeway, plus a margin; every write deletes the rows
past that (an indexed range, a handful of rows). Tokens issued after
``revoked_at`` are not affected by a ``user#`` row (an account whose
deletion failed half-way can log in again).

**Where**: in the relational database, which every function that verifies
tokens reaches anyway (the WebSocket functions included). Until revision
0019 the rows were DynamoDB items: reading them cost every cold start the
import of botocore and a client, about 200 ms of CPU before the first
answer, while the row is one primary-key read on the connection the
request opens anyway (bench/README.md, "Cold starts").

**Reading it** is the shared verifier's last step. Reading on every request
would add a round trip per request; instead each container caches the
answer per session: "revoked" for good, "not revoked" for
``revocation_cache_seconds`` (30 s). So every function refuses a revoked
session's tokens within 30 s, and the container that revoked refuses them at
once (:meth:`Revocations.revoke_session` records its own answer). The cost
is one primary-key read of two keys per session per container per 30 s,
whatever the request rate; a JWT denylist keyed by ``jti`` would need one
row per token and still a read per token. A short access-token lifetime
alone (say 1 minute) would mean a refresh per minute per client, each a
database-writing rotation: more expensive, and still not "at once" in the
revoking function.
"""

from __future__ import annotations

import threading
import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass
from functools import cache

from sqlalchemy import bindparam, text

from cheese_runtime.db.session import get_engine, read_scope
from cheese_runtime.settings import Settings, get_settings

# Entries kept per container: far more sessions than one container serves within a cache period.
MAX_CACHED_SESSIONS = 10_000
TTL_MARGIN_SECONDS = 60

_READ = text(
    "SELECT revoked_key, revoked_at FROM revoked_sessions WHERE revoked_key IN :keys"
).bindparams(bindparam("keys", expanding=True))
# ON CONFLICT ... DO UPDATE: PostgreSQL and SQLite (3.24+) spell it alike.
_UPSERT = text(
    "INSERT INTO revoked_sessions (revoked_key, revoked_at, expires_at) "
    "VALUES (:key, :revoked_at, :expires_at) ON CONFLICT (revoked_key) "
    "DO UPDATE SET revoked_at = excluded.revoked_at, expires_at = excluded.expires_at"
)
_PRUNE = text("DELETE FROM revoked_sessions WHERE expires_at < :now")


def session_key(session_id: str) -> str:
    return f"sid#{session_id}"


def user_key(user_id: str) -> str:
    return f"user#{user_id}"


@dataclass(frozen=True)
class _Answer:
    revoked: bool
    checked_at: float  # time.monotonic()


class Revocations:
    def __init__(self, settings: Settings, clock: Callable[[], float] = time.monotonic) -> None:
        self._settings = settings
        self._clock = clock
        self._cache: OrderedDict[tuple[str, str], _Answer] = OrderedDict()
        self._revoked_users: dict[str, float] = {}
        self._lock = threading.Lock()

    # --- reading ------------------------------------------------------------------
    def is_revoked(self, session_id: str, user_id: str, issued_at: float) -> bool:
        key = (session_id, user_id)
        now = self._clock()
        with self._lock:
            answer = self._cache.get(key)
            if user_id in self._revoked_users and issued_at <= self._revoked_users[user_id]:
                return True
        if answer is not None and (
            answer.revoked or now - answer.checked_at < self._settings.revocation_cache_seconds
        ):
            return answer.revoked
        revoked = self._read(session_id, user_id, issued_at)
        self._remember(key, _Answer(revoked, now))
        return revoked

    def _read(self, session_id: str, user_id: str, issued_at: float) -> bool:
        with read_scope() as connection:
            rows = connection.execute(
                _READ, {"keys": [session_key(session_id), user_key(user_id)]}
            ).all()
        for revoked_key, revoked_at in rows:
            if revoked_key == session_key(session_id):
                return True
            if issued_at <= revoked_at:
                return True
        return False

    def _remember(self, key: tuple[str, str], answer: _Answer) -> None:
        with self._lock:
            self._cache[key] = answer
            self._cache.move_to_end(key)
            while len(self._cache) > MAX_CACHED_SESSIONS:
                self._cache.popitem(last=False)

    # --- writing ------------------------------------------------------------------
    def revoke_session(self, session_id: str, user_id: str) -> None:
        self._put(session_key(session_id))
        self._remember((session_id, user_id), _Answer(True, self._clock()))

    def revoke_user(self, user_id: str) -> None:
        revoked_at = self._put(user_key(user_id))
        with self._lock:
            self._revoked_users[user_id] = revoked_at

    def _put(self, revoked_key: str) -> float:
        now = int(time.time())
        lifetime = (
            self._settings.access_token_ttl_seconds
            + self._settings.jwt_leeway_seconds
            + TTL_MARGIN_SECONDS
        )
        # Rounded up: a token issued (iat, whole seconds) in this second is covered.
        revoked_at = now + 1
        with get_engine().begin() as connection:
            connection.execute(
                _UPSERT,
                {"key": revoked_key, "revoked_at": revoked_at, "expires_at": now + lifetime},
            )
            connection.execute(_PRUNE, {"now": now})
        return revoked_at


@cache
def get_revocations() -> Revocations:
    return Revocations(get_settings())
