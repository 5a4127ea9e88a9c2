"""Routes of the smile_rank function: smiles, ranking, charities, donations, and their admin."""

from __future__ import annotations

from functools import cache
from typing import Annotated, Literal

from fastapi import Path, Query, status

from cheese_runtime import resources
from cheese_runtime.errors import PROBLEM_CONTENT_TYPE
from cheese_runtime.http import AdminPrincipal, CurrentPrincipal, create_app, declared_routes
from functions.smile_rank.close import PeriodCloser
from functions.smile_rank.config import get_smile_settings
from functions.smile_rank.schemas import (
    CharityChoiceIn,
    CharityIn,
    CharityOut,
    CharityPage,
    CloseResult,
    DonationSummary,
    MyCharity,
    MySmiles,
    PeriodAdminOut,
    PeriodSettingsIn,
    PhotoSmiles,
    RankingPage,
    Statement,
)
from functions.smile_rank.service import (
    CharityService,
    DonationService,
    PeriodAdminService,
    SmileService,
)

app = create_app(
    "Cheese smiles", "Smile points, the ranking between users, charities and the donation ledger."
)
route = declared_routes(app, resources.SMILE_RANK)

# An admin close runs this long, then answers (complete: false); calling again continues.
ADMIN_CLOSE_TIME_BUDGET_SECONDS = 20.0

PROBLEMS = {
    code: {"description": description, "content": {PROBLEM_CONTENT_TYPE: {}}}
    for code, description in {
        400: "Invalid cursor",
        401: "Not authenticated",
        403: "Admin role required",
        404: "Not found (or not yours)",
        409: "Conflict",
        422: "Validation failed",
    }.items()
}

Limit = Annotated[int, Query(ge=1, le=100)]
Cursor = Annotated[str | None, Query(max_length=512)]
PeriodId = Annotated[str, Path(min_length=8, max_length=8, description="ISO week, e.g. 2026-W47")]


@cache
def smiles() -> SmileService:
    return SmileService(get_smile_settings())


@cache
def charities() -> CharityService:
    return CharityService(get_smile_settings())


@cache
def donations() -> DonationService:
    return DonationService(get_smile_settings())


@cache
def periods() -> PeriodAdminService:
    return PeriodAdminService(get_smile_settings())


# The two hot reads are ``async def`` on purpose: a Lambda container serves one
# request at a time, so running their short blocking queries on the event loop
# costs nothing, while a sync route is handed to a worker thread (which, with
# Mangum's per-invocation loop, is a new thread per request).
@route("getMySmiles", response_model=MySmiles, responses=PROBLEMS, tags=["smiles"])
async def my_smiles(principal: CurrentPrincipal) -> MySmiles:
    return smiles().me(principal.user_id)


@route("getSmileRanking", response_model=RankingPage, responses=PROBLEMS, tags=["smiles"])
async def ranking(
    principal: CurrentPrincipal,
    period: Literal["week", "month", "all"] = "week",
    limit: Limit = 20,
    cursor: Cursor = None,
) -> RankingPage:
    return smiles().ranking(principal.user_id, period, limit, cursor)


@route("getPhotoSmiles", response_model=PhotoSmiles, responses=PROBLEMS, tags=["smiles"])
def photo_smiles(
    principal: CurrentPrincipal, photo_id: Annotated[str, Path(min_length=1, max_length=64)]
) -> PhotoSmiles:
    return smiles().photo_smiles(principal.user_id, photo_id)


@route("listCharities", response_model=CharityPage, responses=PROBLEMS, tags=["charities"])
def list_charities(
    principal: CurrentPrincipal, limit: Limit = 50, cursor: Cursor = None
) -> CharityPage:
    return charities().list(limit, cursor)


@route("getMyCharity", response_model=MyCharity, responses=PROBLEMS, tags=["charities"])
def my_charity(principal: CurrentPrincipal) -> MyCharity:
    return charities().mine(principal.user_id)


@route("chooseMyCharity", response_model=MyCharity, responses=PROBLEMS, tags=["charities"])
def choose_charity(principal: CurrentPrincipal, body: CharityChoiceIn) -> MyCharity:
    return charities().choose(principal.user_id, body.charity_id)


@route("getDonationSummary", response_model=DonationSummary, responses=PROBLEMS, tags=["donations"])
def donation_summary(principal: CurrentPrincipal) -> DonationSummary:
    return donations().summary(principal.user_id)


@route("getDonationStatement", response_model=Statement, responses=PROBLEMS, tags=["donations"])
def donation_statement(
    principal: CurrentPrincipal,
    period: Annotated[str | None, Query(min_length=8, max_length=8)] = None,
    limit: Limit = 50,
    cursor: Cursor = None,
) -> Statement:
    return donations().statement(principal.user_id, period, limit, cursor)


@route(
    "createCharity",
    status_code=status.HTTP_201_CREATED,
    response_model=CharityOut,
    responses=PROBLEMS,
    tags=["admin"],
)
def create_charity(principal: AdminPrincipal, body: CharityIn) -> CharityOut:
    return charities().create(body)


@route(
    "getPeriod",
    response_model=PeriodAdminOut,
    responses=PROBLEMS,
    tags=["admin"],
)
def get_period(principal: AdminPrincipal, period_id: PeriodId) -> PeriodAdminOut:
    return periods().get(period_id)


@route(
    "configurePeriod",
    response_model=PeriodAdminOut,
    responses=PROBLEMS,
    tags=["admin"],
)
def configure_period(
    principal: AdminPrincipal, period_id: PeriodId, body: PeriodSettingsIn
) -> PeriodAdminOut:
    return periods().configure(period_id, body)


@route(
    "closePeriod",
    response_model=CloseResult,
    responses=PROBLEMS,
    tags=["admin"],
)
def close_period(principal: AdminPrincipal, period_id: PeriodId) -> CloseResult:
    """Close (or finish closing, or re-run) an ended period; safe to call any number of times."""
    return PeriodCloser(get_smile_settings()).close(
        period_id, time_budget_seconds=ADMIN_CLOSE_TIME_BUDGET_SECONDS
    )
