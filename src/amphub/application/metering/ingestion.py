"""Meter ingestion: every reading from every transport passes through here.

For each reading: validate against the meter's settings and its recent history → refuse
with a reason, or accept → make it live for the balancer at once → queue it for storage.
A watchdog flips meters that fall silent to INACTIVE. Transports (HTTP route, MQTT
listener, Modbus poller) only turn bytes into calls of ``ingest_payload`` / ``ingest``.

Two rules beyond the domain's validation:

* A reading older than the meter timeout when it arrives (a meter uploading a backlog) is
  *history*: it is stored but neither shown to the balancer nor taken as a sign of life.
* A meter sends over the transport it was registered with; readings for it over another
  transport are refused (two sources would fight over ordering).
"""

from __future__ import annotations

import asyncio
import logging
from collections import deque
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from types import TracebackType

from amphub.application.metering._tasks import cancel_and_wait
from amphub.application.metering.counters import IngestCounters
from amphub.application.metering.live import LiveMeterState, LiveReading
from amphub.application.metering.payload import PayloadError, field_path, parse_payload
from amphub.application.metering.ports import (
    AcceptedReading,
    Clock,
    MeterDirectory,
    MeterStatusEvent,
    ReadingRecorder,
    utc_now,
)
from amphub.application.metering.writer import RecordWriter
from amphub.domain.metering import (
    MeterConfig,
    MeterReading,
    MeterStatus,
    MeterTransport,
    Rejection,
    RejectionReason,
    next_status,
    validate_reading,
)

_log = logging.getLogger(__name__)

REJECTION_LOG_INTERVAL = timedelta(minutes=1)
"""A meter sending bad data once a second must not flood the log: the first rejection per
meter and reason is logged, then one line a minute with the count in between."""


class UnknownMeter(Exception):
    def __init__(self, serial: str) -> None:
        super().__init__(f"no meter with serial {serial}")
        self.serial = serial


class WrongTransport(Exception):
    def __init__(self, serial: str, registered: MeterTransport, used: MeterTransport) -> None:
        super().__init__(f"meter {serial} is registered for {registered}, not {used}")
        self.serial = serial
        self.registered = registered
        self.used = used


@dataclass(frozen=True, slots=True)
class RejectedReading:
    index: int
    """Position in the message (0 for a single reading)."""
    rejection: Rejection
    path: str
    """The field as the meter named it: ``readings[3].currents_a.l2`` or ``currents_a.l2``."""


@dataclass(frozen=True, slots=True)
class IngestResult:
    meter_id: int
    accepted: int
    rejected: tuple[RejectedReading, ...]
    status: MeterStatus


@dataclass(slots=True)
class _MeterState:
    config: MeterConfig
    status: MeterStatus
    last_valid_received_at: datetime | None
    recent: deque[MeterReading]


def _history(config: MeterConfig, readings: Sequence[MeterReading] = ()) -> deque[MeterReading]:
    # the frozen rule needs N-1 readings; ordering and counters need the last one
    return deque(readings, maxlen=max((config.frozen_after_n or 2) - 1, 1))


class MeterIngestion:
    """Use as ``async with MeterIngestion(...) as ingestion:`` (or ``start``/``aclose``)."""

    def __init__(
        self,
        directory: MeterDirectory,
        recorder: ReadingRecorder,
        *,
        live: LiveMeterState | None = None,
        clock: Clock = utc_now,
        watchdog_interval_s: float = 1.0,
        max_queued_records: int = 10_000,
    ) -> None:
        self._directory = directory
        self._clock = clock
        self.live = live if live is not None else LiveMeterState(clock)
        self.counters = IngestCounters()
        self._writer = RecordWriter(
            recorder, on_failure=self._count_recorder_failure, max_queue=max_queued_records
        )
        self._watchdog_interval_s = watchdog_interval_s
        self._watchdog: asyncio.Task[None] | None = None
        self._states: dict[str, _MeterState] = {}
        self._rejection_log: dict[tuple[int, RejectionReason], tuple[datetime, int]] = {}

    # -- lifecycle ---------------------------------------------------------------------

    async def start(self) -> None:
        """Resume every registered meter's status, start the writer and the watchdog."""
        if self._watchdog is not None:
            return
        now = self._clock()
        for config in await self._directory.list_meters():
            self._track(config, now)
        self._writer.start()
        self._watchdog = asyncio.create_task(self._watch(), name="meter-status-watchdog")

    async def aclose(self) -> None:
        """Stop the watchdog, then store what is still queued."""
        if self._watchdog is not None:
            await cancel_and_wait(self._watchdog)
            self._watchdog = None
        await self._writer.aclose()

    async def __aenter__(self) -> MeterIngestion:
        await self.start()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.aclose()

    async def flush(self) -> None:
        """Wait until everything accepted so far has been handed to the recorder."""
        await self._writer.flush()

    # -- ingestion ---------------------------------------------------------------------

    async def ingest_payload(
        self, serial: str, raw: bytes | str, *, transport: MeterTransport
    ) -> IngestResult:
        """Parse a JSON payload (docs/meters.md) and ingest its readings.

        Raises ``PayloadError`` (not readings; ``field`` says where), ``UnknownMeter`` or
        ``WrongTransport``. Refused readings are in the result, not raised.
        """
        canonical = serial.strip().upper()
        try:
            parsed = parse_payload(raw)
            if parsed.serial is not None and parsed.serial != canonical:
                raise PayloadError("serial", f"does not match the sender's serial {canonical}")
        except PayloadError:
            self.counters.payload_errors[transport] += 1
            raise
        return await self.ingest(
            canonical, parsed.readings, transport=transport, is_batch=parsed.is_batch
        )

    async def ingest(
        self,
        serial: str,
        readings: Sequence[MeterReading],
        *,
        transport: MeterTransport,
        is_batch: bool = True,
    ) -> IngestResult:
        """Validate and take in readings of the meter with this (canonical) serial.

        A batch is taken in the order of the meters' own timestamps.
        """
        state = await self._state_for(serial, transport)
        config = state.config
        received_at = self._clock()
        accepted: list[AcceptedReading] = []
        rejected: list[RejectedReading] = []
        newest_live: MeterReading | None = None
        # from here to the first await nothing else runs: validation and state stay in step
        for index in sorted(range(len(readings)), key=lambda i: readings[i].measured_at):
            reading = readings[index]
            rejection = validate_reading(
                reading,
                main_fuse_a=config.main_fuse_a,
                last_accepted=state.recent[-1] if state.recent else None,
                recent=state.recent,
                frozen_after_n=config.frozen_after_n,
                now=received_at,
            )
            if rejection is not None:
                path = field_path(index if is_batch else None, rejection.field)
                rejected.append(RejectedReading(index, rejection, path))
                self._count_rejection(config, rejection, path, transport, received_at)
                continue
            state.recent.append(reading)
            accepted.append(
                AcceptedReading(config.meter_id, config.site_id, reading, received_at, transport)
            )
            if received_at - reading.measured_at <= config.timeout:
                newest_live = reading
            else:
                self.counters.stale[config.meter_id] += 1
        self.counters.accepted[config.meter_id] += len(accepted)
        event = None
        if newest_live is not None:
            state.last_valid_received_at = received_at
            self.live.publish(
                LiveReading(config.meter_id, config.site_id, newest_live, received_at)
            )
            event = self._advance_status(state, received_at)
        for record in accepted:
            await self._writer.put(record)
        if event is not None:
            await self._writer.put(event)
        rejected.sort(key=lambda r: r.index)
        return IngestResult(config.meter_id, len(accepted), tuple(rejected), state.status)

    async def check_statuses(self) -> None:
        """One pass of the watchdog: flip meters silent beyond their timeout to INACTIVE."""
        now = self._clock()
        events = [self._advance_status(state, now) for state in list(self._states.values())]
        for event in events:
            if event is not None:
                await self._writer.put(event)

    # -- meters changing under us ---------------------------------------------------------

    def update_meter(self, config: MeterConfig) -> None:
        """New settings of a meter (fuse, timeout, frozen N, transport): call after storing them."""
        state = self._states.get(config.serial)
        if state is None:
            self._track(config, self._clock())
            return
        state.config = config
        state.recent = _history(config, state.recent)

    def forget_meter(self, serial: str) -> None:
        """The meter was deleted."""
        state = self._states.pop(serial, None)
        if state is not None:
            self.live.forget(state.config.meter_id)

    def reset_history(self, serial: str) -> None:
        """The physical meter was replaced: its counters and clock start afresh, so ordering
        and counter checks must not compare against the old one's readings."""
        state = self._states.get(serial)
        if state is not None:
            state.recent.clear()

    # -- internals ---------------------------------------------------------------------

    def _track(self, config: MeterConfig, now: datetime) -> _MeterState:
        # a meter recorded ACTIVE before a restart gets one timeout of grace from now
        grace = now if config.status is MeterStatus.ACTIVE else None
        state = _MeterState(config, config.status, grace, _history(config))
        self._states[config.serial] = state
        self.live.set_status(config.meter_id, config.status, None)
        return state

    async def _state_for(self, serial: str, transport: MeterTransport) -> _MeterState:
        state = self._states.get(serial)
        if state is None:
            config = await self._directory.find_by_serial(serial)
            if config is None:
                self.counters.unknown_serials[transport] += 1
                raise UnknownMeter(serial)
            state = self._states.get(serial) or self._track(config, self._clock())
        if state.config.transport is not transport:
            self.counters.unknown_serials[transport] += 1
            raise WrongTransport(serial, state.config.transport, transport)
        return state

    def _advance_status(self, state: _MeterState, now: datetime) -> MeterStatusEvent | None:
        config = state.config
        status, transition = next_status(
            state.status,
            last_valid_received_at=state.last_valid_received_at,
            timeout=config.timeout,
            now=now,
        )
        if transition is None:
            return None
        state.status = status
        self.live.set_status(config.meter_id, status, transition)
        level = logging.INFO if status is MeterStatus.ACTIVE else logging.WARNING
        _log.log(
            level,
            "meter %s (id %d) %s → %s at %s",
            config.serial,
            config.meter_id,
            transition.from_status,
            transition.to_status,
            transition.at.isoformat(),
        )
        return MeterStatusEvent(config.meter_id, config.site_id, transition)

    def _count_rejection(
        self,
        config: MeterConfig,
        rejection: Rejection,
        path: str,
        transport: MeterTransport,
        now: datetime,
    ) -> None:
        key = (config.meter_id, rejection.reason)
        self.counters.rejected[key] += 1
        logged_at, suppressed = self._rejection_log.get(key, (None, 0))
        if logged_at is not None and now - logged_at < REJECTION_LOG_INTERVAL:
            self._rejection_log[key] = (logged_at, suppressed + 1)
            return
        self._rejection_log[key] = (now, 0)
        _log.warning(
            "meter %s (%s): reading refused, %s at %s: %s%s",
            config.serial,
            transport,
            rejection.reason,
            path or "(reading)",
            rejection.message,
            f" ({suppressed} more like it since the last log line)" if suppressed else "",
        )

    def _count_recorder_failure(self) -> None:
        self.counters.recorder_failures += 1

    async def _watch(self) -> None:
        while True:
            await asyncio.sleep(self._watchdog_interval_s)
            try:
                await self.check_statuses()
            except Exception:  # keep watching; a bug here must not silence status changes
                _log.exception("meter status watchdog pass failed")
