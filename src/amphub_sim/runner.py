"""A whole simulated site against a running amphub: chargers connected over OCPP, the meter
pushing or serving readings, cars arriving and leaving on the simulated clock.

One loop (every ``tick_s`` real seconds) moves the world: cars that leave are unplugged,
cars that arrive take a free charger (turned away if none is free), every charger works out
its limit from its profiles at the real time, the cars draw for the simulated seconds that
passed (in steps of at most :data:`MAX_STEP_S`), and the site's currents are booked.
Each charger's OCPP connection and the meter run in their own tasks, owned here.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import math
import random
import time
from collections import deque
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import timedelta

from amphub.domain.units import PhaseCurrents
from amphub_sim.accounting import Accounts, SessionRecord
from amphub_sim.building import BuildingLoad
from amphub_sim.charger import Connector, SimCharger
from amphub_sim.clock import SimClock
from amphub_sim.ev import Ev
from amphub_sim.meters import (
    HttpMeter,
    MeterSample,
    ModbusMeter,
    MqttMeter,
    SimMeter,
    grid_voltages,
)
from amphub_sim.ocpp16 import Client16
from amphub_sim.ocpp201 import Client201
from amphub_sim.ocpp_link import ChargerLink, utc_now
from amphub_sim.scenario import MeterTransport, Placement, Scenario
from amphub_sim.sessions import PlannedSession

LOGGER = logging.getLogger(__name__)
MAX_STEP_S = 10.0
"""The longest simulated step the cars are advanced by at one offered current."""


@dataclass(frozen=True, slots=True)
class Endpoints:
    base_url: str
    """amphub's HTTP address, e.g. ``http://127.0.0.1:8000``."""
    ocpp_url: str
    """The OCPP endpoint without the identity, e.g. ``ws://127.0.0.1:9000/ocpp``."""


@dataclass(frozen=True, slots=True)
class Provisioned:
    """What the simulator needs from amphub's side; secrets are kept in memory only."""

    site_id: int
    group_id: int
    meter_id: int
    meter_serial: str
    meter_pin: str
    passwords: dict[str, str] = field(repr=False)
    charge_point_ids: dict[str, int] = field(default_factory=dict)


class SiteSimulation:
    def __init__(
        self,
        scenario: Scenario,
        sessions: Sequence[PlannedSession],
        building: BuildingLoad | None,
        speed: float,
        *,
        tick_s: float = 0.25,
    ) -> None:
        self.scenario = scenario
        self.speed = speed
        self.tick_s = tick_s
        self.building = building
        self.chargers = [SimCharger(config) for config in scenario.chargers]
        self.links: list[ChargerLink] = []
        self.accounts = Accounts(scenario.group.total_a)
        self.meter: SimMeter | None = None
        self.modbus: ModbusMeter | None = None
        self.clock = SimClock(scenario.start, speed)
        self._pending = deque(sorted(sessions, key=lambda s: (s.arrival_s, s.session_id)))
        self._records: dict[str, SessionRecord] = {}
        self._rng = random.Random(scenario.seed)
        self._building_now = PhaseCurrents.zero()
        self._charging_now = PhaseCurrents.zero()
        self._meter_energy_wh = 0.0
        self.offline_at_end: list[str] = []
        """Chargers not connected when the window closed (with their last error)."""
        self.series: list[tuple[float, PhaseCurrents, PhaseCurrents]] = []
        """(simulated s, building, charging) once per simulated minute, grid phases."""

    # -- the meter -----------------------------------------------------------------------------

    def meter_sample(self) -> MeterSample:
        currents = self._building_now
        if self.scenario.group.placement is Placement.INCLUDING_CHARGE_POINTS:
            currents = currents + self._charging_now
        return MeterSample(currents, grid_voltages(time.monotonic()), self._meter_energy_wh)

    async def start_modbus(self) -> int:
        """For a Modbus meter: listen before the meter is registered; returns the port."""
        config = self.scenario.meter
        self.modbus = ModbusMeter(
            config.host, config.port, config.unit_id, self.meter_sample, config.interval_s
        )
        await self.modbus.start()
        return self.modbus.port

    def _make_meter(self, provisioned: Provisioned, endpoints: Endpoints) -> SimMeter:
        config = self.scenario.meter
        serial, pin = provisioned.meter_serial, provisioned.meter_pin
        if config.transport is MeterTransport.HTTP:
            return HttpMeter(
                endpoints.base_url, serial, pin, self.meter_sample, config.interval_s, utc_now
            )
        if config.transport is MeterTransport.MQTT:
            return MqttMeter(
                config.host,
                config.port,
                serial,
                pin,
                self.meter_sample,
                config.interval_s,
                utc_now,
            )
        assert self.modbus is not None, "call start_modbus() before provisioning"
        return self.modbus

    # -- running -------------------------------------------------------------------------------

    async def run(
        self,
        provisioned: Provisioned,
        endpoints: Endpoints,
        *,
        max_real_s: float | None = None,
        on_progress: Callable[[float, Accounts], None] | None = None,
        warm_up_s: float = 15.0,
    ) -> Accounts:
        """Run the scenario's window (or until ``max_real_s``) and return the accounts.

        The simulated clock starts once every charger is connected and holds a limit from
        amphub (at most ``warm_up_s`` real seconds): the site was running before the
        window opens, so its first cars do not meet chargers that have not heard from
        amphub yet."""
        self.links = [
            ChargerLink(
                charger,
                endpoints.ocpp_url,
                provisioned.passwords[charger.identity],
                Client16 if charger.config.version == "1.6" else Client201,
            )
            for charger in self.chargers
        ]
        self.meter = self._make_meter(provisioned, endpoints)
        tasks = [
            asyncio.create_task(link.run(), name=f"sim-{link.charger.identity}")
            for link in self.links
        ]
        tasks.append(asyncio.create_task(self.meter.run(), name="sim-meter"))
        loop = asyncio.get_running_loop()
        duration_s = self.scenario.duration_h * 3600
        try:
            await self._warm_up(warm_up_s)
            deadline = math.inf if max_real_s is None else loop.time() + max_real_s
            self.clock = SimClock(self.scenario.start, self.speed)
            done_s = 0.0
            while True:
                now_s = min(self.clock.elapsed_s(), duration_s)
                self.advance(done_s, now_s)
                done_s = now_s
                if on_progress is not None:
                    on_progress(done_s / duration_s, self.accounts)
                if done_s >= duration_s or loop.time() >= deadline:
                    break
                await asyncio.sleep(self.tick_s)
            self.offline_at_end = [
                f"{link.charger.identity} ({link.last_error or 'not connected'})"
                for link in self.links
                if not link.connected
            ]
            self._leave_all(done_s)
            await self._drain(5.0)
        finally:
            for link in self.links:
                link.stop()
            for task in tasks:
                task.cancel()
            _, stuck = await asyncio.wait(tasks, timeout=10)
            if stuck:
                LOGGER.error("tasks still running after 10 s: %s", [t.get_name() for t in stuck])
        return self.accounts

    async def _warm_up(self, timeout_s: float) -> None:
        def ready() -> bool:
            return all(link.connected and link.charger.profiles_received > 0 for link in self.links)

        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(timeout_s):
                while not ready():  # noqa: ASYNC110 - the links' state is the condition
                    await asyncio.sleep(0.05)
        for charger in self.chargers:
            charger.settle(utc_now())

    async def _drain(self, timeout_s: float) -> None:
        """Give the chargers a moment to send what they still hold (StopTransactions)."""
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(timeout_s):
                while any(link.charger.outbox and link.connected for link in self.links):
                    for link in self.links:
                        link.wake()
                    await asyncio.sleep(0.05)

    # -- the world -------------------------------------------------------------------------

    def advance(self, from_s: float, to_s: float) -> None:
        """Move the site from ``from_s`` to ``to_s`` simulated seconds after the start."""
        real_now = utc_now()
        self._departures(to_s)
        self._arrivals(to_s)
        for charger in self.chargers:
            charger.update_limits(real_now)
        span = to_s - from_s
        steps = max(math.ceil(span / MAX_STEP_S), 1)
        for i in range(steps):
            dt = span / steps
            at = self.scenario.start + timedelta(seconds=from_s + dt * (i + 1))
            self._building_now = (
                self.building.currents_at(at) if self.building else PhaseCurrents.zero()
            )
            charging = PhaseCurrents.zero()
            for charger in self.chargers:
                before = sum(c.energy_wh for c in charger.connectors.values())
                charger.step(dt, real_now)
                self.accounts.add_energy(
                    sum(c.energy_wh for c in charger.connectors.values()) - before
                )
                charging = charging + charger.grid_currents()
            self._charging_now = charging
            self.accounts.add(self._building_now, charging, dt)
            seen = self.meter_sample().currents
            self._meter_energy_wh += sum(max(a, 0.0) for a in seen) * 230.0 * dt / 3600
        if not self.series or to_s - self.series[-1][0] >= 60:
            self.series.append((to_s, self._building_now, self._charging_now))
        for record in self._records.values():
            connector = self._connector_of(record)
            if connector is not None and connector.ev is not None:
                record.delivered_wh = connector.ev.delivered_wh
        for link in self.links:
            if link.charger.outbox:
                link.wake()

    def _connector_of(self, record: SessionRecord) -> Connector | None:
        charger = next(c for c in self.chargers if c.identity == record.charger)
        return next(
            (
                c
                for c in charger.connectors.values()
                if c.session is not None and c.session.session_id == record.session_id
            ),
            None,
        )

    def _departures(self, now_s: float) -> None:
        real_now = utc_now()
        for charger in self.chargers:
            for connector in charger.connectors.values():
                session = connector.session
                if session is None or session.departure_s > now_s:
                    continue
                record = self._records.pop(f"{charger.identity}:{session.session_id}")
                if connector.ev is not None:
                    record.delivered_wh = connector.ev.delivered_wh
                record.finished = True
                charger.unplug(connector.connector_id, real_now)

    def _arrivals(self, now_s: float) -> None:
        real_now = utc_now()
        while self._pending and self._pending[0].arrival_s <= now_s:
            session = self._pending.popleft()
            free = [c for c in self.chargers if c.free_connector() is not None]
            if not free:
                self.accounts.turned_away += 1
                continue
            charger = self._rng.choice(free)
            ev = Ev.arriving(session.ev, session.energy_need_wh)
            charger.plug_in(session, ev, real_now)
            record = SessionRecord(
                session.session_id,
                charger.identity,
                session.arrival_s,
                session.departure_s,
                session.energy_need_wh,
            )
            self._records[f"{charger.identity}:{session.session_id}"] = record
            self.accounts.sessions.append(record)

    def _leave_all(self, now_s: float) -> None:
        """At the end of the run every car still plugged in leaves (its stay is cut short)."""
        real_now = utc_now()
        for charger in self.chargers:
            for connector in charger.connectors.values():
                if connector.session is None:
                    continue
                key = f"{charger.identity}:{connector.session.session_id}"
                record = self._records.pop(key, None)
                if record is not None and connector.ev is not None:
                    record.delivered_wh = connector.ev.delivered_wh
                charger.unplug(connector.connector_id, real_now)
