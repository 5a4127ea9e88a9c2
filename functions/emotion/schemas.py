"""Request and response models of the emoji-face API (issue 11's shapes, exactly)."""

from __future__ import annotations

from datetime import date, datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

from cheese_runtime.inputs import Text

Expression = Literal["angry", "disgust", "fear", "happy", "sad", "surprise", "neutral"]
TemplateStatus = Literal["uploading", "ready", "failed"]
ImageStatus = Literal["pending", "ready", "failed"]
TaskStatus = Literal["queued", "processing", "done", "failed"]
TemplateSort = Literal["popular", "new"]
RankingPeriod = Literal["day", "week", "all"]


class StrictModel(BaseModel):
    model_config = ConfigDict(extra="forbid")


def _clean_name(value: str) -> str:
    value = " ".join(value.split())
    if not value:
        raise ValueError("name must not be blank")
    return value


class TemplateIn(StrictModel):
    name: Text = Field(min_length=1, max_length=80)
    public: bool = False

    _name = field_validator("name")(classmethod(lambda cls, v: _clean_name(v)))


class TemplatePatch(StrictModel):
    name: Text | None = Field(default=None, min_length=1, max_length=80)
    public: bool | None = None

    _name = field_validator("name")(
        classmethod(lambda cls, v: None if v is None else _clean_name(v))
    )


class PresignedUpload(BaseModel):
    """POST ``fields`` and then the file (form field ``file``) to ``url``."""

    expression: Expression
    url: str
    fields: dict[str, str]
    expires_in: int
    max_bytes: int
    accepted_types: list[str]


class TemplateImageOut(BaseModel):
    expression: Expression
    status: ImageStatus
    failure_reason: str | None = None
    # A short-lived GET URL of the uploaded image (None for built-ins and missing uploads).
    url: str | None = None


class TemplateOut(BaseModel):
    template_id: str
    name: str
    public: bool
    builtin: bool
    # True when the caller owns it (may PATCH and DELETE it).
    mine: bool
    status: TemplateStatus
    failure_reason: str | None
    use_count: int
    attribution: str | None
    created_at: datetime
    images: list[TemplateImageOut]


class TemplateCreated(TemplateOut):
    uploads: list[PresignedUpload]


class TemplatePage(BaseModel):
    items: list[TemplateOut]
    next_cursor: str | None = None


class TaskIn(StrictModel):
    photo_id: Text = Field(min_length=1, max_length=64)
    template_id: Text = Field(min_length=1, max_length=64)


class TaskAccepted(BaseModel):
    task_id: str


class FaceBox(BaseModel):
    x: int
    y: int
    w: int
    h: int


class TaskFace(BaseModel):
    box: FaceBox
    expression: dict[str, float]
    dominant: Expression
    # The template image pasted over the face (its expression key).
    emoji: Expression


class TaskOut(BaseModel):
    task_id: str
    status: TaskStatus
    failure_reason: str | None
    result_url: str | None
    faces: list[TaskFace]
    photo_id: str
    template_id: str
    template_name: str
    created_at: datetime
    finished_at: datetime | None


class TaskPage(BaseModel):
    items: list[TaskOut]
    next_cursor: str | None = None


class RankedTemplate(BaseModel):
    template_id: str
    name: str
    builtin: bool
    uses: int


class RankedExpression(BaseModel):
    expression: Expression
    faces: int


class RankingOut(BaseModel):
    period: RankingPeriod
    # First UTC day counted (None for "all").
    since: date | None
    templates: list[RankedTemplate]
    expressions: list[RankedExpression]


class AvatarChoiceIn(StrictModel):
    template_id: Text = Field(min_length=1, max_length=64)


class AvatarChoiceOut(BaseModel):
    template_id: str
    chosen_at: datetime


class AvatarFrameOut(BaseModel):
    # Whether the frame shows a face (no face: the avatar is the plain background).
    face: bool
    expression: Expression | None
    # False when the avatar did not change (the same picture as the member's current one).
    updated: bool
    template_id: str
