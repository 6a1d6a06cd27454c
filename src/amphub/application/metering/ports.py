"""What metering needs from the outside world. The store implements the directory and the
recorder; the password hasher (argon2) implements ``SecretHasher`` (amphub.application.ports,
re-exported here)."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Protocol

from amphub.application.ports import SecretHasher as SecretHasher
from amphub.domain.metering import MeterConfig, MeterReading, MeterTransport, StatusTransition

Clock = Callable[[], datetime]
"""Returns the current time, UTC-aware."""


def utc_now() -> datetime:
    return datetime.now(UTC)


@dataclass(frozen=True, slots=True)
class AcceptedReading:
    """A reading that passed validation, as it is to be stored."""

    meter_id: int
    site_id: int
    reading: MeterReading
    received_at: datetime
    transport: MeterTransport


@dataclass(frozen=True, slots=True)
class MeterStatusEvent:
    meter_id: int
    site_id: int
    transition: StatusTransition


class MeterDirectory(Protocol):
    """Registered meters, looked up by serial number."""

    async def find_by_serial(self, serial: str) -> MeterConfig | None:
        """The meter with this (canonical, upper-case) serial, or ``None``."""
        ...

    async def list_meters(self) -> Sequence[MeterConfig]:
        """Every registered meter, read once at start-up to resume their statuses."""
        ...


class ReadingRecorder(Protocol):
    """Persists what ingestion decided. Called from one background writer, in batches."""

    async def record_readings(self, readings: Sequence[AcceptedReading]) -> None: ...

    async def record_status_events(self, events: Sequence[MeterStatusEvent]) -> None:
        """Store the transitions and update each meter's current status."""
        ...


class MeterReadingSink(Protocol):
    """Where transports hand what they receive (``MeterIngestion`` in production)."""

    async def ingest_payload(
        self, serial: str, raw: bytes | str, *, transport: MeterTransport
    ) -> IngestOutcome:
        """Parse and take in a JSON payload (HTTP, MQTT)."""
        ...

    async def ingest(
        self, serial: str, readings: Sequence[MeterReading], *, transport: MeterTransport
    ) -> IngestOutcome:
        """Take in readings already decoded (Modbus)."""
        ...


class IngestOutcome(Protocol):
    """What a transport may look at in the answer: how many readings were taken in."""

    @property
    def accepted(self) -> int: ...
