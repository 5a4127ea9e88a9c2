"""Settings of the auth function (environment prefix ``CHEESE_AUTH_``): password hashing,
login throttling and refresh tokens. What every verifier reads (issuer, audience,
access-token lifetime, key and revocation caches) stays in the shared
``cheese_runtime.settings.Settings``."""

from __future__ import annotations

from pydantic import Field
from pydantic_settings import SettingsConfigDict

from cheese_runtime.settings import FunctionSettings, settings_getter


class AuthSettings(FunctionSettings):
    model_config = SettingsConfigDict(env_prefix="CHEESE_AUTH_")

    refresh_token_ttl_seconds: int = Field(default=30 * 24 * 3600, ge=3600)
    # A used refresh token presented again this soon (a retry) returns the same new pair.
    refresh_reuse_grace_seconds: int = Field(default=30, ge=0, le=300)

    # argon2id (RFC 9106 second recommended option: t=3, m=64 MiB, p=4).
    argon2_time_cost: int = Field(default=3, ge=1)
    argon2_memory_kib: int = Field(default=65536, ge=8192)
    argon2_parallelism: int = Field(default=4, ge=1)

    # Login throttling (functions/auth/throttle.py): failures are forgotten this
    # long after the last one; past the free failures a client waits
    # base·2^k seconds (capped) per further attempt, per account and overall;
    # an account failing from everywhere answers everyone a little later.
    login_window_seconds: int = Field(default=900, ge=60)
    login_free_failures_per_account_client: int = Field(default=5, ge=1)
    login_free_failures_per_client: int = Field(default=50, ge=1)
    login_backoff_base_seconds: float = Field(default=1.0, gt=0)
    login_backoff_max_seconds: float = Field(default=900.0, gt=0)
    login_account_slowdown_after: int = Field(default=20, ge=1)
    login_account_slowdown_seconds: float = Field(default=1.0, ge=0, le=5)


get_auth_settings = settings_getter(AuthSettings)
