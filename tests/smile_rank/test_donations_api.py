"""Charities, the charity choice, admin operations and a period close seen through the API."""

from __future__ import annotations

import itertools
import uuid
from datetime import UTC, datetime, timedelta

import pytest

from cheese_runtime import events
from cheese_runtime.db.session import session_scope
from functions.smile_rank.dal import CharityRepository
from functions.smile_rank.periods import next_period, parse_period, period_id
from tests.conftest import signup
from tests.smile_rank.helpers import analyzed, deliver, face, make_admin
from tests.smile_rank.test_smiles_api import problem_type

_years = itertools.count(2001)


def past_period() -> tuple[str, datetime]:
    """A long-ended period of its own (and a moment inside it)."""
    pid = f"{next(_years)}-W20"
    start, _ = parse_period(pid)
    return pid, start + timedelta(days=3)


@pytest.fixture(scope="module")
def admin(backend):  # noqa: ANN001, ANN201
    user = signup("admin")
    make_admin(user)
    return user


def new_charity(admin, name: str | None = None) -> dict:  # noqa: ANN001
    response = admin.call(
        "POST",
        "/v1/admin/charities",
        json_body={"name": name or f"Charity {uuid.uuid4().hex[:8]}", "description": "Good."},
    )
    assert response.status == 201, response.body
    return response.json()


def test_admin_operations_need_the_admin_role(db, admin) -> None:  # noqa: ANN001
    user = signup("plain")
    for method, path, body in [
        ("POST", "/v1/admin/charities", {"name": "X"}),
        ("GET", "/v1/admin/periods/2020-W01", None),
        ("PUT", "/v1/admin/periods/2020-W01", {"budget_minor": 1, "rate_minor_per_point": 1}),
        ("POST", "/v1/admin/periods/2020-W01/close", None),
    ]:
        response = user.call(method, path, json_body=body)
        assert response.status == 403, (method, path)
        assert problem_type(response) == "admin-required"


def test_charities_are_created_listed_and_unique(db, admin) -> None:  # noqa: ANN001
    name = f"Smile Trust {uuid.uuid4().hex[:6]}"
    created = new_charity(admin, name)
    again = admin.call("POST", "/v1/admin/charities", json_body={"name": name})
    assert again.status == 409 and problem_type(again) == "charity-exists"
    assert admin.call("POST", "/v1/admin/charities", json_body={"name": "  "}).status == 422
    user = signup("lister")
    seen, cursor = [], None
    while True:
        page = user.call(
            "GET", "/v1/charities", query="limit=2" + (f"&cursor={cursor}" if cursor else "")
        ).json()
        seen += page["items"]
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert created in seen
    assert [c["name"] for c in seen] == sorted(c["name"] for c in seen)


def test_a_charity_choice_applies_from_the_next_period(db, admin) -> None:  # noqa: ANN001
    first, second = new_charity(admin), new_charity(admin)
    user = signup("chooser")
    assert user.call("GET", "/v1/me/charity").json()["current"] is None
    chosen = user.call("PUT", "/v1/me/charity", json_body={"charity_id": first["id"]})
    assert chosen.status == 200
    body = chosen.json()
    this_period = period_id(datetime.now(UTC))
    assert body["current"] is None
    assert body["chosen"]["id"] == first["id"]
    assert body["effective_from"] == next_period(this_period)
    # Changing one's mind within the period replaces the pending choice.
    body = user.call("PUT", "/v1/me/charity", json_body={"charity_id": second["id"]}).json()
    assert body["chosen"]["id"] == second["id"]
    unknown = user.call("PUT", "/v1/me/charity", json_body={"charity_id": str(uuid.uuid4())})
    assert unknown.status == 404
    assert user.call("PUT", "/v1/me/charity", json_body={}).status == 422


def test_period_close_pays_the_chosen_charities_once(db, admin) -> None:  # noqa: ANN001
    charity_a, charity_b = new_charity(admin), new_charity(admin)
    pid, moment = past_period()
    ann, bob, cat, dan = (signup(n) for n in ("ann", "bob", "cat", "dan"))
    with session_scope() as session:
        charities = CharityRepository(session)
        charities.choose(ann.id, charity_a["id"], pid)
        charities.choose(bob.id, charity_b["id"], pid)
        charities.choose(cat.id, charity_a["id"], pid)
        # dan chose nothing: his points donate nothing.
    smiles = [(ann, 100), (ann, 100), (bob, 100), (cat, 30), (dan, 90)]
    deliver(
        *[
            (events.PhotoAnalyzed.detail_type, analyzed(u.id, [face(s, is_me=True)], at=moment))
            for u, s in smiles
        ]
    )
    # 40 + 20 + 6 = 66 points at 100 per point = 6,600 > the budget of 1,000: pro-rated.
    configured = admin.call(
        "PUT",
        f"/v1/admin/periods/{pid}",
        json_body={"budget_minor": 1000, "rate_minor_per_point": 100, "currency": "KRW"},
    )
    assert configured.status == 200
    assert configured.json()["status"] == "open"

    closed = admin.call("POST", f"/v1/admin/periods/{pid}/close")
    assert closed.status == 200, closed.body
    result = closed.json()
    assert result["complete"] and result["posted_now"] == 3
    period = result["period"]
    assert (period["status"], period["participants"], period["total_points"]) == ("closed", 3, 66)
    assert (period["allocated_minor"], period["budget_bound"]) == (1000, True)
    # 1000·40/66 = 606.06, 1000·20/66 = 303.03, 1000·6/66 = 90.9 → 606 + 303 + 90 = 999; the
    # leftover unit goes to the largest remainder (cat's .9).
    statement = ann.call("GET", "/v1/donations/statement", query=f"period={pid}").json()["items"]
    assert [(e["amount_minor"], e["counterparty_kind"]) for e in statement] == [
        (606, "sponsor_pool"),
        (-606, "charity"),
    ]
    assert statement[1]["counterparty_id"] == charity_a["id"]
    assert statement[1]["counterparty_name"] == charity_a["name"]
    cat_summary = cat.call("GET", "/v1/donations/summary").json()
    assert cat_summary["mine"] == [
        {
            "charity_id": charity_a["id"],
            "name": charity_a["name"],
            "currency": "KRW",
            "amount_minor": 91,
        }
    ]
    assert cat_summary["my_totals"] == [{"currency": "KRW", "amount_minor": 91}]
    everyone = {c["charity_id"]: c["amount_minor"] for c in cat_summary["charities"]}
    assert everyone[charity_a["id"]] == 606 + 91 and everyone[charity_b["id"]] == 303
    assert dan.call("GET", "/v1/donations/statement").json()["items"] == []

    # Re-running the close posts nothing; the period is final.
    again = admin.call("POST", f"/v1/admin/periods/{pid}/close").json()
    assert again["posted_now"] == 0 and again["period"] == period
    late = admin.call(
        "PUT", f"/v1/admin/periods/{pid}", json_body={"budget_minor": 5, "rate_minor_per_point": 1}
    )
    assert late.status == 409 and problem_type(late) == "period-closed"
    assert admin.call("GET", f"/v1/admin/periods/{pid}").json() == period


def test_statements_are_private_and_paged(db, admin) -> None:  # noqa: ANN001
    charity = new_charity(admin)
    user, other = signup("pager"), signup("snoop")
    periods = [past_period() for _ in range(3)]
    with session_scope() as session:
        for pid, _ in periods:
            CharityRepository(session).choose(user.id, charity["id"], pid)
    for pid, moment in periods:
        deliver((events.PhotoAnalyzed.detail_type, analyzed(user.id, [face(50)], at=moment)))
        assert admin.call("POST", f"/v1/admin/periods/{pid}/close").status == 200
    items, cursor = [], None
    while True:
        page = user.call(
            "GET",
            "/v1/donations/statement",
            query="limit=1" + (f"&cursor={cursor}" if cursor else ""),
        ).json()
        items += page["items"]
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert [e["period_id"] for e in items] == sorted(
        [p for p, _ in periods for _ in (1, 2)], reverse=True
    )
    assert sum(e["amount_minor"] for e in items) == 0  # pledged, then paid out
    assert other.call("GET", "/v1/donations/statement").json()["items"] == []
    assert other.call("GET", "/v1/donations/summary").json()["mine"] == []


@pytest.mark.parametrize(
    "path, status, slug",
    [
        ("/v1/admin/periods/2026-W99/close", 422, "invalid-period"),
        ("/v1/admin/periods/nonsense/close", 422, "invalid-period"),
        ("/v1/admin/periods/2026-W1/close", 422, "validation-error"),
    ],
)
def test_close_rejects_bad_period_ids(db, admin, path: str, status: int, slug: str) -> None:  # noqa: ANN001
    response = admin.call("POST", path)
    assert response.status == status
    assert problem_type(response) == slug


def test_the_current_period_cannot_close_yet(db, admin) -> None:  # noqa: ANN001
    pid = period_id(datetime.now(UTC))
    response = admin.call("POST", f"/v1/admin/periods/{pid}/close")
    assert response.status == 409
    assert problem_type(response) == "period-not-ended"


def test_statement_rejects_a_bad_period(db) -> None:  # noqa: ANN001
    user = signup("badperiod")
    response = user.call("GET", "/v1/donations/statement", query="period=2026-X01")
    assert response.status == 422
    assert problem_type(response) == "invalid-period"


def test_the_scheduled_job_closes_ended_periods(db) -> None:  # noqa: ANN001
    """The EventBridge schedule's event: every ended period left open or half closed, and last week."""
    from cheese_local.gateway import invoke
    from functions.smile_rank.close import handler
    from functions.smile_rank.periods import previous_period

    pid, _ = past_period()
    scheduled = {
        "version": "0",
        "id": str(uuid.uuid4()),
        "detail-type": "Scheduled Event",
        "source": "aws.events",
        "account": "000000000000",
        "time": datetime.now(UTC).isoformat(),
        "region": "us-east-1",
        "resources": [],
        "detail": {},
    }
    # A manual run (aws lambda invoke --payload) closes the one period it names.
    one = invoke(handler, {"period_id": pid}, "smile-period-close")
    assert one["closed"][pid]["status"] == "closed"
    every = invoke(handler, scheduled, "smile-period-close")
    last_week = previous_period(period_id(datetime.now(UTC)))
    assert every["closed"][last_week]["status"] == "closed"
    assert all(result["status"] == "closed" for result in every["closed"].values())
