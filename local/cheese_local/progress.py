"""A one-line progress bar on stderr for long CLI jobs (no dependency)."""

from __future__ import annotations

import sys
import time
from typing import TextIO

WIDTH = 30


class ProgressBar:
    """`update(stage, done, total)` redraws `stage [#####-----] 45% 120/240 12.3 fps`."""

    def __init__(self, stream: TextIO = sys.stderr) -> None:
        self.stream = stream
        self.stage: str | None = None
        self.started = time.monotonic()
        self.drawn = False

    def update(self, stage: str, done: int, total: int) -> None:
        if stage != self.stage:
            if self.drawn:
                self.stream.write("\n")
            self.stage, self.started = stage, time.monotonic()
        total = max(total, done, 1)
        filled = round(WIDTH * done / total)
        rate = done / max(time.monotonic() - self.started, 1e-6)
        self.stream.write(
            f"\r{stage:<8} [{'#' * filled}{'-' * (WIDTH - filled)}] "
            f"{100 * done / total:3.0f}% {done}/{total} {rate:.1f} fps"
        )
        self.stream.flush()
        self.drawn = True

    def close(self) -> None:
        if self.drawn:
            self.stream.write("\n")
            self.stream.flush()
            self.drawn = False
