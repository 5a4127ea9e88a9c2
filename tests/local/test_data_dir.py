"""The data directory holds password hashes, signing keys and photos: owner-only."""

from __future__ import annotations

import os
import stat
from pathlib import Path
from typing import Any

import pytest

from cheese_local.datadir import DataDirInUse, create_sqlite_file, lock_data_dir, secure_data_dir


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_the_running_stacks_data_dir_keys_and_database_are_owner_only(backend: Any) -> None:
    from cheese_runtime.settings import get_settings

    assert mode(backend.data_dir) == 0o700
    assert mode(backend.data_dir / "keys" / "signing-keys.json") == 0o600
    if get_settings().sqlalchemy_url.startswith("sqlite"):
        assert mode(backend.data_dir / "cheese.db") == 0o600


def test_a_data_dir_left_readable_by_an_older_stack_is_closed_at_start(tmp_path: Path) -> None:
    data = tmp_path / ".cheese"
    data.mkdir(mode=0o755)
    data.chmod(0o755)
    db = data / "cheese.db"
    db.write_bytes(b"")
    db.chmod(0o644)
    secure_data_dir(data)
    assert mode(data) == 0o700
    assert mode(db) == 0o600


def test_a_new_sqlite_database_is_created_owner_only(tmp_path: Path) -> None:
    import sqlite3

    path = tmp_path / "cheese.db"
    create_sqlite_file(f"sqlite:///{path}")
    with sqlite3.connect(path) as conn:
        conn.execute("PRAGMA journal_mode=WAL")
        conn.execute("CREATE TABLE t (x)")
    assert mode(path) == 0o600
    assert mode(path.with_name("cheese.db-wal")) == 0o600


def test_a_second_stack_cannot_use_a_data_dir_in_use(tmp_path: Path) -> None:
    held = lock_data_dir(tmp_path)
    with pytest.raises(DataDirInUse, match=str(os.getpid())):
        lock_data_dir(tmp_path)
    held.close()
    lock_data_dir(tmp_path).close()  # free again once the first stack is gone
