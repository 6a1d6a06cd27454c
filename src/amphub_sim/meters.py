"""The site's meter, over the wire like a real one: it pushes readings over HTTP or MQTT
every ``interval_s`` real seconds, or serves them over Modbus TCP in the Eastron SDM630
register layout for amphub to poll.

A reading is what :class:`MeterSource` says the grid connection carries now (building,
plus the chargers when the meter is placed "including charge points"), stamped with real
UTC time: amphub refuses readings from the future and counts a meter's silence in real
seconds, whatever the simulation's speed.
"""

from __future__ import annotations

import asyncio
import json
import logging
import math
import struct
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol

import aiomqtt
import httpx
from pymodbus.server import ModbusTcpServer
from pymodbus.simulator import DataType, SimData, SimDevice

from amphub.domain.units import PhaseCurrents
from amphub_sim.wire import timestamp

LOGGER = logging.getLogger(__name__)
FC_INPUT = 4


@dataclass(frozen=True, slots=True)
class MeterSample:
    currents: PhaseCurrents
    voltages: tuple[float, float, float]
    energy_import_wh: float

    def powers_w(self) -> tuple[float, float, float]:
        return (
            self.currents.l1_a * self.voltages[0],
            self.currents.l2_a * self.voltages[1],
            self.currents.l3_a * self.voltages[2],
        )

    def payload(self, measured_at: datetime) -> dict[str, Any]:
        """The JSON reading of docs/meters.md."""
        powers = self.powers_w()
        return {
            "measured_at": timestamp(measured_at),
            "currents_a": _phases(self.currents.as_tuple(), 3),
            "voltages_v": _phases(self.voltages, 2),
            "power_w": round(sum(powers), 1),
            "power_w_per_phase": _phases(powers, 1),
            "energy_import_wh": round(self.energy_import_wh, 1),
        }


def _phases(values: tuple[float, float, float], digits: int) -> dict[str, float]:
    return {f"l{i}": round(v, digits) for i, v in enumerate(values, start=1)}


MeterSource = Callable[[], MeterSample]


@dataclass(slots=True)
class MeterStats:
    sent: int = 0
    accepted: int = 0
    refused: int = 0
    last_error: str = ""


class SimMeter(Protocol):
    stats: MeterStats

    async def run(self) -> None: ...


class HttpMeter:
    """``POST /api/v1/meter-readings`` with HTTP Basic serial:PIN."""

    def __init__(
        self,
        base_url: str,
        serial: str,
        pin: str,
        source: MeterSource,
        interval_s: float,
        clock: Callable[[], datetime],
    ) -> None:
        self._url = f"{base_url.rstrip('/')}/api/v1/meter-readings"
        self._auth = (serial, pin)
        self._source = source
        self._interval_s = interval_s
        self._clock = clock
        self.stats = MeterStats()

    async def run(self) -> None:
        async with httpx.AsyncClient(auth=self._auth, timeout=10) as client:
            while True:
                body = self._source().payload(self._clock())
                self.stats.sent += 1
                try:
                    response = await client.post(self._url, json=body)
                except httpx.HTTPError as error:
                    self.stats.refused += 1
                    self.stats.last_error = f"{type(error).__name__}: {error}"
                else:
                    if response.status_code == 200:
                        self.stats.accepted += 1
                    else:
                        self.stats.refused += 1
                        self.stats.last_error = f"HTTP {response.status_code}: {response.text}"
                        LOGGER.warning("meter reading refused: %s", self.stats.last_error)
                await asyncio.sleep(self._interval_s)


class MqttMeter:
    """Publishes to ``amphub/meters/{serial}/readings``, logged in as serial:PIN."""

    def __init__(
        self,
        host: str,
        port: int,
        serial: str,
        pin: str,
        source: MeterSource,
        interval_s: float,
        clock: Callable[[], datetime],
    ) -> None:
        self._host, self._port = host, port
        self._serial, self._pin = serial, pin
        self._source = source
        self._interval_s = interval_s
        self._clock = clock
        self.stats = MeterStats()

    async def run(self) -> None:
        topic = f"amphub/meters/{self._serial}/readings"
        while True:
            try:
                async with aiomqtt.Client(
                    self._host, self._port, username=self._serial, password=self._pin
                ) as client:
                    while True:
                        body = json.dumps(self._source().payload(self._clock()))
                        await client.publish(topic, body, qos=1)
                        self.stats.sent += 1  # whether amphub takes it shows in its status
                        await asyncio.sleep(self._interval_s)
            except aiomqtt.MqttError as error:
                self.stats.last_error = f"MQTT: {error}"
                LOGGER.warning("meter: %s", self.stats.last_error)
                await asyncio.sleep(2.0)


def _float32_words(value: float) -> list[int]:
    high, low = struct.unpack(">HH", struct.pack(">f", value))
    return [high, low]


def sdm630_registers(sample: MeterSample) -> dict[int, list[int]]:
    """Input registers (function 04) of an Eastron SDM630 holding ``sample``: float32, big
    endian words; currents as magnitudes (the meter has no sign; the powers carry it)."""
    powers = sample.powers_w()
    words: dict[int, list[int]] = {}
    for i in range(3):
        words[0x0000 + 2 * i] = _float32_words(sample.voltages[i])
        words[0x0006 + 2 * i] = _float32_words(abs(sample.currents.as_tuple()[i]))
        words[0x000C + 2 * i] = _float32_words(powers[i])
    words[0x0034] = _float32_words(sum(powers))
    words[0x0048] = _float32_words(sample.energy_import_wh / 1000)
    words[0x004A] = _float32_words(0.0)
    return words


class ModbusMeter:
    """A Modbus TCP server amphub polls; the registers are refreshed every ``interval_s``."""

    def __init__(
        self, host: str, port: int, unit_id: int, source: MeterSource, interval_s: float
    ) -> None:
        self._host, self.port, self._unit = host, port, unit_id
        self._source = source
        self._interval_s = interval_s
        self._server: ModbusTcpServer | None = None
        self.stats = MeterStats()

    async def start(self) -> None:
        """Listen now (so the port is known before the meter is registered)."""
        registers = [SimData(0, count=128, values=0, datatype=DataType.REGISTERS)]
        bits = [SimData(0, count=16, values=False, datatype=DataType.BITS)]
        device = SimDevice(id=self._unit, simdata=(bits, bits, registers, registers))
        self._server = ModbusTcpServer(device, address=(self._host, self.port))
        await self._server.listen()
        sockets = getattr(self._server.transport, "sockets", None)
        assert sockets, "the Modbus server is not listening"
        self.port = int(sockets[0].getsockname()[1])
        await self._refresh()

    async def _refresh(self) -> None:
        assert self._server is not None
        for address, words in sdm630_registers(self._source()).items():
            await self._server.context.async_setValues(self._unit, FC_INPUT, address, words)
        self.stats.sent += 1

    async def run(self) -> None:
        if self._server is None:
            await self.start()
        try:
            while True:
                await asyncio.sleep(self._interval_s)
                await self._refresh()
        finally:
            if self._server is not None:
                await self._server.shutdown()  # type: ignore[no-untyped-call]
                self._server = None


def grid_voltages(second: float) -> tuple[float, float, float]:
    """230 V with a slow wander of ±2 V per phase, so readings never repeat exactly."""
    v = [round(230.0 + 2.0 * math.sin(second / 97.0 + phase * 2.1), 2) for phase in range(3)]
    return (v[0], v[1], v[2])
