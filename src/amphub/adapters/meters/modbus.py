"""Modbus TCP polling of three-phase meters (pymodbus 3.x async client).

Each meter gets one ``ModbusMeterPoller``: every ``interval_s`` it reads the blocks its
register map plans, decodes a reading stamped with our clock and hands it to ingestion.
A failed poll (refused connection, timeout, Modbus exception) is logged (throttled) and
counted, the connection is dropped, and the poller tries again after a back-off that
doubles up to ``backoff_max_s``: it never stops by itself. Meanwhile no readings arrive,
so the meter falls INACTIVE after its timeout and the balancer uses fail-safe amps.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, fields

from pymodbus.client import AsyncModbusTcpClient
from pymodbus.exceptions import ModbusException

from amphub.adapters.meters._backoff import Backoff, ThrottledLog
from amphub.adapters.meters.maps import (
    Function,
    ReadBlock,
    RegisterMap,
    RegisterMapError,
    load_register_map,
)
from amphub.application.metering import (
    Clock,
    MeterReadingSink,
    UnknownMeter,
    WrongTransport,
    utc_now,
)
from amphub.domain.metering import MeterReading, MeterTransport, validate_serial

_log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class ModbusMeterSettings:
    """How to reach one Modbus meter; stored as the meter's transport settings."""

    serial: str
    host: str
    port: int = 502
    unit_id: int = 1
    register_map: str = "eastron_sdm630"
    """A shipped map's name (``eastron_sdm630``, ``carlo_gavazzi_em24``) or a YAML path."""
    interval_s: float = 1.0
    timeout_s: float = 1.0
    """For each read request; a poll of N blocks may take up to N × this."""
    backoff_max_s: float = 30.0

    def __post_init__(self) -> None:
        object.__setattr__(self, "serial", validate_serial(self.serial))
        if not 0 < self.port < 65536:
            raise ValueError("port must be 1–65535")
        if not 0 <= self.unit_id <= 255:
            raise ValueError("unit_id must be 0–255")
        if not (0.05 <= self.interval_s <= 3600 and 0.05 <= self.timeout_s <= 60):
            raise ValueError("interval_s must be 0.05–3600 s and timeout_s 0.05–60 s")
        if self.backoff_max_s < self.interval_s:
            raise ValueError("backoff_max_s must be at least interval_s")

    @classmethod
    def from_mapping(cls, serial: str, settings: Mapping[str, object]) -> ModbusMeterSettings:
        """From stored JSON such as ``{"host": "10.0.0.5", "unit_id": 2}``; unknown keys
        are refused (a typo would otherwise silently fall back to a default)."""
        names = {f.name for f in fields(cls)} - {"serial"}
        unknown = sorted(set(settings) - names)
        if unknown:
            raise ValueError(
                f"unknown Modbus setting {unknown[0]!r} (known: {', '.join(sorted(names))})"
            )
        return cls(serial, **settings)  # type: ignore[arg-type]


class ModbusPollError(Exception):
    """One poll failed; the poller will retry."""


@dataclass(slots=True)
class ModbusPollerStats:
    polls: int = 0
    failures: int = 0
    consecutive_failures: int = 0
    readings_accepted: int = 0
    last_error: str = ""
    connects: int = 0


class ModbusMeterPoller:
    """Run with ``await poller.run()`` in an owned task; cancel the task to stop."""

    def __init__(
        self,
        settings: ModbusMeterSettings,
        sink: MeterReadingSink,
        *,
        register_map: RegisterMap | None = None,
        clock: Clock = utc_now,
    ) -> None:
        self.settings = settings
        self._sink = sink
        self._map = register_map or load_register_map(settings.register_map)
        self._plan = self._map.plan()
        self._clock = clock
        self._client: AsyncModbusTcpClient | None = None
        self.stats = ModbusPollerStats()
        self._throttled = ThrottledLog(_log)

    async def run(self) -> None:
        settings = self.settings
        loop = asyncio.get_running_loop()
        backoff = Backoff(settings.interval_s, settings.backoff_max_s)
        try:
            while True:
                started = loop.time()
                try:
                    reading = await self.poll_once()
                except ModbusPollError as error:
                    self._count_failure(error)
                    self._disconnect()
                    await asyncio.sleep(backoff.next_delay())
                    continue
                if self.stats.consecutive_failures:
                    _log.info(
                        "Modbus meter %s at %s:%d answers again after %d failed polls",
                        settings.serial,
                        settings.host,
                        settings.port,
                        self.stats.consecutive_failures,
                    )
                self.stats.consecutive_failures = 0
                backoff.reset()
                await self._hand_over(reading)
                await asyncio.sleep(max(0.0, started + settings.interval_s - loop.time()))
        finally:
            self._disconnect()

    async def poll_once(self) -> MeterReading:
        """Read every block of the map once and decode a reading; ``ModbusPollError`` if
        anything fails."""
        self.stats.polls += 1
        settings = self.settings
        try:
            async with asyncio.timeout(settings.timeout_s * (len(self._plan) + 1)):
                client = await self._connected()
                responses: dict[ReadBlock, Sequence[int]] = {}
                for block in self._plan:
                    responses[block] = await self._read(client, block)
        except TimeoutError:
            raise ModbusPollError(f"no answer within {settings.timeout_s:g} s") from None
        except (ModbusException, OSError) as error:
            raise ModbusPollError(f"{type(error).__name__}: {error}") from None
        try:
            return self._map.decode(responses, self._clock())
        except (ValueError, ArithmeticError) as error:
            raise ModbusPollError(f"could not decode the registers: {error}") from None

    async def _connected(self) -> AsyncModbusTcpClient:
        if self._client is not None and self._client.connected:
            return self._client
        settings = self.settings
        self._disconnect()
        # retries=0 and no automatic reconnect: the poller's back-off is the one retry policy
        client = AsyncModbusTcpClient(
            settings.host,
            port=settings.port,
            timeout=settings.timeout_s,
            retries=0,
            reconnect_delay=0,
        )
        self._client = client
        if not await client.connect():
            raise ModbusPollError(f"cannot connect to {settings.host}:{settings.port}")
        self.stats.connects += 1
        return client

    async def _read(self, client: AsyncModbusTcpClient, block: ReadBlock) -> Sequence[int]:
        unit = self.settings.unit_id
        if block.function is Function.INPUT:
            response = await client.read_input_registers(
                block.address, count=block.count, device_id=unit
            )
        else:
            response = await client.read_holding_registers(
                block.address, count=block.count, device_id=unit
            )
        if response.isError():
            raise ModbusPollError(
                f"Modbus exception {getattr(response, 'exception_code', '?')} reading "
                f"{block.count} {block.function} registers at {block.address}"
            )
        registers = list(response.registers)
        if len(registers) != block.count:
            raise ModbusPollError(f"asked for {block.count} registers, got {len(registers)}")
        return registers

    def _disconnect(self) -> None:
        if self._client is not None:
            self._client.close()
            self._client = None

    def _count_failure(self, error: ModbusPollError) -> None:
        settings = self.settings
        self.stats.failures += 1
        self.stats.consecutive_failures += 1
        self.stats.last_error = str(error)
        self._throttled.warning(
            (settings.serial, "poll"),
            "Modbus meter %s at %s:%d (unit %d): poll failed: %s",
            settings.serial,
            settings.host,
            settings.port,
            settings.unit_id,
            error,
        )

    async def _hand_over(self, reading: MeterReading) -> None:
        serial = self.settings.serial
        try:
            result = await self._sink.ingest(serial, [reading], transport=MeterTransport.MODBUS)
        except (UnknownMeter, WrongTransport) as error:
            self._throttled.warning((serial, "unknown"), "Modbus reading refused: %s", error)
        except Exception:  # a bug downstream must not stop polling
            _log.exception("ingesting a Modbus reading of meter %s failed", serial)
        else:
            self.stats.readings_accepted += result.accepted


class ModbusPollers:
    """Owns one polling task per Modbus meter; start, replace and stop them as meters are
    registered, changed and deleted."""

    def __init__(self, sink: MeterReadingSink, *, clock: Clock = utc_now) -> None:
        self._sink = sink
        self._clock = clock
        self._running: dict[str, tuple[ModbusMeterPoller, asyncio.Task[None]]] = {}
        self._stopping: set[asyncio.Task[None]] = set()

    def start(self, settings: ModbusMeterSettings) -> ModbusMeterPoller:
        """Start polling (loads the map first, so a bad map raises here, not in the task).
        Call ``stop`` first to replace a running poller."""
        if settings.serial in self._running:
            raise ValueError(f"meter {settings.serial} is already being polled")
        poller = ModbusMeterPoller(settings, self._sink, clock=self._clock)
        task = asyncio.create_task(poller.run(), name=f"modbus-poller-{settings.serial}")
        task.add_done_callback(self._report_end)
        self._running[settings.serial] = (poller, task)
        return poller

    def poller(self, serial: str) -> ModbusMeterPoller | None:
        entry = self._running.get(serial)
        return None if entry is None else entry[0]

    async def stop(self, serial: str) -> None:
        entry = self._running.pop(serial, None)
        if entry is not None:
            entry[1].cancel()
            await asyncio.wait({entry[1]})

    def apply(self, serial: str, settings: ModbusMeterSettings | None) -> bool:
        """Bring one meter's polling in line with its registration, from synchronous code
        (a registry listener): ``None`` stops it, new settings restart it, the same settings
        change nothing. A stopped task is still awaited by ``aclose``. Returns ``False``
        (and logs) if the settings name a map that cannot be loaded."""
        entry = self._running.get(serial)
        if entry is not None and settings == entry[0].settings:
            return True
        if entry is not None:
            del self._running[serial]
            entry[1].cancel()
            self._stopping.add(entry[1])
            entry[1].add_done_callback(self._stopping.discard)
        if settings is None:
            return True
        try:
            self.start(settings)
        except (RegisterMapError, OSError) as error:
            _log.error("cannot poll Modbus meter %s: %s", serial, error)
            return False
        return True

    async def aclose(self) -> None:
        for serial in list(self._running):
            await self.stop(serial)
        if self._stopping:
            await asyncio.wait(set(self._stopping))

    async def __aenter__(self) -> ModbusPollers:
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.aclose()

    @staticmethod
    def _report_end(task: asyncio.Task[None]) -> None:
        if not task.cancelled() and task.exception() is not None:
            _log.error("%s stopped by an error", task.get_name(), exc_info=task.exception())
