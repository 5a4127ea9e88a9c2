"""The WebSocket protocol: client frames (validated) and error frames."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, StrictInt

PoolId = Annotated[str, Field(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9_-]+$")]
Ref = Annotated[str, Field(max_length=64)]


class Frame(BaseModel):
    model_config = ConfigDict(extra="forbid")
    # Echoed in the direct reply or error frame, so a client can match them up.
    ref: Ref | None = None


class Enter(Frame):
    action: Literal["enter"]
    pool_id: PoolId


class Focus(Frame):
    action: Literal["focus"]
    score: Annotated[StrictInt, Field(ge=0, le=100)]
    # Optional: saves the server a lookup of the caller's pool.
    pool_id: PoolId | None = None


class Bare(Frame):
    action: Literal["away", "back", "exit", "ping"]


FRAMES: dict[str, type[BaseModel]] = {
    "enter": Enter,
    "focus": Focus,
    "away": Bare,
    "back": Bare,
    "exit": Bare,
    "ping": Bare,
}


def error_frame(
    code: str, message: str, ref: str | None = None, **extra: object
) -> dict[str, object]:
    frame: dict[str, object] = {"type": "error", "code": code, "message": message}
    if ref is not None:
        frame["ref"] = ref
    frame.update(extra)
    return frame
