"""Request and response models of the auth API (the Android app's contract)."""

from __future__ import annotations

import unicodedata
from typing import Literal

from pydantic import BaseModel, ConfigDict, EmailStr, Field, field_validator

MIN_PASSWORD_LENGTH = 10
MAX_PASSWORD_LENGTH = 256


class StrictModel(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=False)


class SignupRequest(StrictModel):
    email: EmailStr = Field(max_length=254)
    password: str = Field(min_length=MIN_PASSWORD_LENGTH, max_length=MAX_PASSWORD_LENGTH)
    display_name: str = Field(min_length=1, max_length=64)

    @field_validator("display_name")
    @classmethod
    def _display_name(cls, value: str) -> str:
        value = unicodedata.normalize("NFC", value).strip()
        if not value:
            raise ValueError("display name must not be blank")
        if any(unicodedata.category(ch).startswith("C") for ch in value):
            raise ValueError("display name must not contain control characters")
        return value


class LoginRequest(StrictModel):
    email: str = Field(min_length=1, max_length=254)
    password: str = Field(min_length=1, max_length=MAX_PASSWORD_LENGTH)


class RefreshRequest(StrictModel):
    refresh_token: str = Field(min_length=1, max_length=256)


class LogoutRequest(RefreshRequest):
    pass


class UserOut(BaseModel):
    id: str
    email: str
    display_name: str


class TokenResponse(BaseModel):
    user: UserOut
    access_token: str
    refresh_token: str
    token_type: Literal["Bearer"] = "Bearer"
    expires_in: int


class DeletionAccepted(BaseModel):
    status: Literal["deletion_requested"] = "deletion_requested"
