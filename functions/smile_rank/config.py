"""Settings of the smile ranking and donations (environment prefix ``CHEESE_SMILE_``)."""

from __future__ import annotations

from pydantic import Field
from pydantic_settings import SettingsConfigDict

from cheese_runtime.settings import FunctionSettings, settings_getter


class SmileSettings(FunctionSettings):
    model_config = SettingsConfigDict(env_prefix="CHEESE_SMILE_")

    # Points of a face: round(smile / 10), 0–10; the face marked "me" counts ``me_weight`` times.
    me_weight: int = Field(default=2, ge=1, le=10)
    # At most this many points from one photo (a crowd shot is not a jackpot).
    photo_cap: int = Field(default=50, ge=1)
    # At most this many points per user per UTC day.
    daily_cap: int = Field(default=200, ge=1)
    # Two photos of a user are near-duplicates when their 64-bit dHashes differ
    # in at most this many bits and they show the same people.
    near_duplicate_bits: int = Field(default=6, ge=0, le=16)

    # Defaults of a period nobody configured (amounts in integer minor units).
    currency: str = Field(default="KRW", pattern=r"^[A-Z]{3}$")
    # Sponsor budget per weekly period: 1,000,000 KRW.
    default_budget_minor: int = Field(default=1_000_000, ge=0)
    # 10 KRW per smile point.
    default_rate_minor_per_point: int = Field(default=10, ge=0)

    # Users per database transaction when a period close posts its entries (≤ 1000:
    # a batch's entries go in one INSERT statement).
    close_batch_size: int = Field(default=1000, ge=1, le=1000)


get_smile_settings = settings_getter(SmileSettings)
