"""Settings of the focus pools (environment prefix ``CHEESE_POOL_``): presence timings,
focus scoring and limits. Resource names (tables, bucket, the @connections
endpoint) are shared and stay in ``cheese_runtime.settings.Settings``."""

from __future__ import annotations

from pydantic import Field
from pydantic_settings import SettingsConfigDict

from cheese_runtime.settings import FunctionSettings, settings_getter


class PoolSettings(FunctionSettings):
    model_config = SettingsConfigDict(env_prefix="CHEESE_POOL_")

    # No heartbeat for this long: away.
    away_after_seconds: float = Field(default=30, gt=0)
    # A dropped member keeps the seat this long.
    grace_seconds: float = Field(default=60, ge=0)
    # Idle this long: the connection is checked (410 frees the seat).
    stale_after_seconds: float = Field(default=600, gt=0)
    # Heartbeats faster than this answer rate_limited.
    focus_min_interval_seconds: float = Field(default=1.0, ge=0)
    # A score at or above this counts as focused.
    focus_threshold: int = Field(default=60, ge=0, le=100)
    max_message_bytes: int = Field(default=4096, ge=256, le=131072)
    # Non-heartbeat frames per connection per window.
    rate_limit_messages: int = Field(default=30, ge=1)
    rate_limit_window_seconds: int = Field(default=10, ge=1)
    max_capacity: int = Field(default=200, ge=2)
    avatar_max_bytes: int = Field(default=256 * 1024, ge=1024)
    avatar_url_seconds: int = Field(default=300, ge=10)
    broadcast_threads: int = Field(default=16, ge=1, le=128)


get_pool_settings = settings_getter(PoolSettings)
