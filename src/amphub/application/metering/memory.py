"""In-memory directory and recorder: for tests, benchmarks and a database-free demo."""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from amphub.application.metering.ports import AcceptedReading, MeterStatusEvent
from amphub.domain.metering import MeterConfig


class InMemoryMeterDirectory:
    def __init__(self, meters: Iterable[MeterConfig] = ()) -> None:
        self._meters = {meter.serial: meter for meter in meters}

    def add(self, meter: MeterConfig) -> None:
        self._meters[meter.serial] = meter

    def remove(self, serial: str) -> None:
        self._meters.pop(serial, None)

    async def find_by_serial(self, serial: str) -> MeterConfig | None:
        return self._meters.get(serial)

    async def list_meters(self) -> Sequence[MeterConfig]:
        return list(self._meters.values())


class InMemoryReadingRecorder:
    """Keeps everything; ``fail_next`` makes the next calls raise, to test failure paths."""

    def __init__(self) -> None:
        self.readings: list[AcceptedReading] = []
        self.events: list[MeterStatusEvent] = []
        self.fail_next = 0

    async def record_readings(self, readings: Sequence[AcceptedReading]) -> None:
        self._maybe_fail()
        self.readings.extend(readings)

    async def record_status_events(self, events: Sequence[MeterStatusEvent]) -> None:
        self._maybe_fail()
        self.events.extend(events)

    def _maybe_fail(self) -> None:
        if self.fail_next > 0:
            self.fail_next -= 1
            raise RuntimeError("recorder failure (injected)")
