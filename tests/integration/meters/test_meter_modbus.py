"""Modbus TCP polling against a real pymodbus server on an ephemeral port, holding the
register values the test sets, for both shipped register maps."""

from __future__ import annotations

import asyncio
import dataclasses
import struct
from collections.abc import AsyncIterator
from datetime import UTC, datetime

import pytest
from pymodbus.constants import ExcCodes
from pymodbus.server import ModbusTcpServer
from pymodbus.simulator import DataType, SimData, SimDevice

from amphub.adapters.meters.modbus import ModbusMeterPoller, ModbusMeterSettings, ModbusPollers
from amphub.application.metering import LiveReading, MeterIngestion, Subscription, generate_serial
from amphub.application.metering.memory import InMemoryMeterDirectory, InMemoryReadingRecorder
from amphub.domain.metering import (
    MeterConfig,
    MeterStatus,
    MeterTransport,
    PhasePowers,
    PhaseVoltages,
)
from amphub.domain.units import PhaseCurrents
from tests.support.waiting import eventually

UNIT = 7
FC_HOLDING, FC_INPUT = 3, 4


def f32(value: float) -> list[int]:
    high, low = struct.unpack(">HH", struct.pack(">f", value))
    return [high, low]


def i32_lsw_first(value: int) -> list[int]:
    high, low = struct.unpack(">HH", struct.pack(">i", value))
    return [low, high]


class FakeMeter:
    """A pymodbus server standing in for a meter; ``stalled`` makes it stop answering."""

    def __init__(self) -> None:
        self.port = 0
        self.stalled = False
        self._server: ModbusTcpServer | None = None
        self._release = asyncio.Event()

    async def _action(
        self, function_code: int, start: int, address: int, count: int,
        registers: list[int], values: list[int] | list[bool] | None,
    ) -> ExcCodes | None:  # fmt: skip
        if values is None and self.stalled:  # a read while stalled: never answer in time
            await self._release.wait()
        return None

    async def start(self) -> None:
        registers = [SimData(0, count=256, values=0, datatype=DataType.REGISTERS)]
        bits = [SimData(0, count=16, values=False, datatype=DataType.BITS)]
        device = SimDevice(id=UNIT, simdata=(bits, bits, registers, registers), action=self._action)
        self._server = ModbusTcpServer(device, address=("127.0.0.1", self.port))
        await self._server.listen()
        assert self._server.transport is not None
        self.port = self._server.transport.sockets[0].getsockname()[1]

    async def stop(self) -> None:
        if self._server is not None:
            self._release.set()
            await self._server.shutdown()
            self._server = None
            self._release = asyncio.Event()

    def unstall(self) -> None:
        self.stalled = False
        self._release.set()
        self._release = asyncio.Event()

    async def set(self, function_code: int, address: int, words: list[int]) -> None:
        assert self._server is not None
        assert (
            await self._server.context.async_setValues(UNIT, function_code, address, words) is None
        )


@pytest.fixture
async def meter() -> AsyncIterator[FakeMeter]:
    fake = FakeMeter()
    await fake.start()
    yield fake
    await fake.stop()


class Harness:
    def __init__(self, meter: FakeMeter, register_map: str) -> None:
        self.serial = generate_serial()
        self.directory = InMemoryMeterDirectory(
            [MeterConfig(3, 30, self.serial, 35.0, MeterTransport.MODBUS)]
        )
        self.ingestion = MeterIngestion(self.directory, InMemoryReadingRecorder())
        self.settings = ModbusMeterSettings(
            self.serial,
            "127.0.0.1",
            port=meter.port,
            unit_id=UNIT,
            register_map=register_map,
            interval_s=0.05,
            timeout_s=0.3,
            backoff_max_s=0.2,
        )


async def next_reading(subscription: Subscription) -> LiveReading:
    async with asyncio.timeout(10):
        return await subscription.get()


async def test_sdm630_values_arrive_decoded_exactly(meter: FakeMeter) -> None:
    await meter.set(FC_INPUT, 0x0000, f32(230.5) + f32(229.75) + f32(231.25))
    await meter.set(FC_INPUT, 0x0006, f32(12.5) + f32(3.25) + f32(0.5))
    await meter.set(FC_INPUT, 0x000C, f32(2881.25) + f32(-747.5) + f32(115.0))
    await meter.set(FC_INPUT, 0x0034, f32(2248.75))
    await meter.set(FC_INPUT, 0x0048, f32(12345.5) + f32(67.25))
    harness = Harness(meter, "eastron_sdm630")
    async with harness.ingestion, ModbusPollers(harness.ingestion) as pollers:
        with harness.ingestion.live.subscribe(3) as subscription:
            before = datetime.now(UTC)
            pollers.start(harness.settings)
            live = await next_reading(subscription)
    reading = live.reading
    assert reading.currents_a == PhaseCurrents(12.5, -3.25, 0.5)  # L2 exports
    assert reading.voltages_v == PhaseVoltages(230.5, 229.75, 231.25)
    assert reading.power_w_per_phase == PhasePowers(2881.25, -747.5, 115.0)
    assert reading.power_w == 2248.75
    assert reading.energy_import_wh == 12_345_500.0
    assert reading.energy_export_wh == 67_250.0
    assert before <= reading.measured_at <= datetime.now(UTC)


async def test_em24_values_arrive_decoded_exactly(meter: FakeMeter) -> None:
    for address, raw in {
        0x00: 2305, 0x02: 2297, 0x04: 2312,  # V × 10
        0x0C: 12345, 0x0E: 3250, 0x10: 1,  # A × 1000
        0x12: 28812, 0x14: -7475, 0x16: 2,  # W × 10
        0x28: 21339,  # W × 10
        0x34: 123455, 0x4E: 673,  # kWh × 10
    }.items():  # fmt: skip
        await meter.set(FC_HOLDING, address, i32_lsw_first(raw))
    harness = Harness(meter, "carlo_gavazzi_em24")
    async with harness.ingestion, ModbusPollers(harness.ingestion) as pollers:
        with harness.ingestion.live.subscribe(3) as subscription:
            pollers.start(harness.settings)
            reading = (await next_reading(subscription)).reading
    assert reading.currents_a == PhaseCurrents(12.345, -3.25, 0.001)
    assert reading.voltages_v == PhaseVoltages(230.5, 229.7, 231.2)
    assert reading.power_w_per_phase == PhasePowers(2881.2, -747.5, 0.2)
    assert reading.power_w == 2133.9
    assert reading.energy_import_wh == 12_345_500.0
    assert reading.energy_export_wh == 67_300.0


async def _set_current(meter: FakeMeter, l1_a: float) -> None:
    await meter.set(FC_INPUT, 0x0006, f32(l1_a) + f32(1.0) + f32(1.0))
    await meter.set(FC_INPUT, 0x000C, f32(230.0 * l1_a) + f32(230.0) + f32(230.0))


async def test_a_meter_that_stops_answering_is_polled_until_it_answers_again(
    meter: FakeMeter,
) -> None:
    await _set_current(meter, 4.0)
    harness = Harness(meter, "eastron_sdm630")
    async with harness.ingestion:
        poller = ModbusMeterPoller(harness.settings, harness.ingestion)
        task = asyncio.create_task(poller.run())
        try:
            with harness.ingestion.live.subscribe(3) as subscription:
                assert (await next_reading(subscription)).reading.currents_a.l1_a == 4.0
                meter.stalled = True
                await eventually(lambda: poller.stats.consecutive_failures >= 2)
                assert "no response" in poller.stats.last_error.lower()  # the client timed out
                assert not task.done()
                await _set_current(meter, 9.0)
                while subscription.get_nowait() is not None:  # readings from before the stall
                    pass
                meter.unstall()
                assert (await next_reading(subscription)).reading.currents_a.l1_a == 9.0
                assert poller.stats.consecutive_failures == 0
        finally:
            task.cancel()
            await asyncio.wait({task})


async def test_a_dead_server_leaves_the_poller_alive_and_it_recovers(meter: FakeMeter) -> None:
    await _set_current(meter, 4.0)
    harness = Harness(meter, "eastron_sdm630")
    async with harness.ingestion, ModbusPollers(harness.ingestion) as pollers:
        poller = pollers.start(harness.settings)
        with harness.ingestion.live.subscribe(3) as subscription:
            await next_reading(subscription)
            await meter.stop()
            await eventually(lambda: poller.stats.consecutive_failures >= 3)
            connects = poller.stats.connects
            await meter.start()  # same port again
            await _set_current(meter, 6.5)
            while subscription.get_nowait() is not None:
                pass
            assert (await next_reading(subscription)).reading.currents_a.l1_a == 6.5
            assert poller.stats.connects == connects + 1
            assert harness.ingestion.live.status(3) is MeterStatus.ACTIVE


async def test_modbus_settings_from_stored_json() -> None:
    serial = generate_serial()
    settings = ModbusMeterSettings.from_mapping(serial, {"host": "10.0.0.5", "unit_id": 2})
    assert (settings.port, settings.unit_id, settings.interval_s) == (502, 2, 1.0)
    with pytest.raises(ValueError, match="unknown Modbus setting 'unitid'"):
        ModbusMeterSettings.from_mapping(serial, {"host": "10.0.0.5", "unitid": 2})
    with pytest.raises(ValueError, match="unit_id"):
        ModbusMeterSettings(serial, "10.0.0.5", unit_id=300)


async def test_pollers_follow_registration_changes(meter: FakeMeter) -> None:
    await _set_current(meter, 2.0)
    harness = Harness(meter, "eastron_sdm630")
    async with harness.ingestion, ModbusPollers(harness.ingestion) as pollers:
        assert pollers.apply(harness.serial, harness.settings)
        first = pollers.poller(harness.serial)
        assert pollers.apply(harness.serial, harness.settings)  # unchanged: same poller
        assert pollers.poller(harness.serial) is first
        slower = dataclasses.replace(harness.settings, interval_s=0.1)
        assert pollers.apply(harness.serial, slower)
        assert pollers.poller(harness.serial) is not first
        with harness.ingestion.live.subscribe(3) as subscription:
            await next_reading(subscription)
        broken = dataclasses.replace(harness.settings, register_map="no_such_meter")
        assert not pollers.apply(harness.serial, broken)
        assert pollers.poller(harness.serial) is None
        assert pollers.apply(harness.serial, None)
