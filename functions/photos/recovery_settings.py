"""How long photo work may sit before the reconciler steps in (environment prefix ``CHEESE_PHOTOS_``)."""

from __future__ import annotations

from pydantic import Field
from pydantic_settings import SettingsConfigDict

from cheese_runtime.settings import FunctionSettings, settings_getter


class RecoverySettings(FunctionSettings):
    model_config = SettingsConfigDict(env_prefix="CHEESE_PHOTOS_")

    # A photo pending or processing this long is re-driven. Longer than SQS's own retries of
    # the analysis (visibility 6 × 120 s), so that the reconciler only picks up lost work.
    stuck_after_seconds: float = Field(default=900, gt=0)
    # An anonymised view rendering this long is re-driven (the renderer runs ≤ 60 s).
    render_stuck_after_seconds: float = Field(default=300, gt=0)
    # Re-drives per photo or view before it ends failed ("analysis-stuck", "render-stuck").
    max_redrives: int = Field(default=3, ge=0)
    # Photos and views looked at per run, oldest first (the next run takes the rest).
    batch_size: int = Field(default=200, ge=1)


get_recovery_settings = settings_getter(RecoverySettings)
