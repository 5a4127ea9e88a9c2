"""Login throttling that slows guessing without handing attackers a lock-out.

Following the OWASP Authentication Cheat Sheet ("Protect against automated
attacks": lock-out is a denial-of-service weapon; prefer back-off that grows
with failures and that an attacker cannot impose on someone else):

- **per (account, client)**: the main brake. A client (source IP) that fails
  on one account gets ``free`` failures, then must wait ``base·2^k`` seconds
  (capped) before each further attempt on that account. Only that client
  waits: the owner elsewhere is untouched. A success clears it.
- **per client**, over all accounts: the same back-off after a larger
  allowance, against one address spraying many accounts.
- **per account**, over all clients: never refuses. Past a number of
  failures (a distributed attack) every attempt on that account is answered
  a little later (``slowdown_seconds``), which caps how fast many addresses
  together can guess while the owner still logs in, one second slower.

Counters live in the throttle table, one item per (scope, key), keyed by a
hash so that the table holds no email addresses or IPs. A counter is
forgotten ``window_seconds`` after its last failure (and removed by TTL).
Requests refused with 429 are not failures: they do not extend the wait.
"""

from __future__ import annotations

import hashlib
import math
import time
from dataclasses import dataclass

from botocore.exceptions import ClientError

from cheese_runtime import aws


@dataclass(frozen=True)
class BackOff:
    scope: str  # "account-client", "client" or "account"
    free_failures: int
    base_seconds: float
    max_seconds: float
    window_seconds: int

    def wait(self, failures: int) -> float:
        """Seconds a client must wait after its last failure, having failed ``failures`` times."""
        if failures < self.free_failures:
            return 0.0
        exponent = min(failures - self.free_failures, 30)
        return float(min(self.max_seconds, self.base_seconds * 2**exponent))


@dataclass(frozen=True)
class Counter:
    failures: int
    last_failure: float


class FailureCounters:
    """Failure counts per (scope, key) in the throttle table."""

    def __init__(self, table_name: str) -> None:
        self._table_name = table_name

    @staticmethod
    def _pk(scope: str, key: str) -> str:
        return f"{scope}#{hashlib.sha256(f'{scope}:{key}'.encode()).hexdigest()}"

    def read(self, rules_and_keys: list[tuple[BackOff, str]], now: float) -> list[Counter]:
        """The live counters of several (rule, key) pairs, in one strongly consistent read."""
        pks = [self._pk(rule.scope, key) for rule, key in rules_and_keys]
        response = aws.client("dynamodb").batch_get_item(
            RequestItems={
                self._table_name: {
                    "Keys": [{"pk": {"S": pk}} for pk in dict.fromkeys(pks)],
                    "ConsistentRead": True,
                }
            }
        )
        items = {item["pk"]["S"]: item for item in response["Responses"][self._table_name]}
        counters = []
        for (rule, _), pk in zip(rules_and_keys, pks, strict=True):
            item = items.get(pk)
            last = float(item["last_failure"]["N"]) if item else 0.0
            if item is None or now - last > rule.window_seconds:
                counters.append(Counter(0, 0.0))
            else:
                counters.append(Counter(int(item["failures"]["N"]), last))
        return counters

    def record_failure(self, rule: BackOff, key: str, now: float) -> None:
        client = aws.client("dynamodb")
        pk = {"pk": {"S": self._pk(rule.scope, key)}}
        expires = {"N": str(int(now + rule.window_seconds + 3600))}
        try:
            # Count on while the last failure is recent...
            client.update_item(
                TableName=self._table_name,
                Key=pk,
                UpdateExpression="ADD failures :one SET last_failure = :now, expires_at = :exp",
                ConditionExpression="last_failure >= :recent",
                ExpressionAttributeValues={
                    ":one": {"N": "1"},
                    ":now": {"N": repr(now)},
                    ":exp": expires,
                    ":recent": {"N": repr(now - rule.window_seconds)},
                },
            )
        except ClientError as exc:
            if exc.response["Error"]["Code"] != "ConditionalCheckFailedException":
                raise
            # ...otherwise start again from one.
            client.put_item(
                TableName=self._table_name,
                Item={
                    **pk,
                    "failures": {"N": "1"},
                    "last_failure": {"N": repr(now)},
                    "expires_at": expires,
                },
            )

    def clear(self, rule: BackOff, key: str) -> None:
        aws.client("dynamodb").delete_item(
            TableName=self._table_name, Key={"pk": {"S": self._pk(rule.scope, key)}}
        )


@dataclass(frozen=True)
class Verdict:
    retry_after: int | None  # refuse with 429 and this Retry-After
    delay_seconds: float  # otherwise, answer this much later


class LoginThrottle:
    def __init__(
        self,
        counters: FailureCounters,
        account_client: BackOff,
        client: BackOff,
        account_slowdown_after: int,
        account_slowdown_seconds: float,
        window_seconds: int,
    ) -> None:
        self._counters = counters
        self._account_client = account_client
        self._client = client
        # The account-wide rule only counts; it never makes anyone wait long.
        self._account = BackOff("account", account_slowdown_after, 0, 0, window_seconds)
        self._slowdown_seconds = account_slowdown_seconds

    def _pairs(self, account: str, client: str) -> list[tuple[BackOff, str]]:
        return [
            (self._account_client, f"{account}\n{client}"),
            (self._client, client),
            (self._account, account),
        ]

    def check(self, account: str, client: str, now: float | None = None) -> Verdict:
        now = time.time() if now is None else now
        pairs = self._pairs(account, client)
        counters = self._counters.read(pairs, now)
        waits = [
            counter.last_failure + rule.wait(counter.failures) - now
            for (rule, _), counter in zip(pairs[:2], counters[:2], strict=True)
            if rule.wait(counter.failures) > 0
        ]
        longest = max(waits, default=0.0)
        if longest > 0:
            return Verdict(retry_after=max(1, math.ceil(longest)), delay_seconds=0.0)
        under_attack = counters[2].failures >= self._account.free_failures
        return Verdict(None, self._slowdown_seconds if under_attack else 0.0)

    def record_failure(self, account: str, client: str, now: float | None = None) -> None:
        now = time.time() if now is None else now
        for rule, key in self._pairs(account, client):
            self._counters.record_failure(rule, key, now)

    def record_success(self, account: str, client: str) -> None:
        # Only this client's record on this account: the client-wide and
        # account-wide counts keep counting what attackers do.
        rule, key = self._pairs(account, client)[0]
        self._counters.clear(rule, key)
