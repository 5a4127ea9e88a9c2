"""The data directory: owner-only, as it holds password hashes, signing keys and users' photos.

The directory is 0700 and what the stack creates in it 0600 (``cheese run``
sets the umask to 077, and the SQLite file is created 0600 before SQLite
opens it, so its -wal and -shm files get the same mode).
"""

from __future__ import annotations

import fcntl
import os
import socket
from pathlib import Path
from typing import IO

PRIVATE_UMASK = 0o077


def secure_data_dir(path: Path) -> None:
    """Create the data directory owner-only, and make an existing one so."""
    path.mkdir(parents=True, exist_ok=True, mode=0o700)
    path.chmod(0o700)
    for child in path.iterdir():
        if child.is_file() and child.stat().st_mode & 0o077:
            child.chmod(0o600)


class DataDirInUse(RuntimeError):
    """Another running stack keeps its state in this data directory."""


def lock_data_dir(path: Path) -> IO[str]:
    """Hold the data directory for this process (two stacks would corrupt each other's journal).

    The lock is released when the returned file is closed or the process ends,
    ``kill -9`` included.
    """
    handle = (path / "stack.lock").open("a+")
    try:
        fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        handle.seek(0)
        holder = handle.read().strip() or "another process"
        handle.close()
        raise DataDirInUse(f"{path} is in use by a running local stack (pid {holder})") from None
    handle.seek(0)
    handle.truncate()
    handle.write(str(os.getpid()))
    handle.flush()
    return handle


def create_sqlite_file(sqlalchemy_url: str) -> None:
    """Create the SQLite database file 0600 (SQLite itself would make it 0644)."""
    prefix = "sqlite:///"
    if not sqlalchemy_url.startswith(prefix) or sqlalchemy_url == prefix + ":memory:":
        return
    path = Path(sqlalchemy_url[len(prefix) :])
    os.close(os.open(path, os.O_WRONLY | os.O_CREAT, 0o600))
    for companion in (path, path.with_name(path.name + "-wal"), path.with_name(path.name + "-shm")):
        if companion.exists():
            companion.chmod(0o600)


def remembered_port(record: Path) -> int:
    """The port recorded in ``record`` if it is free again, else a free one (then recorded).

    URLs the stack handed out (presigned uploads) keep working across restarts.
    """
    try:
        wanted = int(record.read_text().strip())
    except (OSError, ValueError):
        wanted = 0
    with socket.socket() as s:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            s.bind(("127.0.0.1", wanted))
        except OSError:
            s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
    fd = os.open(record, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as handle:
        handle.write(str(port))
    return port
