"""Opaque cursors for keyset pagination.

A cursor is the position after the last item of a page (sort key values),
encoded as URL-safe base64 JSON; clients treat it as opaque.
"""

from __future__ import annotations

import base64
import binascii
import json
from typing import Any, Generic, TypeVar

from pydantic import BaseModel

from cheese_runtime.errors import InvalidCursor
from cheese_runtime.inputs import control_characters

T = TypeVar("T")
MAX_CURSOR_LENGTH = 512


class Page(BaseModel, Generic[T]):
    items: list[T]
    next_cursor: str | None = None


def encode_cursor(position: dict[str, Any]) -> str:
    return (
        base64.urlsafe_b64encode(json.dumps(position, separators=(",", ":")).encode())
        .decode()
        .rstrip("=")
    )


def decode_cursor(cursor: str | None) -> dict[str, Any] | None:
    if cursor is None:
        return None
    try:
        if len(cursor) > MAX_CURSOR_LENGTH:
            raise ValueError("too long")
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        position = json.loads(raw)
        if not isinstance(position, dict):
            raise ValueError("not an object")
        # A forged cursor's strings reach queries: they obey the input policy too.
        if any(isinstance(v, str) and control_characters(v) for v in position.values()):
            raise ValueError("control characters")
        return position
    except (ValueError, binascii.Error, UnicodeDecodeError) as exc:
        raise InvalidCursor() from exc
