"""Users, passwords, login and API tokens.

Passwords are hashed with a slow hash (the SecretHasher port, argon2 in production). API
tokens are 256-bit random secrets: they are stored as SHA-256 digests, which is enough for a
secret that cannot be guessed and keeps every authenticated request cheap.
"""

from __future__ import annotations

import hashlib
import secrets
from datetime import timedelta

from amphub.application.access import Actor
from amphub.application.ports import Clock, SecretHasher
from amphub.application.uow import AuditEntry, StoredToken, UnitOfWorkFactory
from amphub.domain.errors import DomainError, InvalidValue
from amphub.domain.ratelimit import SlidingWindowLimiter
from amphub.domain.tenancy import User, validate_email, validate_password

TOKEN_PREFIX = "amh_"  # noqa: S105 - a prefix, not a secret


class InvalidCredentials(DomainError):
    """Wrong e-mail or password, or an unknown, expired or revoked token."""


class TooManyAttempts(DomainError):
    def __init__(self, retry_after: timedelta) -> None:
        super().__init__(
            f"too many failed attempts; retry in {int(retry_after.total_seconds()) + 1} s"
        )
        self.retry_after = retry_after


def token_digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


class AuthService:
    def __init__(
        self,
        uow_factory: UnitOfWorkFactory,
        clock: Clock,
        hasher: SecretHasher,
        *,
        token_lifetime: timedelta = timedelta(days=30),
        max_failures: int = 5,
        failure_window: timedelta = timedelta(minutes=5),
    ) -> None:
        self._uow = uow_factory
        self._clock = clock
        self._hasher = hasher
        self._token_lifetime = token_lifetime
        # Failed logins count per account and per source address: one stops guessing one
        # account's password, the other stops one source spraying many accounts.
        self._failures = SlidingWindowLimiter(max_failures, failure_window)
        self._source_failures = SlidingWindowLimiter(max_failures * 4, failure_window)
        # A hash to verify against when the e-mail is unknown, so that timing does not tell
        # which accounts exist.
        self._dummy_hash = hasher.hash(secrets.token_urlsafe(16))

    async def create_user(self, actor: Actor, email: str, name: str, password: str) -> User:
        email = validate_email(email)
        password_hash = self._hasher.hash(validate_password(password))
        async with self._uow() as uow:
            if await uow.users.get_by_email(email) is not None:
                raise InvalidValue("email", f"a user with e-mail {email} exists already")
            user = await uow.users.add(email, name.strip(), password_hash, self._clock.now())
            await uow.audit.record(
                AuditEntry(
                    at=self._clock.now(),
                    user_id=actor.user_id,
                    actor=actor.name,
                    operator_id=None,
                    team_id=None,
                    action="user.create",
                    object_type="user",
                    object_id=str(user.id),
                    old_value=None,
                    new_value={"email": email, "name": user.name},
                )
            )
            await uow.commit()
        return user

    def _check_not_blocked(self, email_key: str, source: str) -> None:
        now = self._clock.now()
        for limiter, key in ((self._failures, email_key), (self._source_failures, source)):
            if limiter.is_blocked(key, now):
                raise TooManyAttempts(limiter.retry_after(key, now))

    async def verify_password(self, email: str, password: str, source: str) -> User:
        """The user, if the password is right; rate-limited per account and per source."""
        email_key = email.strip().lower()
        self._check_not_blocked(email_key, source)
        async with self._uow() as uow:
            user = await uow.users.get_by_email(email_key)
            stored = await uow.users.password_hash(user.id) if user else None
        if user is None or stored is None:
            self._hasher.verify(self._dummy_hash, password)
        elif self._hasher.verify(stored, password):
            self._failures.reset(email_key)
            return user
        now = self._clock.now()
        self._failures.record(email_key, now)
        self._source_failures.record(source, now)
        raise InvalidCredentials("wrong e-mail or password")

    async def issue_token(self, user: User, label: str = "") -> tuple[str, StoredToken]:
        """A new API token; the secret is returned once and only its digest is kept."""
        token = TOKEN_PREFIX + secrets.token_urlsafe(32)
        now = self._clock.now()
        async with self._uow() as uow:
            stored = await uow.tokens.add(
                user.id, token_digest(token), label[:100], now, now + self._token_lifetime
            )
            await uow.commit()
        return token, stored

    async def login(self, email: str, password: str, source: str, label: str = "") -> str:
        user = await self.verify_password(email, password, source)
        token, _ = await self.issue_token(user, label or "login")
        return token

    async def actor_for_user(self, user_id: int) -> Actor:
        async with self._uow() as uow:
            user = await uow.users.get(user_id)
            if user is None:
                raise InvalidCredentials("unknown user")
            memberships = await uow.memberships.of_user(user.id)
        return Actor(user_id=user.id, name=user.email, memberships=tuple(memberships))

    async def authenticate(self, token: str) -> Actor:
        if not token.startswith(TOKEN_PREFIX):
            raise InvalidCredentials("not an amphub token")
        async with self._uow() as uow:
            stored = await uow.tokens.find_active(token_digest(token), self._clock.now())
            if stored is None:
                raise InvalidCredentials("unknown, expired or revoked token")
            user = await uow.users.get(stored.user_id)
            if user is None:
                raise InvalidCredentials("unknown user")
            memberships = await uow.memberships.of_user(user.id)
        return Actor(user_id=user.id, name=user.email, memberships=tuple(memberships))

    async def revoke_secret(self, token: str) -> bool:
        """Log out: the token itself (the portal's session) stops working at once."""
        if not token.startswith(TOKEN_PREFIX):
            return False
        now = self._clock.now()
        async with self._uow() as uow:
            stored = await uow.tokens.find_active(token_digest(token), now)
            if stored is None:
                return False
            revoked = await uow.tokens.revoke(stored.id, stored.user_id, now)
            await uow.commit()
        return revoked

    async def revoke_token(self, actor: Actor, token_id: int) -> bool:
        if actor.user_id is None:
            return False
        async with self._uow() as uow:
            revoked = await uow.tokens.revoke(token_id, actor.user_id, self._clock.now())
            await uow.commit()
        return revoked
