"""A data directory made by an older stack upgrades in place: `make run` after `git pull`
keeps the photos it had (SQLite cannot add a column with a non-constant default to a
table that has rows)."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import create_engine, text

from cheese_runtime.db import migrate


def test_a_database_with_photos_from_every_earlier_revision_upgrades_to_head(
    tmp_path: Path,
) -> None:
    from alembic.script import ScriptDirectory

    script = ScriptDirectory.from_config(migrate.alembic_config("sqlite://"))
    revisions = [r.revision for r in reversed(list(script.walk_revisions()))]
    for older in revisions[revisions.index("0003_photos") : -1]:
        url = f"sqlite:///{tmp_path / f'{older}.db'}"
        migrate.upgrade(url, older)
        engine = create_engine(url)
        with engine.begin() as conn:
            conn.execute(
                text(
                    "INSERT INTO users (id, email, email_normalized, display_name, "
                    "password_hash, status, roles, created_at, updated_at) VALUES ('u1', "
                    "'a@example.com', 'a@example.com', 'A', 'x', 'active', '', "
                    "'2026-01-01 00:00:00', '2026-01-01 00:00:00')"
                )
            )
            conn.execute(
                text(
                    "INSERT INTO photos (id, user_id, status, source, content_type, "
                    "created_at, taken_at) VALUES ('p1', 'u1', 'analyzed', 'upload', "
                    "'image/jpeg', '2026-01-02 03:04:05', '2026-01-02 03:04:05')"
                )
            )
        engine.dispose()

        migrate.upgrade(url)

        engine = create_engine(url)
        with engine.connect() as conn:
            assert conn.execute(text("SELECT id, status FROM photos")).all() == [
                ("p1", "analyzed")
            ], older
        engine.dispose()
