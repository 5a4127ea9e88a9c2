"""Account logic: sign-up, login, token rotation, logout, deletion."""

from __future__ import annotations

from datetime import timedelta

from aws_lambda_powertools.metrics import MetricUnit

from cheese_runtime import events
from functions.auth.models import User
from cheese_runtime.db.session import session_scope
from cheese_runtime.db.types import new_id, utcnow
from cheese_runtime.observability import logger, metrics
from cheese_runtime.resources import USER_DELETION_REQUESTED
from cheese_runtime.settings import Settings
from functions.auth import passwords
from functions.auth.dal import (
    EmailTaken,
    LoginThrottle,
    RefreshTokenRepository,
    ThrottleRule,
    UserRepository,
    profile,
)
from functions.auth.errors import (
    AccountExists,
    AccountGone,
    DeletionNotQueued,
    InvalidCredentials,
    InvalidRefreshToken,
    RefreshTokenReused,
    TooManyAttempts,
    WeakPassword,
)
from functions.auth.schemas import LoginRequest, SignupRequest, TokenResponse, UserOut
from functions.auth.tokens import get_issuer, new_refresh_token, refresh_token_hash


def normalise_email(email: str) -> str:
    return email.strip().lower()


class AuthService:
    def __init__(self, settings: Settings) -> None:
        self._settings = settings
        self._throttle = LoginThrottle(settings.throttle_table)
        self._account_rule = ThrottleRule(
            "account", settings.login_max_failures_per_account, settings.login_window_seconds
        )
        self._ip_rule = ThrottleRule(
            "ip", settings.login_max_failures_per_ip, settings.login_window_seconds
        )

    # --- tokens -----------------------------------------------------------
    def _issue_pair(
        self,
        users: UserRepository,
        tokens: RefreshTokenRepository,
        user: User,
        family_id: str | None = None,
    ) -> TokenResponse:
        refresh = new_refresh_token()
        tokens.add(
            user.id,
            family_id or new_id(),
            refresh_token_hash(refresh),
            utcnow() + timedelta(seconds=self._settings.refresh_token_ttl_seconds),
        )
        access = get_issuer().issue(user.id, user.roles.split())
        return TokenResponse(
            user=user_out(user),
            access_token=access,
            refresh_token=refresh,
            expires_in=self._settings.access_token_ttl_seconds,
        )

    # --- operations -------------------------------------------------------
    def signup(self, request: SignupRequest) -> TokenResponse:
        email = str(request.email)
        email_normalized = normalise_email(email)
        local_part = email_normalized.split("@", 1)[0]
        if request.password.lower() in (email_normalized, local_part):
            raise WeakPassword()
        password_hash = passwords.hash_password(request.password)
        with session_scope() as session:
            users = UserRepository(session)
            try:
                user = users.add(email, email_normalized, request.display_name, password_hash)
            except EmailTaken:
                raise AccountExists() from None
            response = self._issue_pair(users, RefreshTokenRepository(session), user)
        metrics.add_metric(name="SignUps", unit=MetricUnit.Count, value=1)
        logger.info("user signed up", extra={"user_id": user.id})
        return response

    def login(self, request: LoginRequest, client_ip: str) -> TokenResponse:
        email_normalized = normalise_email(request.email)
        for rule, key in ((self._account_rule, email_normalized), (self._ip_rule, client_ip)):
            wait = self._throttle.retry_after(rule, key)
            if wait is not None:
                metrics.add_metric(name="LoginsThrottled", unit=MetricUnit.Count, value=1)
                raise TooManyAttempts(wait)
        with session_scope() as session:
            users = UserRepository(session)
            user = users.by_email(email_normalized)
            active = user is not None and user.status == "active"
            if not passwords.verify_password(
                user.password_hash if active else None, request.password
            ):
                ok = False
            else:
                ok = True
                if passwords.needs_rehash(user.password_hash):
                    user.password_hash = passwords.hash_password(request.password)
                response = self._issue_pair(users, RefreshTokenRepository(session), user)
        if not ok:
            self._throttle.record_failure(self._account_rule, email_normalized)
            self._throttle.record_failure(self._ip_rule, client_ip)
            metrics.add_metric(name="LoginFailures", unit=MetricUnit.Count, value=1)
            raise InvalidCredentials()
        self._throttle.clear(self._account_rule, email_normalized)
        metrics.add_metric(name="Logins", unit=MetricUnit.Count, value=1)
        return response

    def refresh(self, refresh_token: str) -> TokenResponse:
        reused_family: str | None = None
        with session_scope() as session:
            tokens = RefreshTokenRepository(session)
            users = UserRepository(session)
            stored = tokens.by_hash(refresh_token_hash(refresh_token))
            if stored is None:
                raise InvalidRefreshToken("The refresh token is not valid.")
            if stored.revoked_at is not None:
                raise InvalidRefreshToken("The refresh token was revoked.")
            if not tokens.mark_used(stored.id):
                # Already used once: somebody replays it. Kill the whole family.
                tokens.revoke_family(stored.family_id)
                reused_family = stored.family_id
            elif stored.expires_at <= utcnow():
                raise InvalidRefreshToken("The refresh token has expired.")
            else:
                user = users.get(stored.user_id)
                if user is None or user.status != "active":
                    raise InvalidRefreshToken("The account no longer exists.")
                response = self._issue_pair(users, tokens, user, family_id=stored.family_id)
        if reused_family is not None:
            metrics.add_metric(name="RefreshTokenReuse", unit=MetricUnit.Count, value=1)
            logger.warning(
                "refresh token reuse: family revoked", extra={"family_id": reused_family}
            )
            raise RefreshTokenReused()
        return response

    def logout(self, refresh_token: str) -> None:
        with session_scope() as session:
            tokens = RefreshTokenRepository(session)
            stored = tokens.by_hash(refresh_token_hash(refresh_token))
            if stored is not None:
                tokens.revoke_family(stored.family_id)

    def me(self, user_id: str) -> UserOut:
        found = profile(user_id)
        if found is None or found[3] != "active":
            raise AccountGone()
        return UserOut(id=found[0], email=found[1], display_name=found[2])

    def request_deletion(self, user_id: str) -> None:
        with session_scope() as session:
            user = UserRepository(session).get(user_id)
            if user is None:
                raise AccountGone()
            user.status = "deleting"
            RefreshTokenRepository(session).revoke_user(user_id)
        # After the commit: a failed publish answers 503 and the client's retry
        # publishes again (the account stays "deleting", unusable, meanwhile).
        try:
            events.publish(
                USER_DELETION_REQUESTED,
                events.UserDeletionRequested(user_id=user_id, requested_at=utcnow().isoformat()),
            )
        except Exception as exc:
            logger.exception("could not publish deletion request")
            raise DeletionNotQueued(retry_after=5) from exc
        metrics.add_metric(name="AccountDeletionsRequested", unit=MetricUnit.Count, value=1)


def user_out(user: User) -> UserOut:
    return UserOut(id=user.id, email=user.email, display_name=user.display_name)


def erase_user(user_id: str) -> bool:
    """Erase the account row and its tokens; True if something was erased (idempotent)."""
    with session_scope() as session:
        users = UserRepository(session)
        user = users.get(user_id)
        if user is None:
            return False
        if user.status != "deleting":
            logger.warning(
                "erasure skipped: account is not being deleted", extra={"user_id": user_id}
            )
            return False
        return users.delete(user_id)
