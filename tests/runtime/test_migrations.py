"""Alembic migrations run on SQLite and PostgreSQL and match every function's models."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import create_engine, inspect, text

from cheese_runtime.db import migrate
from cheese_runtime.settings import normalise_database_url

REPO_ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def scratch_postgres() -> str:
    """A throwaway schema on the test server, so the session's schema is untouched."""
    base = normalise_database_url(os.environ["TEST_DATABASE_URL"])
    engine = create_engine(base)
    with engine.begin() as conn:
        conn.execute(text("DROP SCHEMA IF EXISTS migration_check CASCADE"))
        conn.execute(text("CREATE SCHEMA migration_check"))
    engine.dispose()
    separator = "&" if "?" in base else "?"
    yield f"{base}{separator}options=-csearch_path%3Dmigration_check"
    engine = create_engine(base)
    with engine.begin() as conn:
        conn.execute(text("DROP SCHEMA IF EXISTS migration_check CASCADE"))
    engine.dispose()


def check_round_trip(url: str) -> None:
    migrate.upgrade(url)
    engine = create_engine(url)
    with engine.connect() as conn:
        diff = compare_metadata(MigrationContext.configure(conn), migrate.schema_metadata())
    assert diff == [], f"models and migrations disagree: {diff}"
    assert "users" in inspect(engine).get_table_names()
    engine.dispose()
    migrate.downgrade(url, "base")
    engine = create_engine(url)
    assert set(inspect(engine).get_table_names()) <= {"alembic_version"}
    engine.dispose()
    migrate.upgrade(url)


def test_migrations_round_trip_on_sqlite(tmp_path) -> None:  # noqa: ANN001
    check_round_trip(f"sqlite:///{tmp_path / 'migrations.db'}")


@pytest.mark.database
@pytest.mark.skipif(not os.environ.get("TEST_DATABASE_URL"), reason="TEST_DATABASE_URL not set")
def test_migrations_round_trip_on_postgresql(scratch_postgres: str) -> None:
    check_round_trip(scratch_postgres)


def test_every_function_models_module_is_compared() -> None:
    """A function's tables missing from MODEL_MODULES would escape the comparison above."""
    on_disk = {
        f"functions.{path.parent.name}.models"
        for path in (REPO_ROOT / "functions").glob("*/models.py")
    }
    assert on_disk == {m for m in migrate.MODEL_MODULES if m.startswith("functions.")}


def test_the_history_is_one_chain() -> None:
    """Two functions that added a revision on the same head must re-chain one of them
    (migrations/README.md): one head, each revision the child of the one before."""
    script = ScriptDirectory.from_config(migrate.alembic_config("sqlite://"))
    assert len(script.get_heads()) == 1
    assert len(script.get_bases()) == 1
    for revision in script.walk_revisions():
        assert revision.down_revision is None or isinstance(revision.down_revision, str)
