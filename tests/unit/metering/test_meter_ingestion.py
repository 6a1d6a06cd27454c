"""MeterIngestion with in-memory ports and a fake clock."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from amphub.application.metering import (
    LiveReading,
    MeterIngestion,
    PayloadError,
    UnknownMeter,
    WrongTransport,
)
from amphub.application.metering.memory import InMemoryMeterDirectory, InMemoryReadingRecorder
from amphub.domain.metering import (
    MeterConfig,
    MeterReading,
    MeterStatus,
    MeterTransport,
    RejectionReason,
    StatusTransition,
)
from amphub.domain.units import PhaseCurrents

T0 = datetime(2025, 3, 1, 12, 0, tzinfo=UTC)
SERIAL = "AMH-AAAA-BBBB-CCCC-DDDD"
OTHER = "AMH-ZZZZ-YYYY-XXXX-WWWW"
MQTT = MeterTransport.MQTT


class FakeClock:
    def __init__(self, now: datetime) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += timedelta(seconds=seconds)


def meter(serial: str = SERIAL, meter_id: int = 1, **changes: Any) -> MeterConfig:
    fields: dict[str, Any] = {
        "meter_id": meter_id,
        "site_id": 10,
        "serial": serial,
        "main_fuse_a": 25.0,
        "transport": MQTT,
        "frozen_after_n": 3,
    }
    fields.update(changes)
    return MeterConfig(**fields)


def payload(at: datetime, l1: float = 10.0, **extra: Any) -> bytes:
    return json.dumps(
        {"measured_at": at.isoformat(), "currents_a": {"l1": l1, "l2": 2.0, "l3": -1.0}, **extra}
    ).encode()


def reading(at: datetime, l1: float = 10.0) -> MeterReading:
    return MeterReading(at, PhaseCurrents(l1, 2.0, -1.0))


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock(T0)


@pytest.fixture
def directory() -> InMemoryMeterDirectory:
    return InMemoryMeterDirectory([meter(), meter(OTHER, 2, transport=MeterTransport.HTTP)])


@pytest.fixture
def recorder() -> InMemoryReadingRecorder:
    return InMemoryReadingRecorder()


@pytest.fixture
async def ingestion(
    directory: InMemoryMeterDirectory, recorder: InMemoryReadingRecorder, clock: FakeClock
) -> AsyncIterator[MeterIngestion]:
    async with MeterIngestion(
        directory, recorder, clock=clock, watchdog_interval_s=3600
    ) as service:
        yield service


async def test_accepted_reading_is_live_at_once_and_stored(
    ingestion: MeterIngestion, recorder: InMemoryReadingRecorder, clock: FakeClock
) -> None:
    result = await ingestion.ingest_payload(
        SERIAL, payload(T0 - timedelta(seconds=1)), transport=MQTT
    )
    assert (result.meter_id, result.accepted, result.rejected, result.status) == (
        1,
        1,
        (),
        MeterStatus.ACTIVE,
    )
    clock.advance(2.5)
    latest = ingestion.live.latest(1)
    assert latest is not None
    assert latest[0].currents_a == PhaseCurrents(10.0, 2.0, -1.0)
    assert latest[1] == timedelta(seconds=2.5)
    await ingestion.flush()
    assert [(r.meter_id, r.site_id, r.received_at, r.transport) for r in recorder.readings] == [
        (1, 10, T0, MQTT)
    ]
    assert [(e.meter_id, e.transition) for e in recorder.events] == [
        (1, StatusTransition(MeterStatus.NEVER_SEEN, MeterStatus.ACTIVE, T0))
    ]
    assert ingestion.counters.accepted[1] == 1


async def test_rejected_reading_never_reaches_the_balancer(
    ingestion: MeterIngestion, recorder: InMemoryReadingRecorder
) -> None:
    with ingestion.live.subscribe() as subscription:
        result = await ingestion.ingest_payload(SERIAL, payload(T0, l1=51.0), transport=MQTT)
        assert subscription.get_nowait() is None
    assert result.accepted == 0
    (rejected,) = result.rejected
    assert rejected.path == "currents_a.l1"
    assert rejected.rejection.reason is RejectionReason.CURRENT_OUT_OF_RANGE
    assert result.status is MeterStatus.NEVER_SEEN
    assert ingestion.live.latest(1) is None
    assert ingestion.counters.rejected_for(1) == {RejectionReason.CURRENT_OUT_OF_RANGE: 1}
    await ingestion.flush()
    assert recorder.readings == []


async def test_batch_is_taken_in_timestamp_order_and_errors_name_the_index(
    ingestion: MeterIngestion,
) -> None:
    at = [T0 - timedelta(seconds=s) for s in (3, 2, 1)]
    batch = {
        "readings": [
            json.loads(payload(at[2], l1=3.0)),
            json.loads(payload(at[0], l1=1.0)),
            json.loads(payload(at[1], l1=float("nan"))),
            json.loads(payload(at[0], l1=1.0)),  # a retry of readings[1]
        ]
    }
    result = await ingestion.ingest_payload(SERIAL, json.dumps(batch), transport=MQTT)
    assert result.accepted == 2
    assert [(r.index, r.path, r.rejection.reason) for r in result.rejected] == [
        (2, "readings[2].currents_a.l1", RejectionReason.NOT_FINITE),
        (3, "readings[3].measured_at", RejectionReason.DUPLICATE),
    ]
    latest = ingestion.live.latest(1)
    assert latest is not None
    assert latest[0].currents_a.l1_a == 3.0  # the newest one is live


async def test_unknown_serial_and_wrong_transport_are_refused(ingestion: MeterIngestion) -> None:
    with pytest.raises(UnknownMeter):
        await ingestion.ingest_payload("AMH-2222-3333-4444-5555", payload(T0), transport=MQTT)
    with pytest.raises(WrongTransport):
        await ingestion.ingest_payload(OTHER, payload(T0), transport=MQTT)
    assert ingestion.counters.unknown_serials[MQTT] == 2


async def test_payload_serial_must_match_the_sender(ingestion: MeterIngestion) -> None:
    with pytest.raises(PayloadError) as raised:
        await ingestion.ingest_payload(SERIAL, payload(T0, serial=OTHER), transport=MQTT)
    assert raised.value.field == "serial"
    result = await ingestion.ingest_payload(
        SERIAL.lower(), payload(T0, serial=SERIAL.lower()), transport=MQTT
    )
    assert result.accepted == 1
    with pytest.raises(PayloadError):
        await ingestion.ingest_payload(SERIAL, b"{}", transport=MQTT)
    assert ingestion.counters.payload_errors[MQTT] == 2


async def test_watchdog_flips_silent_meter_inactive_and_back(
    ingestion: MeterIngestion, recorder: InMemoryReadingRecorder, clock: FakeClock
) -> None:
    transitions: list[tuple[int, StatusTransition]] = []
    ingestion.live.add_status_listener(lambda meter_id, t: transitions.append((meter_id, t)))
    await ingestion.ingest_payload(SERIAL, payload(T0), transport=MQTT)
    clock.advance(30)
    await ingestion.check_statuses()
    assert ingestion.live.status(1) is MeterStatus.ACTIVE
    clock.advance(0.5)
    await ingestion.check_statuses()
    assert ingestion.live.status(1) is MeterStatus.INACTIVE
    await ingestion.check_statuses()  # no second event
    clock.advance(60)
    result = await ingestion.ingest_payload(SERIAL, payload(clock.now, l1=4.0), transport=MQTT)
    assert result.status is MeterStatus.ACTIVE
    await ingestion.flush()
    expected = [
        StatusTransition(MeterStatus.NEVER_SEEN, MeterStatus.ACTIVE, T0),
        StatusTransition(MeterStatus.ACTIVE, MeterStatus.INACTIVE, T0 + timedelta(seconds=30)),
        StatusTransition(MeterStatus.INACTIVE, MeterStatus.ACTIVE, T0 + timedelta(seconds=90.5)),
    ]
    assert [e.transition for e in recorder.events] == expected
    assert transitions == [(1, t) for t in expected]


async def test_rejected_readings_do_not_keep_a_meter_alive(
    ingestion: MeterIngestion, clock: FakeClock
) -> None:
    await ingestion.ingest_payload(SERIAL, payload(T0), transport=MQTT)
    for _ in range(31):
        clock.advance(1)
        await ingestion.ingest_payload(SERIAL, payload(clock.now, l1=999.0), transport=MQTT)
    await ingestion.check_statuses()
    assert ingestion.live.status(1) is MeterStatus.INACTIVE


async def test_frozen_meter_is_refused_after_n_identical_readings(
    ingestion: MeterIngestion, clock: FakeClock
) -> None:
    reasons = []
    for _ in range(4):
        clock.advance(1)
        result = await ingestion.ingest(SERIAL, [reading(clock.now)], transport=MQTT)
        reasons.append([r.rejection.reason for r in result.rejected])
    assert reasons == [[], [], [RejectionReason.FROZEN], [RejectionReason.FROZEN]]
    clock.advance(1)
    assert (
        await ingestion.ingest(SERIAL, [reading(clock.now, l1=10.1)], transport=MQTT)
    ).accepted == 1


async def test_backlog_is_stored_but_not_live(
    ingestion: MeterIngestion, recorder: InMemoryReadingRecorder
) -> None:
    result = await ingestion.ingest(SERIAL, [reading(T0 - timedelta(minutes=5))], transport=MQTT)
    assert result.accepted == 1
    assert result.status is MeterStatus.NEVER_SEEN
    assert ingestion.live.latest(1) is None
    assert ingestion.counters.stale[1] == 1
    await ingestion.flush()
    assert len(recorder.readings) == 1


async def test_restart_resumes_recorded_status_with_one_timeout_of_grace(
    recorder: InMemoryReadingRecorder, clock: FakeClock
) -> None:
    directory = InMemoryMeterDirectory([meter(status=MeterStatus.ACTIVE)])
    async with MeterIngestion(
        directory, recorder, clock=clock, watchdog_interval_s=3600
    ) as service:
        assert service.live.status(1) is MeterStatus.ACTIVE
        clock.advance(30)
        await service.check_statuses()
        assert service.live.status(1) is MeterStatus.ACTIVE
        clock.advance(1)
        await service.check_statuses()
        assert service.live.status(1) is MeterStatus.INACTIVE
    assert [e.transition.to_status for e in recorder.events] == [MeterStatus.INACTIVE]


async def test_watchdog_task_runs_by_itself(
    recorder: InMemoryReadingRecorder, clock: FakeClock
) -> None:
    directory = InMemoryMeterDirectory([meter()])
    async with MeterIngestion(
        directory, recorder, clock=clock, watchdog_interval_s=0.01
    ) as service:
        went_inactive = asyncio.Event()
        service.live.add_status_listener(
            lambda _, t: went_inactive.set() if t.to_status is MeterStatus.INACTIVE else None
        )
        await service.ingest(SERIAL, [reading(T0)], transport=MQTT)
        clock.advance(31)
        async with asyncio.timeout(5):
            await went_inactive.wait()


async def test_recorder_failure_is_counted_and_writing_goes_on(
    ingestion: MeterIngestion, recorder: InMemoryReadingRecorder, clock: FakeClock
) -> None:
    recorder.fail_next = 1
    await ingestion.ingest(SERIAL, [reading(T0)], transport=MQTT)
    await ingestion.flush()
    assert ingestion.counters.recorder_failures == 1
    clock.advance(1)
    await ingestion.ingest(SERIAL, [reading(clock.now, l1=11.0)], transport=MQTT)
    await ingestion.flush()
    assert [r.reading.currents_a.l1_a for r in recorder.readings] == [11.0]


async def test_meter_settings_change_and_removal(
    ingestion: MeterIngestion, directory: InMemoryMeterDirectory, clock: FakeClock
) -> None:
    assert (await ingestion.ingest(SERIAL, [reading(T0, l1=40.0)], transport=MQTT)).accepted == 1
    ingestion.update_meter(meter(main_fuse_a=16.0))
    clock.advance(1)
    result = await ingestion.ingest(SERIAL, [reading(clock.now, l1=40.0)], transport=MQTT)
    assert [r.rejection.reason for r in result.rejected] == [RejectionReason.CURRENT_OUT_OF_RANGE]
    ingestion.forget_meter(SERIAL)
    directory.remove(SERIAL)
    assert ingestion.live.latest(1) is None
    with pytest.raises(UnknownMeter):
        await ingestion.ingest(SERIAL, [reading(clock.now)], transport=MQTT)


async def test_replaced_meter_may_restart_its_counters(
    ingestion: MeterIngestion, clock: FakeClock
) -> None:
    old = MeterReading(T0, PhaseCurrents(1, 1, 1), energy_import_wh=9_000_000.0)
    assert (await ingestion.ingest(SERIAL, [old], transport=MQTT)).accepted == 1
    clock.advance(1)
    new = MeterReading(clock.now, PhaseCurrents(1, 1, 1), energy_import_wh=12.0)
    assert (await ingestion.ingest(SERIAL, [new], transport=MQTT)).rejected[0].rejection.reason is (
        RejectionReason.ENERGY_DECREASED
    )
    ingestion.reset_history(SERIAL)
    assert (await ingestion.ingest(SERIAL, [new], transport=MQTT)).accepted == 1


async def test_subscribers_and_listeners(ingestion: MeterIngestion, clock: FakeClock) -> None:
    seen: list[LiveReading] = []

    def broken(_: LiveReading) -> None:
        raise RuntimeError("listener bug")

    remove_broken = ingestion.live.add_listener(broken)
    ingestion.live.add_listener(seen.append)
    only_meter_2 = ingestion.live.subscribe(2)
    with ingestion.live.subscribe(1, maxsize=2) as subscription:
        for k in range(3):
            await ingestion.ingest(
                SERIAL, [reading(T0 + timedelta(seconds=k), l1=float(k))], transport=MQTT
            )
        assert subscription.dropped == 1
        first = await subscription.get()
        assert first.reading.currents_a.l1_a == 1.0
        assert (await anext(subscription)).reading.currents_a.l1_a == 2.0
    assert [live.reading.currents_a.l1_a for live in seen] == [0.0, 1.0, 2.0]
    assert only_meter_2.get_nowait() is None
    remove_broken()
    only_meter_2.close()
