"""The persistent S3 server of the local stack: npm's s3rver, run as a child process.

s3rver (pinned in ``local/package.json`` and ``package-lock.json``, installed
by ``npm ci``) keeps each object as files in the data directory. It runs as a
child of ``cheese run`` and ends with it: it exits when its stdin (a pipe from
this process) closes, which also happens when the stack is killed with -9.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO

from cheese_runtime.observability import logger

LOCAL_DIR = Path(__file__).resolve().parent.parent
LAUNCHER = LOCAL_DIR / "s3rver.js"
START_TIMEOUT_SECONDS = 30


class EmulatorError(RuntimeError):
    """An emulator could not be installed or started."""


def ensure_installed() -> None:
    """``npm ci`` the pinned packages unless ``node_modules`` already matches the lock file."""
    lock = LOCAL_DIR / "package-lock.json"
    installed = LOCAL_DIR / "node_modules" / ".package-lock.json"
    if installed.exists() and installed.stat().st_mtime >= lock.stat().st_mtime:
        return
    npm = shutil.which("npm")
    if npm is None:
        raise EmulatorError(
            "the local stack needs Node.js 18+ and npm (apt-get install nodejs npm)"
        )
    logger.warning("installing the local S3 server (npm ci in %s)", LOCAL_DIR)
    result = subprocess.run(
        [npm, "ci", "--no-audit", "--no-fund", "--loglevel=error"],
        cwd=LOCAL_DIR,
        check=False,
        capture_output=True,
        text=True,
    )
    if result.returncode:
        raise EmulatorError(f"npm ci failed in {LOCAL_DIR}:\n{result.stderr[-2000:]}")


@dataclass
class S3Server:
    """s3rver on 127.0.0.1 (a free port), its objects under ``directory``."""

    directory: Path
    log_path: Path
    port: int = 0
    process: subprocess.Popen[str] | None = field(default=None, repr=False)
    _log: IO[str] | None = field(default=None, repr=False)

    @property
    def endpoint(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> None:
        ensure_installed()
        node = shutil.which("node")
        if node is None:
            raise EmulatorError("the local stack needs Node.js 18+ (apt-get install nodejs)")
        self.directory.mkdir(parents=True, exist_ok=True, mode=0o700)
        self._log = self.log_path.open("a")
        self.process = subprocess.Popen(
            [node, str(LAUNCHER), str(self.directory), "0"],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=self._log,
            env=os.environ.copy(),
            text=True,
        )
        ready: dict[str, int] = {}

        def read_port() -> None:
            assert self.process is not None and self.process.stdout is not None
            line = self.process.stdout.readline()
            if line:
                ready.update(json.loads(line))

        reader = threading.Thread(target=read_port, daemon=True)
        reader.start()
        reader.join(START_TIMEOUT_SECONDS)
        if "port" not in ready:
            self.stop()
            raise EmulatorError(f"s3rver did not start (see {self.log_path})")
        self.port = ready["port"]

    def stop(self) -> None:
        if self.process is None:
            return
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=5)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        for stream in (self.process.stdin, self.process.stdout):
            if stream is not None:
                stream.close()
        self.process = None
        if self._log is not None:
            self._log.close()
            self._log = None
