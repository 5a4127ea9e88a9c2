"""Routes of the smile_rank function: smiles, ranking, charities, donations, and their admin."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Path, Query, status

from cheese_runtime import resources
from cheese_runtime.errors import PROBLEM_CONTENT_TYPE, ProblemMap
from cheese_runtime.http import AdminPrincipal, CurrentPrincipal, create_app, declared_routes
from cheese_runtime.inputs import PathId
from functions.smile_rank.close import PeriodCloser
from functions.smile_rank.config import SmileSettings, get_smile_settings
from functions.smile_rank.errors import CharityExists, InvalidPeriod, PeriodClosed, PeriodNotEnded
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
    RankingScope,
    Statement,
)
from functions.smile_rank.service import (
    CharityService,
    DonationService,
    PeriodAdminService,
    SmileService,
)

# Every refusal of the smile_rank services, as the HTTP status a client gets
# (PhotoNotFound and CharityNotFound are ResourceNotFound: 404 for every function).
ERRORS: ProblemMap = {
    CharityExists: 409,
    PeriodClosed: 409,
    PeriodNotEnded: 409,
    InvalidPeriod: 422,
}

app = create_app(
    "Cheese smiles",
    "Smile points, the ranking between users, charities and the donation ledger.",
    errors=ERRORS,
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


async def smile_settings() -> SmileSettings:
    return get_smile_settings()


CurrentSmileSettings = Annotated[SmileSettings, Depends(smile_settings)]


# The services hold nothing but their settings: one per request costs nothing.
async def smile_service(settings: CurrentSmileSettings) -> SmileService:
    return SmileService(settings)


async def charity_service(settings: CurrentSmileSettings) -> CharityService:
    return CharityService(settings)


async def donation_service(settings: CurrentSmileSettings) -> DonationService:
    return DonationService(settings)


async def period_service(settings: CurrentSmileSettings) -> PeriodAdminService:
    return PeriodAdminService(settings)


async def period_closer(settings: CurrentSmileSettings) -> PeriodCloser:
    return PeriodCloser(settings)


Smiles = Annotated[SmileService, Depends(smile_service)]
Charities = Annotated[CharityService, Depends(charity_service)]
Donations = Annotated[DonationService, Depends(donation_service)]
Periods = Annotated[PeriodAdminService, Depends(period_service)]
Closer = Annotated[PeriodCloser, Depends(period_closer)]


# The two hot reads are ``async def`` on purpose: a Lambda container serves one
# request at a time, so running their short blocking queries on the event loop
# costs nothing, while a sync route is handed to a worker thread (which, with
# Mangum's per-invocation loop, is a new thread per request).
@route("getMySmiles", response_model=MySmiles, responses=PROBLEMS, tags=["smiles"])
async def my_smiles(principal: CurrentPrincipal, smiles: Smiles) -> MySmiles:
    return smiles.me(principal.user_id)


@route("getSmileRanking", response_model=RankingPage, responses=PROBLEMS, tags=["smiles"])
async def ranking(
    principal: CurrentPrincipal,
    smiles: Smiles,
    period: RankingScope = "week",
    limit: Limit = 20,
    cursor: Cursor = None,
) -> RankingPage:
    return smiles.ranking(principal.user_id, period, limit, cursor)


@route("getPhotoSmiles", response_model=PhotoSmiles, responses=PROBLEMS, tags=["smiles"])
def photo_smiles(
    principal: CurrentPrincipal,
    smiles: Smiles,
    photo_id: PathId,
) -> PhotoSmiles:
    return smiles.photo_smiles(principal.user_id, photo_id)


@route("listCharities", response_model=CharityPage, responses=PROBLEMS, tags=["charities"])
def list_charities(
    principal: CurrentPrincipal, charities: Charities, limit: Limit = 50, cursor: Cursor = None
) -> CharityPage:
    return charities.list(limit, cursor)


@route("getMyCharity", response_model=MyCharity, responses=PROBLEMS, tags=["charities"])
def my_charity(principal: CurrentPrincipal, charities: Charities) -> MyCharity:
    return charities.mine(principal.user_id)


@route("chooseMyCharity", response_model=MyCharity, responses=PROBLEMS, tags=["charities"])
def choose_charity(
    principal: CurrentPrincipal, charities: Charities, body: CharityChoiceIn
) -> MyCharity:
    return charities.choose(principal.user_id, body.charity_id)


@route("getDonationSummary", response_model=DonationSummary, responses=PROBLEMS, tags=["donations"])
def donation_summary(principal: CurrentPrincipal, donations: Donations) -> DonationSummary:
    return donations.summary(principal.user_id)


@route("getDonationStatement", response_model=Statement, responses=PROBLEMS, tags=["donations"])
def donation_statement(
    principal: CurrentPrincipal,
    donations: Donations,
    period: Annotated[str | None, Query(min_length=8, max_length=8)] = None,
    limit: Limit = 50,
    cursor: Cursor = None,
) -> Statement:
    return donations.statement(principal.user_id, period, limit, cursor)


@route(
    "createCharity",
    status_code=status.HTTP_201_CREATED,
    response_model=CharityOut,
    responses=PROBLEMS,
    tags=["admin"],
)
def create_charity(principal: AdminPrincipal, charities: Charities, body: CharityIn) -> CharityOut:
    return charities.create(body)


@route(
    "getPeriod",
    response_model=PeriodAdminOut,
    responses=PROBLEMS,
    tags=["admin"],
)
def get_period(principal: AdminPrincipal, periods: Periods, period_id: PeriodId) -> PeriodAdminOut:
    return periods.get(period_id)


@route(
    "configurePeriod",
    response_model=PeriodAdminOut,
    responses=PROBLEMS,
    tags=["admin"],
)
def configure_period(
    principal: AdminPrincipal, periods: Periods, period_id: PeriodId, body: PeriodSettingsIn
) -> PeriodAdminOut:
    return periods.configure(period_id, body)


@route(
    "closePeriod",
    response_model=CloseResult,
    responses=PROBLEMS,
    tags=["admin"],
)
def close_period(principal: AdminPrincipal, closer: Closer, period_id: PeriodId) -> CloseResult:
    """Close (or finish closing, or re-run) an ended period; safe to call any number of times."""
    return closer.close(period_id, time_budget_seconds=ADMIN_CLOSE_TIME_BUDGET_SECONDS)
