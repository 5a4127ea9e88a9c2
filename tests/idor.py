"""The ownership (IDOR) test pattern every function reuses.

Name each request that touches the owner's resource; another signed-in user
must get 404 for every one of them (not 403: others' ids must be
indistinguishable from missing ones), and the owner must still see the
resource unchanged afterwards.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from tests.conftest import TestUser


@dataclass(frozen=True)
class Attempt:
    method: str
    path: str
    json_body: Any = None
    query: str = ""


def assert_others_get_404(intruder: TestUser, attempts: Sequence[Attempt]) -> None:
    failures = []
    for attempt in attempts:
        response = intruder.call(
            attempt.method, attempt.path, json_body=attempt.json_body, query=attempt.query
        )
        if response.status != 404:
            failures.append(
                f"{attempt.method} {attempt.path}{'?' + attempt.query if attempt.query else ''}"
                f" -> {response.status}"
            )
    assert not failures, "another user reached the owner's resources:\n" + "\n".join(failures)


def assert_owner_still_sees(owner: TestUser, path: str, before: Any) -> None:
    response = owner.call("GET", path)
    assert response.status == 200 and response.json() == before, (
        "the intruder changed the owner's resource"
    )
