"""Smile points end to end: events in, the API out (real handlers, real event shapes)."""

from __future__ import annotations

import itertools
import uuid
from datetime import datetime, timedelta

import pytest

from cheese_runtime import events
from cheese_runtime.errors import PROBLEM_BASE
from functions.smile_rank.config import SmileSettings
from functions.smile_rank.periods import parse_period
from functions.smile_rank.service import SmileService
from tests.conftest import call_api, signup, wait_until
from tests.smile_rank.helpers import analyzed, deleted, deliver, deliver_event, face, sqs_event

_weeks = itertools.count(1)


def isolated_week() -> datetime:
    """Noon on a Wednesday of a far-future week nobody else writes to."""
    start, _ = parse_period(f"{2100 + next(_weeks)}-W10")
    return start + timedelta(days=2, hours=12)


def problem_type(response) -> str:  # noqa: ANN001
    assert response.headers["content-type"].startswith("application/problem+json"), response.body
    return response.json()["type"].removeprefix(PROBLEM_BASE)


def test_published_photo_events_reach_the_ranking_through_the_bus(db) -> None:  # noqa: ANN001
    ann = signup("ann")
    event = analyzed(ann.id, [face(93, is_me=True), face(41), face(88, usable=False), face(None)])
    events.publish(event)

    def scored() -> bool:
        return ann.call("GET", f"/v1/photos/{event.photo_id}/smiles").status == 200

    assert wait_until(scored, timeout=20)
    smiles = ann.call("GET", f"/v1/photos/{event.photo_id}/smiles").json()
    assert smiles["status"] == "counted"
    assert smiles["points"] == 18 + 4
    assert [(f["smile"], f["is_me"], f["usable"], f["points"]) for f in smiles["faces"]] == [
        (93.0, True, True, 18),
        (41.0, False, True, 4),
        (88.0, False, False, 0),
        (None, False, True, 0),
    ]
    me = ann.call("GET", "/v1/smiles/me").json()
    assert me["week"]["points"] == me["month"]["points"] == me["all"]["points"] == 22
    assert me["today_points"] == 22 and me["daily_cap"] == 200
    assert me["all"]["rank"] >= 1

    # The ranking lists her with her rank.
    entries, cursor = [], None
    while True:
        page = ann.call(
            "GET",
            "/v1/smiles/ranking",
            query="period=week&limit=100" + (f"&cursor={cursor}" if cursor else ""),
        ).json()
        entries += page["items"]
        cursor = page["next_cursor"]
        if cursor is None:
            break
    mine = [e for e in entries if e["is_me"]]
    # (Other suites' photo events may move ranks meanwhile: exact ranks are checked on an isolated week below.)
    assert [(e["display_name"], e["points"]) for e in mine] == [("Ann", 22)]
    assert mine[0]["rank"] >= 1

    # Deleting the photo (current, open period) takes the points back everywhere.
    events.publish(deleted(ann.id, event.photo_id))
    assert wait_until(
        lambda: ann.call("GET", "/v1/smiles/me").json()["all"]["points"] == 0, timeout=20
    )
    after = ann.call("GET", f"/v1/photos/{event.photo_id}/smiles").json()
    assert (after["status"], after["points"]) == ("reversed", 0)
    assert ann.call("GET", "/v1/smiles/me").json()["week"]["rank"] is None


def test_a_photo_counts_once_duplicates_and_near_duplicates_earn_nothing(db) -> None:  # noqa: ANN001
    bob = signup("bob")
    faces = [face(80, is_me=True, person="p-bob"), face(60, person="p-amy")]
    first = analyzed(bob.id, faces, dhash="f0f0f0f0f0f0f0f0")
    same_bytes = analyzed(bob.id, faces, sha256=first.sha256)
    # Re-encoded copy: 3 bits of the dHash differ, the same people.
    near = analyzed(
        bob.id,
        [face(85, is_me=True, person="p-bob"), face(55, person="p-amy")],
        dhash="f0f0f0f0f0f0f0f7",
    )
    # A similar frame with other people is another photo.
    other_people = analyzed(bob.id, [face(70, person="p-cat")], dhash="f0f0f0f0f0f0f0f1")
    far = analyzed(bob.id, faces, dhash="0f0f0f0f0f0f0f0f")
    result = deliver(
        *[
            (events.PhotoAnalyzed.detail_type, e)
            for e in (first, same_bytes, near, other_people, far)
        ]
    )
    assert result == {"batchItemFailures": []}
    statuses = {
        e.photo_id: bob.call("GET", f"/v1/photos/{e.photo_id}/smiles").json()
        for e in (first, same_bytes, near, other_people, far)
    }
    assert statuses[first.photo_id]["status"] == "counted"
    assert statuses[same_bytes.photo_id]["status"] == "duplicate"
    assert statuses[same_bytes.photo_id]["duplicate_of"] == first.photo_id
    assert statuses[near.photo_id]["status"] == "duplicate"
    assert statuses[other_people.photo_id]["status"] == "counted"
    assert statuses[far.photo_id]["status"] == "counted"
    assert bob.call("GET", "/v1/smiles/me").json()["all"]["points"] == 22 + 7 + 22


def test_redelivered_events_change_nothing(db) -> None:  # noqa: ANN001
    cy = signup("cy")
    event = analyzed(cy.id, [face(100, is_me=True)])
    for _ in range(3):
        assert deliver((events.PhotoAnalyzed.detail_type, event)) == {"batchItemFailures": []}
    assert cy.call("GET", "/v1/smiles/me").json()["all"]["points"] == 20
    for _ in range(2):
        deliver((events.PhotoDeleted.detail_type, deleted(cy.id, event.photo_id)))
    assert cy.call("GET", "/v1/smiles/me").json()["all"]["points"] == 0
    # The analysis delivered again after the deletion does not resurrect the points.
    deliver((events.PhotoAnalyzed.detail_type, event))
    assert cy.call("GET", "/v1/smiles/me").json()["all"]["points"] == 0


def test_deletion_before_the_analysis_leaves_a_tombstone(db) -> None:  # noqa: ANN001
    dee = signup("dee")
    event = analyzed(dee.id, [face(90)])
    deliver(
        (events.PhotoDeleted.detail_type, deleted(dee.id, event.photo_id)),
        (events.PhotoAnalyzed.detail_type, event),
    )
    assert dee.call("GET", "/v1/smiles/me").json()["all"]["points"] == 0
    assert dee.call("GET", f"/v1/photos/{event.photo_id}/smiles").status == 404


def test_daily_cap(db) -> None:  # noqa: ANN001
    eve = signup("eve")
    batch = [
        analyzed(eve.id, [face(100, is_me=True), face(100), face(100), face(100)]) for _ in range(5)
    ]
    deliver(*[(events.PhotoAnalyzed.detail_type, e) for e in batch])
    results = [eve.call("GET", f"/v1/photos/{e.photo_id}/smiles").json() for e in batch]
    # 50 per photo (the photo cap), 200 per day.
    assert [r["points"] for r in results] == [50, 50, 50, 50, 0]
    assert [r["status"] for r in results] == ["counted"] * 4 + ["capped"]
    me = eve.call("GET", "/v1/smiles/me").json()
    assert me["today_points"] == 200 and me["all"]["points"] == 200


def test_points_of_a_closed_period_stay_when_the_photo_is_deleted(db) -> None:  # noqa: ANN001
    from functions.smile_rank.close import PeriodCloser

    fay = signup("fay")
    moment = isolated_week()
    service = SmileService(SmileSettings())
    kept = analyzed(fay.id, [face(70)], at=moment)
    service.award(kept, now=moment)
    PeriodCloser(SmileSettings()).close(service_period(moment), now=moment + timedelta(days=7))
    # A late analysis of that week earns in the open period of its arrival instead.
    late = analyzed(fay.id, [face(50)], at=moment)
    photo = service.award(late, now=moment + timedelta(days=7))
    assert photo.period_id == service_period(moment + timedelta(days=7))
    assert service.reverse(deleted(fay.id, kept.photo_id)) == "deleted"
    assert fay.call("GET", f"/v1/photos/{kept.photo_id}/smiles").json()["points"] == 7
    assert fay.call("GET", "/v1/smiles/me").json()["all"]["points"] == 7 + 5


def service_period(moment: datetime) -> str:
    from functions.smile_rank.periods import period_id

    return period_id(moment)


def test_ranking_orders_ties_stably_with_competition_ranks(db) -> None:  # noqa: ANN001
    moment = isolated_week()
    service = SmileService(SmileSettings())
    users = [signup(f"rank{i}") for i in range(5)]
    for user, smile in zip(users, (50, 90, 50, 30, 90), strict=True):
        service.award(analyzed(user.id, [face(smile)], at=moment), now=moment)
    pages, cursor = [], None
    while True:
        page = service.ranking(users[0].id, "week", 2, cursor, now=moment)
        pages.append(page)
        cursor = page.next_cursor
        if cursor is None:
            break
    items = [i for p in pages for i in p.items]
    assert [len(p.items) for p in pages] == [2, 2, 1]
    assert [(i.rank, i.points) for i in items] == [(1, 9), (1, 9), (3, 5), (3, 5), (5, 3)]
    # Ties by user id, descending: the same order on every request.
    by_points = {
        9: sorted([users[1].id, users[4].id], reverse=True),
        5: sorted([users[0].id, users[2].id], reverse=True),
    }
    assert [i.display_name for i in items[:4]] == [
        signup_name(users, uid) for uid in by_points[9] + by_points[5]
    ]
    assert [i.is_me for i in items].count(True) == 1
    assert service.me(users[2].id, now=moment).week.rank == 3


def signup_name(users, user_id: str) -> str:  # noqa: ANN001
    index = [u.id for u in users].index(user_id)
    return f"Rank{index}"


@pytest.mark.parametrize(
    "query, status, slug",
    [
        ("period=year", 422, "validation-error"),
        ("limit=0", 422, "validation-error"),
        ("limit=101", 422, "validation-error"),
        ("cursor=%%%", 400, "invalid-cursor"),
        ("cursor=eyJzIjoibW9udGgifQ", 400, "invalid-cursor"),  # {"s":"month"} on the week ranking
    ],
)
def test_ranking_rejects_bad_parameters(db, query: str, status: int, slug: str) -> None:  # noqa: ANN001
    user = signup("params")
    response = user.call("GET", "/v1/smiles/ranking", query=query)
    assert response.status == status
    assert problem_type(response) == slug


def test_photo_smiles_are_only_visible_to_the_owner(db) -> None:  # noqa: ANN001
    owner, other = signup("owner"), signup("other")
    event = analyzed(owner.id, [face(77)])
    deliver((events.PhotoAnalyzed.detail_type, event))
    assert owner.call("GET", f"/v1/photos/{event.photo_id}/smiles").status == 200
    response = other.call("GET", f"/v1/photos/{event.photo_id}/smiles")
    assert response.status == 404
    assert problem_type(response) == "not-found"
    assert other.call("GET", f"/v1/photos/{uuid.uuid4()}/smiles").status == 404


@pytest.mark.parametrize(
    "method, path",
    [
        ("GET", "/v1/smiles/me"),
        ("GET", "/v1/smiles/ranking"),
        ("GET", "/v1/photos/x/smiles"),
        ("GET", "/v1/charities"),
        ("PUT", "/v1/me/charity"),
        ("GET", "/v1/donations/summary"),
        ("GET", "/v1/donations/statement"),
        ("POST", "/v1/admin/charities"),
    ],
)
def test_every_route_needs_a_token(db, method: str, path: str) -> None:  # noqa: ANN001
    response = call_api(method, path, json_body={})
    assert response.status == 401


def test_malformed_events_fail_and_go_to_the_dead_letter_queue(db) -> None:  # noqa: ANN001
    """Retrying cannot fix them, but dropping would hide them: they fail until SQS parks them."""
    batch = sqs_event(
        (events.PhotoAnalyzed.detail_type, {"photo_id": "x"}), ("SomethingElse", {"a": 1})
    )
    result = deliver_event(batch)
    assert result == {
        "batchItemFailures": [{"itemIdentifier": r["messageId"]} for r in batch["Records"]]
    }


def test_account_erasure_removes_smiles_and_ranks(db) -> None:  # noqa: ANN001
    from cheese_runtime.events import UserDeletionRequested

    moment = isolated_week()
    service = SmileService(SmileSettings())
    gone, stays = signup("gone"), signup("stays")
    service.award(analyzed(gone.id, [face(100)], at=moment), now=moment)
    service.award(analyzed(stays.id, [face(50)], at=moment), now=moment)
    assert service.me(stays.id, now=moment).week.rank == 2
    deliver(
        (
            events.UserDeletionRequested.detail_type,
            UserDeletionRequested(user_id=gone.id, requested_at=moment.isoformat()),
        )
    )
    assert service.me(stays.id, now=moment).week.rank == 1
    assert service.me(gone.id, now=moment).all.points == 0
    assert [i.points for i in service.ranking(stays.id, "week", 10, None, now=moment).items] == [5]
