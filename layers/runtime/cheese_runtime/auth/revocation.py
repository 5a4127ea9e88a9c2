"""Revoked sessions: what makes a still-unexpired access token stop working.

Access tokens are stateless JWTs (15 minutes). Logging out, a refresh-token
reuse (the family is revoked) and account deletion must not leave them
valid until they expire. Each access token carries ``sid``, the id of its
refresh-token family (its login session). Revoking writes one item to the
revocations table:

- ``sid#<family id>`` when one session ends (logout, reuse detected);
- ``user#<user id>`` when every session of an account ends (deletion).

Each item lives (DynamoDB TTL) as long as a token issued before it can:
the access-token lifetime plus the clock leeway, plus a margin. Tokens
issued after ``revoked_at`` are not affected by a ``user#`` item (an
account whose deletion failed half-way can log in again).

**Reading it** is the shared verifier's last step. Asking DynamoDB on every
request would add a round trip (~2–5 ms in-region) and a read per request;
instead each container caches the answer per session: "revoked" for good,
"not revoked" for ``revocation_cache_seconds`` (30 s). So every function
refuses a revoked session's tokens within 30 s (plus DynamoDB's
propagation, bounded by using strongly consistent reads), and the
container that revoked refuses them at once (:meth:`Revocations.revoke`
records its own answer). The cost is one ``BatchGetItem`` of two keys
(2 RCU strongly consistent, ~$0.0000005) per session per container per
30 s, whatever the request rate; a JWT denylist keyed by ``jti`` would need
one item per token and still a read per token. A short access-token
lifetime alone (say 1 minute) would mean a refresh per minute per client,
each an argon2-free but database-writing rotation: more expensive, and
still not "at once" in the revoking function.
"""

from __future__ import annotations

import threading
import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass
from functools import cache

from cheese_runtime import aws
from cheese_runtime.settings import Settings, get_settings

# Entries kept per container: far more sessions than one container serves within a cache period.
MAX_CACHED_SESSIONS = 10_000
TTL_MARGIN_SECONDS = 60


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
        self._table = settings.revocations_table
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
        response = aws.client("dynamodb").batch_get_item(
            RequestItems={
                self._table: {
                    "Keys": [
                        {"pk": {"S": session_key(session_id)}},
                        {"pk": {"S": user_key(user_id)}},
                    ],
                    "ConsistentRead": True,
                }
            }
        )
        for item in response["Responses"].get(self._table, []):
            if item["pk"]["S"] == session_key(session_id):
                return True
            if issued_at <= float(item["revoked_at"]["N"]):
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

    def _put(self, pk: str) -> float:
        now = time.time()
        lifetime = (
            self._settings.access_token_ttl_seconds
            + self._settings.jwt_leeway_seconds
            + TTL_MARGIN_SECONDS
        )
        aws.client("dynamodb").put_item(
            TableName=self._table,
            Item={
                "pk": {"S": pk},
                # Rounded up: a token issued (iat, whole seconds) in this second is covered.
                "revoked_at": {"N": str(int(now) + 1)},
                "expires_at": {"N": str(int(now) + lifetime)},
            },
        )
        return int(now) + 1


@cache
def get_revocations() -> Revocations:
    return Revocations(get_settings())
