"""Checking a meter's serial number and PIN on every HTTP push, cheaply and safely.

A PIN is 8 digits: low entropy, so it is stored with a slow hash (argon2) and wrong guesses
are rate-limited per serial and per source address. A meter pushes every second, though, and
a slow hash per reading would cap ingestion at a few dozen readings per second per core. So
after one successful slow check the process remembers an HMAC of the PIN under a random
per-process key, and later pushes compare HMACs in constant time. Regenerating or deleting a
meter forgets its entry.
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import secrets
from collections.abc import Awaitable, Callable
from datetime import timedelta

from amphub.application.ports import Clock, SecretHasher
from amphub.domain.errors import DomainError
from amphub.domain.ratelimit import SlidingWindowLimiter

PinHashLookup = Callable[[str], Awaitable[str | None]]
"""The stored PIN hash of the meter with this canonical serial, or None."""


class MeterAuthenticationFailed(DomainError):
    pass


class MeterAuthRateLimited(DomainError):
    def __init__(self, retry_after: timedelta) -> None:
        super().__init__(f"too many wrong PINs; retry in {int(retry_after.total_seconds()) + 1} s")
        self.retry_after = retry_after


class MeterAuthenticator:
    def __init__(
        self,
        pin_hash_of: PinHashLookup,
        hasher: SecretHasher,
        clock: Clock,
        *,
        max_failures: int = 10,
        window: timedelta = timedelta(minutes=5),
    ) -> None:
        self._pin_hash_of = pin_hash_of
        self._hasher = hasher
        self._clock = clock
        self._key = secrets.token_bytes(32)
        self._verified: dict[str, bytes] = {}
        self._by_serial = SlidingWindowLimiter(max_failures, window)
        self._by_source = SlidingWindowLimiter(max_failures * 5, window)
        # Checked against when the serial is unknown, so that an unknown serial costs as
        # much time as a wrong PIN and the answer's timing does not tell which serials exist.
        self._dummy_hash = hasher.hash(secrets.token_urlsafe(8))

    def _mac(self, serial: str, pin: str) -> bytes:
        return hmac.new(self._key, f"{serial}\0{pin}".encode(), hashlib.sha256).digest()

    def forget(self, serial: str) -> None:
        """The meter's PIN changed or the meter is gone: check slowly again next time."""
        self._verified.pop(serial.strip().upper(), None)

    async def authenticate(self, serial: str, pin: str, source: str) -> str:
        """The canonical serial if the PIN is right; raises otherwise."""
        canonical = serial.strip().upper()
        now = self._clock.now()
        for limiter, key in ((self._by_serial, canonical), (self._by_source, source)):
            if limiter.is_blocked(key, now):
                raise MeterAuthRateLimited(limiter.retry_after(key, now))
        mac = self._mac(canonical, pin)
        known = self._verified.get(canonical)
        if known is not None and hmac.compare_digest(known, mac):
            return canonical
        stored = await self._pin_hash_of(canonical)
        # The slow hash runs in a worker thread: tens of milliseconds of argon2 on the event
        # loop would stall every charger and meter this process serves.
        right = await asyncio.to_thread(self._hasher.verify, stored or self._dummy_hash, pin)
        if stored is not None and right:
            self._verified[canonical] = mac
            return canonical
        self._by_serial.record(canonical, now)
        self._by_source.record(source, now)
        raise MeterAuthenticationFailed("wrong serial number or PIN")
