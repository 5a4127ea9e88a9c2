"""Request and response models of the smile ranking and donations API."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

from pydantic import AfterValidator, BaseModel, Field

from cheese_runtime.inputs import Id, InputModel, MultilineText, Name
from functions.smile_rank.models import PhotoStatus

RankingScope = Literal["week", "month", "all"]
CounterpartyKind = Literal["sponsor_pool", "charity"]
# The ledger accounts a user's statement names as the other side of an entry.
COUNTERPARTY_KINDS: dict[str, CounterpartyKind] = {
    "sponsor_pool": "sponsor_pool",
    "charity": "charity",
}


class PeriodOut(BaseModel):
    id: str
    starts_at: datetime
    ends_at: datetime


class ScopeStanding(BaseModel):
    key: str
    points: int
    # Competition rank ("1224"): 1 + the users with more points; None without points.
    rank: int | None


class MySmiles(BaseModel):
    period: PeriodOut
    # Points and rank this period (ISO week), this month and all time.
    week: ScopeStanding
    month: ScopeStanding
    all: ScopeStanding
    today_points: int
    daily_cap: int


class RankingEntry(BaseModel):
    rank: int
    display_name: str
    points: int
    is_me: bool


class RankingPage(BaseModel):
    period: RankingScope
    key: str
    items: list[RankingEntry]
    next_cursor: str | None = None


class FaceSmile(BaseModel):
    face_id: str
    smile: float | None
    is_me: bool
    usable: bool
    points: int


class PhotoSmiles(BaseModel):
    photo_id: str
    status: PhotoStatus
    # Points the photo earned (after the photo and daily caps); 0 once reversed.
    points: int
    period_id: str | None
    duplicate_of: str | None = None
    faces: list[FaceSmile]


class CharityIn(InputModel):
    name: Annotated[Name, Field(max_length=128)]
    description: Annotated[MultilineText, AfterValidator(str.strip), Field(max_length=2000)] = ""


class CharityOut(BaseModel):
    id: str
    name: str
    description: str


class CharityPage(BaseModel):
    items: list[CharityOut]
    next_cursor: str | None = None


class CharityChoiceIn(InputModel):
    charity_id: Id


class MyCharity(BaseModel):
    # The charity of the current period (None: my points this period donate nothing).
    current: CharityOut | None
    current_period: str
    # The latest choice and the period it applies from.
    chosen: CharityOut | None
    effective_from: str | None


class Amount(BaseModel):
    currency: str
    amount_minor: int


class CharityTotal(BaseModel):
    charity_id: str
    name: str
    currency: str
    amount_minor: int


class DonationSummary(BaseModel):
    charities: list[CharityTotal]
    # What my smiles gave, per charity, and in total per currency.
    mine: list[CharityTotal]
    my_totals: list[Amount]


class StatementEntry(BaseModel):
    transaction_id: str
    period_id: str | None
    posted_at: datetime
    entry_no: int
    # On my pledge account: + pledged by the sponsor for my points, − paid to my charity.
    amount_minor: int
    currency: str
    counterparty_kind: CounterpartyKind
    counterparty_id: str
    counterparty_name: str
    memo: str


class Statement(BaseModel):
    items: list[StatementEntry]
    next_cursor: str | None = None


class PeriodSettingsIn(InputModel):
    budget_minor: int = Field(ge=0, le=10**15)
    rate_minor_per_point: int = Field(ge=0, le=10**9)
    currency: str = Field(default="KRW", pattern=r"^[A-Z]{3}$")


class PeriodAdminOut(BaseModel):
    id: str
    starts_at: datetime
    ends_at: datetime
    status: Literal["open", "closing", "closed"]
    currency: str
    budget_minor: int
    rate_minor_per_point: int
    participants: int | None
    total_points: int | None
    allocated_minor: int | None
    budget_bound: bool | None
    closed_at: datetime | None


class CloseResult(BaseModel):
    period: PeriodAdminOut
    # Ledger transactions this run posted (0 on a re-run of a closed period).
    posted_now: int
    # False when the run stopped at its time budget: call again to continue.
    complete: bool
