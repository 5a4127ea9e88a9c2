"""What the auth service refuses, in its own words; functions/auth/app.py maps each to HTTP."""

from __future__ import annotations

from cheese_runtime.errors import DomainError


class AuthError(DomainError):
    """Every refusal of the auth function."""


class WeakPassword(AuthError):
    slug = "weak-password"
    title = "Password too weak"
    default_detail = "The password must not be your email address."


class AccountExists(AuthError):
    slug = "email-taken"
    title = "Conflict"
    default_detail = "An account with this email already exists."


class TooManyAttempts(AuthError):
    """Login throttled for this client; ``retry_after`` says when it may try again."""

    slug = "too-many-attempts"
    title = "Too many login attempts"
    default_detail = "Too many failed logins; try again later."

    def __init__(self, retry_after: int) -> None:
        super().__init__(retry_after=retry_after)
        self.extensions["retry_after"] = (
            retry_after  # also in the body, for clients without headers
        )


class InvalidCredentials(AuthError):
    slug = "invalid-credentials"
    title = "Invalid credentials"
    default_detail = "The email or password is wrong."


class InvalidRefreshToken(AuthError):
    """Unknown, revoked or expired refresh token, or one of an account that is gone."""

    slug = "invalid-refresh-token"
    title = "Authentication required"


class RefreshTokenReused(AuthError):
    slug = "refresh-token-reused"
    title = "Authentication required"
    default_detail = "The refresh token was already used; all sessions of this login are revoked."


class AccountGone(AuthError):
    slug = "account-gone"
    title = "Authentication required"
    default_detail = "The account no longer exists."


class DeletionNotQueued(AuthError):
    """The deletion request could not be published; the client retries."""

    slug = "try-again"
    title = "Service unavailable"
    default_detail = "Deletion could not be queued; retry."


class LogoutNotRecorded(AuthError):
    """The session's revocation could not be recorded; the client retries the logout."""

    slug = "try-again"
    title = "Service unavailable"
    default_detail = "The logout could not be completed; retry."
