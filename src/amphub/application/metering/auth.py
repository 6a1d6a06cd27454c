"""Meters pushing over HTTP log in with HTTP Basic ``serial:PIN`` (seed 002).

The PIN is stored as an argon2 hash, whose verification costs tens of milliseconds of CPU
on purpose. A meter pushing every second must not pay that each time, and a thousand
meters could not: a successful verification is remembered for ``cache_ttl`` as a keyed
hash of serial and PIN (never the PIN itself), and verifications run in a worker thread so
they do not stall the event loop. Wrong PINs are rate-limited per serial and per client
address: after ``max_failures`` within ``window`` both are refused until the window
passes (HTTP 429 with Retry-After), which makes guessing 10⁸ PINs hopeless.
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import logging
import secrets
from collections import deque
from datetime import datetime, timedelta
from typing import Protocol

from amphub.application.metering.ports import Clock, SecretHasher, utc_now
from amphub.domain.metering import PIN_LENGTH, is_valid_serial

_log = logging.getLogger(__name__)

_MAX_TRACKED = 10_000
"""Failure histories kept at most (oldest dropped first), so a flood of addresses cannot
grow memory without bound."""


class MeterPinHashes(Protocol):
    async def pin_hash(self, serial: str) -> str | None:
        """The stored PIN hash of the meter with this (canonical) serial, or ``None``."""
        ...


class TooManyAttempts(Exception):
    def __init__(self, retry_after_s: float) -> None:
        super().__init__(f"too many wrong PINs; retry in {retry_after_s:.0f} s")
        self.retry_after_s = retry_after_s


class MeterAuthenticator:
    def __init__(
        self,
        pin_hashes: MeterPinHashes,
        hasher: SecretHasher,
        *,
        clock: Clock = utc_now,
        cache_ttl: timedelta = timedelta(minutes=15),
        max_failures: int = 5,
        window: timedelta = timedelta(minutes=1),
    ) -> None:
        self._pin_hashes = pin_hashes
        self._hasher = hasher
        self._clock = clock
        self._cache_ttl = cache_ttl
        self._max_failures = max_failures
        self._window = window
        self._key = secrets.token_bytes(32)  # per process: cached digests mean nothing elsewhere
        self._verified: dict[str, tuple[bytes, datetime]] = {}
        self._failures: dict[tuple[str, str], deque[datetime]] = {}
        self._dummy_hash: str | None = None

    async def authenticate(self, serial: str, pin: str, *, client: str | None = None) -> bool:
        """``True`` if ``pin`` is the PIN of the meter ``serial``. Raises ``TooManyAttempts``
        while the serial or the client is locked out, even for the right PIN."""
        now = self._clock()
        canonical = serial.strip().upper()
        keys = [("serial", canonical)] + ([("client", client)] if client else [])
        self._refuse_if_locked_out(keys, now)
        digest = hmac.new(self._key, f"{canonical}:{pin}".encode(), hashlib.sha256).digest()
        cached = self._verified.get(canonical)
        if (
            cached is not None
            and now - cached[1] < self._cache_ttl
            and hmac.compare_digest(cached[0], digest)
        ):
            return True
        if not self._well_formed(canonical, pin):
            self._record_failure(keys, now)
            return False
        stored = await self._pin_hashes.pin_hash(canonical)
        # an unknown serial costs as much as a wrong PIN: timing must not reveal serials
        ok = await self._verify(pin, stored if stored is not None else await self._dummy())
        if ok and stored is not None:
            self._verified[canonical] = (digest, now)
            return True
        self._record_failure(keys, now)
        return False

    def forget(self, serial: str) -> None:
        """Drop the remembered verification: call when the PIN is regenerated or the meter
        deleted, so the old PIN stops working at once."""
        self._verified.pop(serial.strip().upper(), None)

    @staticmethod
    def _well_formed(serial: str, pin: str) -> bool:
        return (
            is_valid_serial(serial) and len(pin) == PIN_LENGTH and pin.isascii() and pin.isdigit()
        )

    async def _verify(self, pin: str, hashed: str) -> bool:
        try:
            return await asyncio.to_thread(self._hasher.verify, pin, hashed)
        except Exception:  # a corrupt stored hash must read as "wrong", not crash the request
            _log.exception("verifying a meter PIN failed")
            return False

    async def _dummy(self) -> str:
        if self._dummy_hash is None:
            self._dummy_hash = await asyncio.to_thread(self._hasher.hash, secrets.token_hex(8))
        return self._dummy_hash

    def _recent(self, key: tuple[str, str], now: datetime) -> deque[datetime]:
        history = self._failures.get(key)
        if history is None:
            return deque()
        while history and now - history[0] >= self._window:
            history.popleft()
        if not history:
            del self._failures[key]
        return history

    def _refuse_if_locked_out(self, keys: list[tuple[str, str]], now: datetime) -> None:
        for key in keys:
            history = self._recent(key, now)
            if len(history) >= self._max_failures:
                retry_after = history[-self._max_failures] + self._window - now
                raise TooManyAttempts(max(retry_after.total_seconds(), 1.0))

    def _record_failure(self, keys: list[tuple[str, str]], now: datetime) -> None:
        for key in keys:
            history = self._recent(key, now)
            if not history:
                if len(self._failures) >= _MAX_TRACKED:
                    del self._failures[next(iter(self._failures))]
                self._failures[key] = history
            history.append(now)
        _log.warning(
            "wrong meter login for %s", " / ".join(f"{kind} {value}" for kind, value in keys)
        )
