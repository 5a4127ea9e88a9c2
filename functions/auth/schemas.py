"""Request and response models of the auth API (the Android app's contract)."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import BaseModel, EmailStr, Field, StringConstraints

from cheese_runtime.inputs import InputModel, Name, Text

MIN_PASSWORD_LENGTH = 10
MAX_PASSWORD_LENGTH = 256
# Passwords are any characters a person can type, control characters aside
# (they are hashed, never stored or shown, but no keyboard types a NUL).
Password = Annotated[Text, Field(min_length=MIN_PASSWORD_LENGTH, max_length=MAX_PASSWORD_LENGTH)]
# What ``tokens.new_refresh_token`` makes: URL-safe base64.
RefreshToken = Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9_-]{1,256}$")]


class SignupRequest(InputModel):
    email: EmailStr = Field(max_length=254)
    password: Password
    display_name: Annotated[Name, Field(min_length=1, max_length=64)]


class LoginRequest(InputModel):
    email: Annotated[Text, Field(min_length=1, max_length=254)]
    password: Annotated[Text, Field(min_length=1, max_length=MAX_PASSWORD_LENGTH)]


class RefreshRequest(InputModel):
    refresh_token: RefreshToken


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
