"""Settings: one way to declare them, for the shared ones and for each function's own.

Every value comes from the environment so that the same code reads its
configuration in Lambda (set by the CDK stack) and locally (set by the local
stack). Defaults are the local ones.

The pattern, chosen over one central class for everything or hand-read
environment variables:

- What several functions, the local stack or the CDK app read (resource
  names, tokens, the database) is :class:`Settings` (prefix ``CHEESE_``):
  the CDK app passes exactly these fields (``infra/settings_env.py``).
- A function's own knobs are its own class, a :class:`FunctionSettings`
  subclass with the prefix ``CHEESE_<FUNCTION>_`` in ``functions/<name>/``
  (``AuthSettings``, ``PoolSettings``, ``SmileSettings``, ``ImportSettings``): the function documents and
  validates them next to the code that reads them, and no other function
  imports them.
- Each class is read once per process by a getter made with
  :func:`settings_getter` (an ``lru_cache``); :func:`reload_settings` clears
  every getter, for tests and the local stack that change the environment.
- Settings are frozen, so they are hashable by value: a service built from
  them can be cached per settings value (``lru_cache`` on a function of the
  settings), and a test that reloads settings gets a new service.
- Routes receive settings and services as FastAPI dependencies
  (``Annotated[Settings, Depends(get_settings)]``), which tests may override.
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING, TypeVar

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

from cheese_runtime import resources

if TYPE_CHECKING:
    from functools import _lru_cache_wrapper


def default_data_dir() -> Path:
    return Path.cwd() / ".cheese"


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="CHEESE_", extra="ignore", frozen=True)

    stage: str = "local"
    region: str = "us-east-1"
    data_dir: Path = Field(default_factory=default_data_dir)
    # SQLAlchemy URL. Unset: a SQLite file in the data directory. In AWS the
    # stack sets DATABASE_SECRET_ARN instead and the URL is built from it.
    database_url: str | None = Field(default=None, validation_alias="DATABASE_URL")
    database_secret_arn: str | None = None
    database_proxy_host: str | None = None

    # Names of AWS resources; the CDK stack passes the deployed names.
    throttle_table: str = resources.THROTTLE_TABLE.name
    event_bus_name: str = resources.EVENT_BUS
    signing_keys_secret: str = resources.SIGNING_KEYS_SECRET
    jwks_parameter: str = resources.JWKS_PARAMETER
    photos_bucket: str = resources.PHOTOS_BUCKET
    # Focus pools (functions/pool/README.md).
    pools_table: str = resources.POOLS_TABLE.name
    pool_connections_table: str = resources.POOL_CONNECTIONS_TABLE.name
    focus_table: str = resources.FOCUS_TABLE.name
    # Live anonymisation's engine state (functions/video/live_state.py).
    live_state_table: str = resources.LIVE_STATE_TABLE.name
    # The WebSocket API's @connections endpoint:
    # https://{api-id}.execute-api.{region}.amazonaws.com/{stage} (locally the stack's base URL).
    websocket_endpoint: str | None = None

    # Tokens.
    jwt_issuer: str = "https://auth.cheese.local"
    jwt_audience: str = "cheese-app"
    access_token_ttl_seconds: int = Field(default=900, ge=60, le=3600)
    # Clock skew tolerated when checking exp/nbf/iat.
    jwt_leeway_seconds: int = Field(default=30, ge=0, le=300)
    # How long a verifier trusts its "not revoked" answer for a session (at most 60 s).
    revocation_cache_seconds: float = Field(default=30, ge=0, le=60)
    # How long the verifier caches the published public keys.
    jwks_cache_seconds: int = Field(default=300, ge=0)

    # Photos and people.
    max_upload_bytes: int = Field(default=20 * 1024 * 1024, ge=1024)
    upload_url_seconds: int = Field(default=900, ge=60, le=3600)
    download_url_seconds: int = Field(default=300, ge=30, le=3600)
    # "local" (our embeddings in the database) or "rekognition" (one collection per deployment).
    face_index_backend: str = Field(default="local", pattern="^(local|rekognition)$")
    rekognition_collection_id: str = "cheese-faces"

    # Videos (functions/video): longer than this are cut into chunks of about
    # video_chunk_seconds, anonymised in parallel (one Lambda does ~9 min of 720p in 15).
    video_chunk_after_seconds: float = Field(default=120.0, gt=0)
    video_chunk_seconds: float = Field(default=60.0, gt=0)

    @property
    def sqlalchemy_url(self) -> str:
        if self.database_url:
            return normalise_database_url(self.database_url)
        return f"sqlite:///{self.data_dir / 'cheese.db'}"


def normalise_database_url(url: str) -> str:
    """Accept the libpq-style ``postgresql://`` URL and pick the psycopg2 driver."""
    if url.startswith("postgres://"):
        url = "postgresql://" + url[len("postgres://") :]
    if url.startswith("postgresql://"):
        url = "postgresql+psycopg2://" + url[len("postgresql://") :]
    return url


class FunctionSettings(BaseSettings):
    """Base of a function's own settings; a subclass sets ``env_prefix="CHEESE_<FUNCTION>_"``."""

    model_config = SettingsConfigDict(extra="ignore", frozen=True)


AnySettings = TypeVar("AnySettings", bound=BaseSettings)
_GETTERS: list[_lru_cache_wrapper[BaseSettings]] = []


def settings_getter(cls: type[AnySettings]) -> _lru_cache_wrapper[AnySettings]:
    """The process-wide instance of ``cls``, read from the environment on first use."""

    @lru_cache(maxsize=1)
    def get() -> AnySettings:
        return cls()

    _GETTERS.append(get)
    return get


def reload_settings() -> None:
    """Read every settings class from the environment again on next use."""
    for getter in _GETTERS:
        getter.cache_clear()


get_settings = settings_getter(Settings)
