"""Run the Alembic migrations programmatically (local start, tests, the deploy step).

One history, ``migrations/versions/`` (its README says how a function adds a
revision), for the tables of every function. The models live with their
functions; :data:`MODEL_MODULES` lists them all, for the comparisons of the
models with the migrated schema (autogenerate, tests/runtime/test_migrations.py).
"""

from __future__ import annotations

import importlib
import tempfile
from pathlib import Path

from alembic import command
from alembic.config import Config
from sqlalchemy import MetaData

from cheese_runtime.db.base import Base

MIGRATIONS_DIR = Path(__file__).with_name("migrations")

# Every module that declares tables on Base.metadata: the runtime's own (the
# users identity, consent, revoked sessions), then each function's. A new function with tables
# adds its functions/<name>/models.py here (a test checks none is missing).
MODEL_MODULES = (
    "cheese_runtime.db.users",
    "cheese_runtime.db.consent",
    "cheese_runtime.db.revocations",
    "functions.auth.models",
    "functions.smile_rank.models",
    "functions.photos.models",
    "functions.emotion.models",
    "functions.diary.models",
    "functions.video.models",
)


def schema_metadata() -> MetaData:
    """The metadata of the whole schema: every function's tables."""
    for module in MODEL_MODULES:
        importlib.import_module(module)
    return Base.metadata


def alembic_config(url: str) -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    # New revision files are named by their id alone: versions/0004_emoji.py.
    config.set_main_option("file_template", "%%(rev)s")
    # ConfigParser interpolation: a literal % in a password must be doubled.
    config.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    return config


def upgrade(url: str, revision: str = "head") -> None:
    command.upgrade(alembic_config(url), revision)


def downgrade(url: str, revision: str) -> None:
    command.downgrade(alembic_config(url), revision)


def autogenerate_revision(rev_id: str, message: str) -> Path:
    """Write ``migrations/versions/<rev_id>.py``: what the models have that head lacks.

    Compares against a scratch SQLite database at head; review the result
    (PostgreSQL-only details, data migrations and triggers are yours to add).
    """
    with tempfile.TemporaryDirectory() as scratch:
        config = alembic_config(f"sqlite:///{Path(scratch) / 'head.db'}")
        command.upgrade(config, "head")
        config.attributes["target_metadata"] = schema_metadata()
        script = command.revision(config, message, autogenerate=True, rev_id=rev_id)
    assert script is not None and not isinstance(script, list)
    return Path(script.path)


if __name__ == "__main__":
    import argparse

    parser = argparse.ArgumentParser(description=autogenerate_revision.__doc__)
    parser.add_argument("rev_id", help="e.g. 0004_emoji")
    parser.add_argument("message", help="what the revision adds, e.g. 'emoji faces'")
    args = parser.parse_args()
    print(autogenerate_revision(args.rev_id, args.message))
