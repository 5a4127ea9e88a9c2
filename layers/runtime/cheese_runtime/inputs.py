"""The API's one input policy: what a client may send as text, ids and flags.

Every request model derives from :class:`InputModel` and types its strings
with the annotated types below; every path and query id is an :data:`PathId`
or :data:`IdsQuery`. What the policy guarantees, at the edge, before any
service or store sees a value:

- **No control characters in text.** PostgreSQL text cannot hold NUL
  (the driver refuses it: a 500), SQLite stores it silently, and other
  C0/C1 controls and lone surrogates (which UTF-8 cannot encode) are never
  what a person typed. :data:`Text` refuses all of them; :data:`MultilineText`
  allows tab and newline, for text that is written in paragraphs.
- **Ids have their format.** Database rows are keyed by lower-case UUIDs
  (``cheese_runtime.db.types.new_id``): an id of any other shape names
  nothing. In a path it answers 404 (the path names no resource, as for an
  id that does not exist; see ``errors.install_problem_handlers``), in a
  body or query 422.
- **No coercion a client would not expect.** Request models are strict:
  ``"yes"`` or ``1`` is not a boolean, ``"5"`` is not an integer. Timestamps
  stay parseable from ISO 8601 strings (:data:`Timestamp`), which is how JSON
  carries them.

:func:`reject_control_characters` is the catch-all every app installs: a path
or query value holding a control character answers 404 or 422 even on a
route whose parameters are declared as plain ``str``.
"""

from __future__ import annotations

import re
import unicodedata
from datetime import datetime
from typing import Annotated

from fastapi import Path, Query, Request
from pydantic import AfterValidator, BaseModel, ConfigDict, Strict, StringConstraints
from pydantic_core import PydanticCustomError

from cheese_runtime.errors import Problem, ResourceNotFound

UUID_PATTERN = "[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}"
ID_PATTERN = f"^{UUID_PATTERN}$"
# Comma-separated ids (spaces around commas tolerated, as the app has always sent them).
ID_LIST = rf" *{UUID_PATTERN} *(?:, *{UUID_PATTERN} *)*"
ID_LIST_PATTERN = f"^{ID_LIST}$"
ID_REGEX = re.compile(ID_PATTERN)
PATH_ID_ERROR = "path_id"
MULTILINE_ALLOWED = frozenset("\t\n")


def control_characters(value: str, allowed: frozenset[str] = frozenset()) -> list[str]:
    """The control characters (Unicode Cc) and lone surrogates (Cs) in ``value``."""
    return [ch for ch in value if ch not in allowed and unicodedata.category(ch) in ("Cc", "Cs")]


def _single_line(value: str) -> str:
    if control_characters(value):
        raise ValueError("must not contain control characters")
    return value


def _multi_line(value: str) -> str:
    if control_characters(value, MULTILINE_ALLOWED):
        raise ValueError("must not contain control characters other than tab and newline")
    return value


def _name(value: str) -> str:
    value = unicodedata.normalize("NFC", value).strip()
    if not value:
        raise ValueError("must not be blank")
    return value


class InputModel(BaseModel):
    """Base of every request body: unknown fields refused, no type coercion."""

    model_config = ConfigDict(extra="forbid", strict=True)


# One line of text: no control characters at all.
Text = Annotated[str, AfterValidator(_single_line)]
# Paragraphs: tab and newline allowed, no other control character.
MultilineText = Annotated[str, AfterValidator(_multi_line)]
# A name a person gives (display name, person, pool, charity): one line, NFC, trimmed, not blank.
Name = Annotated[str, AfterValidator(_single_line), AfterValidator(_name)]
# A row id in a body.
Id = Annotated[str, StringConstraints(pattern=ID_PATTERN)]
# A timestamp in a strict model, parsed from its ISO 8601 string.
Timestamp = Annotated[datetime, Strict(False)]


def _path_id(value: str) -> str:
    if not ID_REGEX.fullmatch(value):
        # Its own error type: the problem handler answers 404 for it, not 422.
        raise PydanticCustomError(PATH_ID_ERROR, "not an id")
    return value


# A row id in a path: any other shape answers 404 (the pattern is checked by
# the validator, so that its failure is told apart; the schema still shows it).
PathId = Annotated[
    str,
    AfterValidator(_path_id),
    Path(description="a lower-case UUID", json_schema_extra={"pattern": ID_PATTERN}),
]
# Comma-separated row ids in a query (``?person_ids=a,b``).
IdsQuery = Annotated[
    str | None,
    Query(pattern=ID_LIST_PATTERN, max_length=2000, description="comma-separated ids"),
]


def split_ids(value: str | None) -> list[str]:
    """The distinct ids of an :data:`IdsQuery` value, sorted."""
    return sorted({part.strip() for part in value.split(",")}) if value else []


async def reject_control_characters(request: Request) -> None:
    """App-wide dependency: no path or query value may hold a control character."""
    if any(control_characters(str(value)) for value in request.path_params.values()):
        raise ResourceNotFound()
    for name, value in request.query_params.multi_items():
        if control_characters(name) or control_characters(value):
            raise Problem(
                422,
                "validation-error",
                "Request validation failed",
                "Query parameters must not contain control characters.",
                errors=[
                    {
                        "loc": ["query", name if not control_characters(name) else "?"],
                        "msg": "must not contain control characters",
                        "type": "control_character",
                    }
                ],
            )
