"""Ports shared by several services. Service-specific ports live beside their service."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Protocol


class Clock(Protocol):
    def now(self) -> datetime:
        """The current time, timezone-aware UTC."""
        ...


class SystemClock:
    def now(self) -> datetime:
        return datetime.now(UTC)


class SecretHasher(Protocol):
    """Hashes secrets for storage and checks them. Slow (argon2) for low-entropy secrets such
    as user passwords and meter PINs; the implementation decides its parameters."""

    def hash(self, secret: str) -> str: ...

    def verify(self, stored_hash: str, secret: str) -> bool: ...
