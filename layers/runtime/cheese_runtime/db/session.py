"""Engine and sessions, created once per process (reused across Lambda invocations)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from functools import cache
from typing import TYPE_CHECKING, Any, cast
from urllib.parse import quote

from sqlalchemy import Connection, Engine, create_engine, event
from sqlalchemy.engine.interfaces import DBAPIConnection
from sqlalchemy.pool import ConnectionPoolEntry

from cheese_runtime.settings import Settings, get_settings

if TYPE_CHECKING:
    from sqlalchemy import CursorResult, Result
    from sqlalchemy.orm import Session, sessionmaker


def database_url(settings: Settings) -> str:
    """The URL from settings, or built from the RDS secret in AWS."""
    if settings.database_url or not settings.database_secret_arn:
        return settings.sqlalchemy_url
    from cheese_runtime.parameters import get_secret

    secret = json.loads(get_secret(settings.database_secret_arn, max_age=3600))
    host = settings.database_proxy_host or secret["host"]
    return (
        f"postgresql+psycopg2://{quote(secret['username'])}:{quote(secret['password'])}"
        f"@{host}:{secret.get('port', 5432)}/{secret.get('dbname', 'cheese')}?sslmode=require"
    )


def build_engine(url: str) -> Engine:
    if url.startswith("sqlite"):
        engine = create_engine(url, connect_args={"check_same_thread": False, "timeout": 30})

        @event.listens_for(engine, "connect")
        def _sqlite_pragmas(
            dbapi_connection: DBAPIConnection, _record: ConnectionPoolEntry
        ) -> None:
            cursor = dbapi_connection.cursor()
            cursor.execute("PRAGMA foreign_keys=ON")
            cursor.execute("PRAGMA journal_mode=WAL")
            cursor.execute("PRAGMA busy_timeout=30000")
            cursor.close()

        return engine
    # One Lambda handles one request at a time: a small pool; RDS Proxy multiplexes.
    return create_engine(
        url,
        pool_size=2,
        max_overflow=8,
        pool_pre_ping=True,
        pool_recycle=300,
        json_serializer=json.dumps,
    )


@cache
def get_engine() -> Engine:
    return build_engine(database_url(get_settings()))


@cache
def _session_factory() -> sessionmaker[Session]:
    # The ORM is imported by the first unit of work, not with this module: the token
    # check reads revocations in core SQL, and a function that needs no more (pool keeps
    # its data in DynamoDB) should not pay the ~30 ms of importing the ORM.
    from sqlalchemy.orm import sessionmaker

    return sessionmaker(get_engine(), expire_on_commit=False)


@contextmanager
def session_scope() -> Iterator[Session]:
    """A unit of work: committed on success, rolled back on any error."""
    session = _session_factory()()
    try:
        yield session
        session.commit()
    except BaseException:
        session.rollback()
        raise
    finally:
        session.close()


@contextmanager
def read_scope() -> Iterator[Connection]:
    """A read-only connection in autocommit mode: no BEGIN and COMMIT round trips, no ORM.

    For hot reads of one statement (or where statements need not share a snapshot).
    """
    with get_engine().connect() as connection:
        yield connection.execution_options(isolation_level="AUTOCOMMIT")


def reset_engine() -> None:
    """Drop the cached engine (tests and the local stack switch databases)."""
    if get_engine.cache_info().currsize:
        get_engine().dispose()
    get_engine.cache_clear()
    _session_factory.cache_clear()


def rowcount(result: Result[Any]) -> int:
    """The rows an UPDATE or DELETE matched: ``execute`` is typed as returning a
    Result, and what a DML statement returns is a CursorResult."""
    return cast("CursorResult[Any]", result).rowcount
