"""Account logic: sign-up, login, token rotation, logout, deletion."""

from __future__ import annotations

import time
from datetime import timedelta

from aws_lambda_powertools.metrics import MetricUnit

from cheese_runtime import events
from cheese_runtime.auth.revocation import get_revocations
from cheese_runtime.db.session import session_scope
from cheese_runtime.db.types import new_id, utcnow
from cheese_runtime.observability import logger, metrics
from cheese_runtime.settings import Settings
from functions.auth import passwords
from functions.auth.config import AuthSettings, get_auth_settings
from functions.auth.dal import (
    EmailTaken,
    RefreshTokenRepository,
    UserRepository,
    profile,
)
from functions.auth.errors import (
    AccountExists,
    AccountGone,
    DeletionNotQueued,
    InvalidCredentials,
    InvalidRefreshToken,
    LogoutNotRecorded,
    RefreshTokenReused,
    TooManyAttempts,
    WeakPassword,
)
from functions.auth.models import RefreshToken, User
from functions.auth.schemas import LoginRequest, SignupRequest, TokenResponse, UserOut
from functions.auth.throttle import BackOff, FailureCounters, LoginThrottle
from functions.auth.tokens import (
    get_issuer,
    new_refresh_token,
    open_successor,
    refresh_token_hash,
    seal_successor,
)


def normalise_email(email: str) -> str:
    return email.strip().lower()


class AuthService:
    def __init__(self, settings: Settings, auth_settings: AuthSettings | None = None) -> None:
        self._settings = settings
        knobs = self._auth_settings = auth_settings or get_auth_settings()

        def backoff(scope: str, free_failures: int) -> BackOff:
            return BackOff(
                scope,
                free_failures,
                knobs.login_backoff_base_seconds,
                knobs.login_backoff_max_seconds,
                knobs.login_window_seconds,
            )

        self._throttle = LoginThrottle(
            FailureCounters(settings.throttle_table),
            account_client=backoff("account-client", knobs.login_free_failures_per_account_client),
            client=backoff("client", knobs.login_free_failures_per_client),
            account_slowdown_after=knobs.login_account_slowdown_after,
            account_slowdown_seconds=knobs.login_account_slowdown_seconds,
            window_seconds=knobs.login_window_seconds,
        )

    # --- tokens -----------------------------------------------------------
    def _issue_pair(
        self,
        tokens: RefreshTokenRepository,
        user: User,
        family_id: str | None = None,
    ) -> tuple[TokenResponse, RefreshToken]:
        refresh = new_refresh_token()
        stored = tokens.add(
            user.id,
            family_id or new_id(),
            refresh_token_hash(refresh),
            utcnow() + timedelta(seconds=self._auth_settings.refresh_token_ttl_seconds),
        )
        return self._pair(user, stored.family_id, refresh), stored

    def _pair(self, user: User, family_id: str, refresh: str) -> TokenResponse:
        return TokenResponse(
            user=user_out(user),
            access_token=get_issuer().issue(user.id, user.roles.split(), family_id),
            refresh_token=refresh,
            expires_in=self._settings.access_token_ttl_seconds,
        )

    def _retry(
        self, tokens: RefreshTokenRepository, user: User | None, used: RefreshToken, presented: str
    ) -> TokenResponse | None:
        """The pair ``used`` was rotated to, if this is a retry within the reuse grace."""
        grace = timedelta(seconds=self._auth_settings.refresh_reuse_grace_seconds)
        if used.used_at is None or used.successor_sealed is None or utcnow() > used.used_at + grace:
            return None
        successor = open_successor(presented, used.family_id, used.successor_sealed)
        if successor is None:
            return None
        stored = tokens.by_hash(refresh_token_hash(successor))
        # A successor already used (or revoked) means the retry is not the only holder.
        if stored is None or stored.used_at is not None or stored.revoked_at is not None:
            return None
        if user is None or user.status != "active":
            return None
        return self._pair(user, used.family_id, successor)

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
            response, _ = self._issue_pair(RefreshTokenRepository(session), user)
        metrics.add_metric(name="SignUps", unit=MetricUnit.Count, value=1)
        logger.info("user signed up", extra={"user_id": user.id})
        return response

    def login(self, request: LoginRequest, client_ip: str) -> TokenResponse:
        email_normalized = normalise_email(request.email)
        verdict = self._throttle.check(email_normalized, client_ip)
        if verdict.retry_after is not None:
            metrics.add_metric(name="LoginsThrottled", unit=MetricUnit.Count, value=1)
            raise TooManyAttempts(verdict.retry_after)
        if verdict.delay_seconds:
            # The account fails from many places: slow everyone down a little, lock no one out.
            metrics.add_metric(name="LoginsSlowed", unit=MetricUnit.Count, value=1)
            time.sleep(verdict.delay_seconds)
        with session_scope() as session:
            users = UserRepository(session)
            user = users.by_email(email_normalized)
            active = user if user is not None and user.status == "active" else None
            # Verified for an unknown user too: the same hash cost either way.
            verified = passwords.verify_password(
                active.password_hash if active else None, request.password
            )
            if active is None or not verified:
                ok = False
            else:
                ok = True
                if passwords.needs_rehash(active.password_hash):
                    active.password_hash = passwords.hash_password(request.password)
                response, _ = self._issue_pair(RefreshTokenRepository(session), active)
        if not ok:
            self._throttle.record_failure(email_normalized, client_ip)
            metrics.add_metric(name="LoginFailures", unit=MetricUnit.Count, value=1)
            raise InvalidCredentials()
        self._throttle.record_success(email_normalized, client_ip)
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
                # Used before (the update waited for that refresh to commit): read what it wrote.
                session.refresh(stored)
                retried = self._retry(tokens, users.get(stored.user_id), stored, refresh_token)
                if retried is not None:
                    metrics.add_metric(name="RefreshRetries", unit=MetricUnit.Count, value=1)
                    return retried
                # Not a retry: somebody replays it. Kill the whole family.
                tokens.revoke_family(stored.family_id)
                reused_family, reused_user = stored.family_id, stored.user_id
            elif stored.expires_at <= utcnow():
                raise InvalidRefreshToken("The refresh token has expired.")
            else:
                user = users.get(stored.user_id)
                if user is None or user.status != "active":
                    raise InvalidRefreshToken("The account no longer exists.")
                response, _ = self._issue_pair(tokens, user, family_id=stored.family_id)
                stored.successor_sealed = seal_successor(
                    refresh_token, stored.family_id, response.refresh_token
                )
        if reused_family is not None:
            try:
                get_revocations().revoke_session(reused_family, reused_user)
            except Exception:
                # The refresh tokens are dead already; its access tokens expire within 15 min.
                logger.exception("could not record the revoked session")
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
            if stored is None:
                return
            tokens.revoke_family(stored.family_id)
            family_id, user_id = stored.family_id, stored.user_id
        # After the commit; a failure answers 503 and the client's retry records it again.
        try:
            get_revocations().revoke_session(family_id, user_id)
        except Exception as exc:
            logger.exception("could not record the revoked session")
            raise LogoutNotRecorded(retry_after=5) from exc

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
            # Waits for the writes holding this row (cheese_runtime.accounts.lock_active_user);
            # every later write sees "deleting" and is refused.
            user.status = "deleting"
            RefreshTokenRepository(session).revoke_user(user_id)
        # After the commit: a failed publish answers 503 and the client's retry
        # publishes again (the account stays "deleting", unusable, meanwhile).
        try:
            events.publish(
                events.UserDeletionRequested(user_id=user_id, requested_at=utcnow().isoformat()),
            )
        except Exception as exc:
            logger.exception("could not publish deletion request")
            raise DeletionNotQueued(retry_after=5) from exc
        # Then every session is refused (within 30 s everywhere, here at once).
        # Not a reason to fail the request: every database write already
        # refuses a "deleting" account, and the client's token must stay good
        # for a retry of the publish above.
        try:
            get_revocations().revoke_user(user_id)
        except Exception:
            logger.exception("could not record the revoked account")
            metrics.add_metric(name="RevocationWriteFailures", unit=MetricUnit.Count, value=1)
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
