"""One load balancing group's controller: snapshot → allocate → check → send the changes.

It runs a cycle when woken (a meter reading, a charger's state change, a configuration
change) and at least every ``cycle_interval``. What the chargers *run on* is tracked per
connector (:class:`Delivery`); the pure dispatch rules decide what may go out: decreases at
once and acknowledged before any increase, a charger that rejected or timed out counted at
its previous (higher) limit until it acknowledges.

Profiles (``amphub.domain.limit_profiles``): every balanced connector holds a standing
profile at its fail-safe share (sent after each (re)connection, before anything else) and a
dynamic profile with the current limit that lapses unless renewed. A charger that loses
amphub therefore falls back to its fail-safe share by itself.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta

from amphub.application.balancing.config import ROOT_NODE, LoadedGroup, connector_key
from amphub.application.balancing.ports import CapSource, DecisionRecord, DecisionRecorder
from amphub.application.charging.errors import (
    ChargerOffline,
    CommandError,
    CommandTimedOut,
)
from amphub.application.charging.live import LiveChargerState
from amphub.application.charging.ports import ChargerCommander
from amphub.application.metering import LiveMeterState
from amphub.application.ports import Clock
from amphub.domain.balancing.allocate import allocate
from amphub.domain.balancing.decision import Allocation, BalancerMemory
from amphub.domain.balancing.dispatch import (
    Delivery,
    DeliveryStatus,
    plan_dispatch,
    worst_case_limits,
)
from amphub.domain.balancing.fail_safe import fail_safe_shares
from amphub.domain.balancing.invariant import check_invariant, loads_by_node
from amphub.domain.balancing.model import (
    BalancingInput,
    ConnectorKey,
    ConnectorLive,
    ExternalCap,
    MeterSnapshot,
    VehicleState,
)
from amphub.domain.balancing.settings import BalancerSettings
from amphub.domain.charging import ConnectorStatus
from amphub.domain.limit_profiles import (
    DEFAULT_LAPSE,
    Level,
    charger_profile,
    connector_profile,
    needs_renewal,
)
from amphub.domain.smart_charging import ChargingProfile, SmartChargingCapabilities
from amphub.domain.units import PhaseCurrents

LOGGER = logging.getLogger(__name__)
_ProfileKey = tuple[int, float, int, SmartChargingCapabilities | None]
"""What a dynamic profile of one cycle depends on besides the cycle: connector id, limit,
phases, the charger's capabilities."""
OFFLINE = "charger offline"


@dataclass(frozen=True, slots=True)
class ControllerSettings:
    cycle_interval: timedelta = timedelta(seconds=5)
    """A cycle runs at least this often, woken or not."""
    lapse: timedelta = DEFAULT_LAPSE
    """Dynamic profiles lapse after this long unless renewed (renewed at half of it)."""
    record_every: timedelta = timedelta(seconds=10)
    """An unchanged decision is stored at most this often (a changed one at once)."""
    retry_after: timedelta = timedelta(seconds=15)
    """A failed call to a charger is retried after this long."""
    measurement_wake_interval: timedelta = timedelta(seconds=1)
    """Chargers' meter values wake the controller at most this often (readings of the
    group's meter, status changes and connections wake it at once)."""
    balancer: BalancerSettings = field(default_factory=BalancerSettings)


def vehicle_state(status: ConnectorStatus | None) -> VehicleState:
    if status is ConnectorStatus.SUSPENDED_EV:
        return VehicleState.SUSPENDED_EV
    if status in (
        ConnectorStatus.CHARGING,
        ConnectorStatus.SUSPENDED_EVSE,
        ConnectorStatus.PREPARING,
        ConnectorStatus.OCCUPIED,
    ):
        return VehicleState.CHARGING
    return VehicleState.IDLE


@dataclass(frozen=True, slots=True)
class CycleView:
    """The last cycle, for the live page and the API."""

    at: datetime
    allocation: Allocation
    building_load: PhaseCurrents | None
    charging: PhaseCurrents
    delivered_a: Mapping[ConnectorKey, float]
    """What each charger may be running on now (the worst case)."""
    invariant_ok: bool


class GroupController:
    def __init__(
        self,
        loaded: LoadedGroup,
        meters: LiveMeterState,
        chargers: LiveChargerState,
        commander: ChargerCommander,
        recorder: DecisionRecorder,
        clock: Clock,
        settings: ControllerSettings | None = None,
        cap_sources: Sequence[CapSource] = (),
    ) -> None:
        self._cap_sources = tuple(cap_sources)
        self._meters = meters
        self._chargers = chargers
        self._commander = commander
        self._recorder = recorder
        self._clock = clock
        self._settings = settings or ControllerSettings()
        self._wake = asyncio.Event()
        self._soon: asyncio.TimerHandle | None = None
        self._cycle_started = 0.0
        self._memory = BalancerMemory()
        self._deliveries: dict[ConnectorKey, Delivery] = {}
        self._lives: dict[ConnectorKey, ConnectorLive] = {}
        self._dynamic_sent_at: dict[ConnectorKey, datetime] = {}
        self._standing_due: set[int] = set()
        self._standing_acked: set[int] = set()
        self._last_record: tuple[datetime, tuple[tuple[ConnectorKey, float], ...]] | None = None
        self.view: CycleView | None = None
        self._configure(loaded)

    # -- configuration and events ---------------------------------------------------------

    @property
    def group_id(self) -> int:
        return self._loaded.stored.id

    @property
    def charge_point_ids(self) -> frozenset[int]:
        return frozenset(self._loaded.charge_points)

    @property
    def meter_id(self) -> int | None:
        return self._loaded.meter_id

    def _configure(self, loaded: LoadedGroup) -> None:
        self._loaded = loaded
        self._shares = fail_safe_shares(loaded.balancing)
        self._standing_due = set(loaded.charge_points)
        keys = set(loaded.balancing.index.keys)
        self._deliveries = {k: d for k, d in self._deliveries.items() if k in keys}
        self._lives = {k: live for k, live in self._lives.items() if k in keys}

    def reconfigure(self, loaded: LoadedGroup) -> None:
        """New settings or members: new standing shares go out with the next cycle."""
        self._configure(loaded)
        self.wake()

    def wake(self) -> None:
        self._wake.set()

    def wake_soon(self) -> None:
        """A charger's meter values: worth a cycle, but not one per message. Chargers send
        them every few seconds each, so a large group would otherwise run a cycle for every
        message; one cycle per ``measurement_wake_interval`` sees them all."""
        if self._soon is not None:
            return
        since = time.monotonic() - self._cycle_started
        delay = self._settings.measurement_wake_interval.total_seconds() - since
        if delay <= 0:
            self._wake.set()
            return
        self._soon = asyncio.get_running_loop().call_later(delay, self._wake_now)

    def _wake_now(self) -> None:
        self._soon = None
        self._wake.set()

    def charger_connected(self, charge_point_id: int) -> None:
        """A (re)connection: the charger may have lost its profiles (a reboot), so it counts
        at its maximum until it has acknowledged its standing and dynamic limits again."""
        for config in self._loaded.balancing.index.configs:
            if config.key.charge_point_id == str(charge_point_id):
                self._deliveries[config.key] = Delivery(config.max_a)
                self._dynamic_sent_at.pop(config.key, None)
        self._standing_due.add(charge_point_id)
        self._standing_acked.discard(charge_point_id)
        self.wake()

    def charger_disconnected(self, charge_point_id: int) -> None:
        """Gone: it runs on what it last acknowledged until that lapses, then on its standing
        share — or, if it never acknowledged one, on anything up to its maximum. Count the
        higher, for as long as it stays away."""
        standing = charge_point_id in self._standing_acked
        for config in self._loaded.balancing.index.configs:
            if config.key.charge_point_id != str(charge_point_id):
                continue
            previous = self._deliveries.get(config.key, Delivery(config.max_a))
            fallback = self._shares[config.key] if standing else config.max_a
            self._deliveries[config.key] = Delivery(max(previous.worst_case_a, fallback))
        self.wake()

    # -- the loop -------------------------------------------------------------------------

    async def run(self) -> None:
        """Cycle until cancelled; a failing cycle is logged and the next one runs."""
        interval = self._settings.cycle_interval.total_seconds()
        while True:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), timeout=interval)
            self._wake.clear()
            self._cycle_started = time.monotonic()
            try:
                await self.cycle()
            except asyncio.CancelledError:
                raise
            except Exception:
                LOGGER.exception("group %s: balancing cycle failed", self.group_id)

    async def cycle(self) -> CycleView:
        now = self._clock.now()
        loaded = self._loaded
        group = loaded.balancing
        snapshot = self._snapshot(now)
        allocation = allocate(group, snapshot, self._memory, now, self._settings.balancer)
        self._memory = allocation.memory
        available = allocation.available.per_node
        invariant_ok = not check_invariant(group, available, allocation.limits_a)
        if not invariant_ok:  # the allocator's own guarantee: never expected, always loud
            LOGGER.error(
                "group %s: allocation breaks the invariant; sending decreases only", self.group_id
            )
        await self._send_standing(now)
        if loaded.locally_managed:
            await self._dispatch_master(allocation, now)
        else:
            await self._dispatch(allocation, now, increases_allowed=invariant_ok)
        delivered = worst_case_limits(group, self._deliveries)
        view = CycleView(
            at=now,
            allocation=allocation,
            building_load=allocation.available.building_load,
            charging=self._charging_current(snapshot),
            delivered_a=delivered,
            invariant_ok=invariant_ok,
        )
        self.view = view
        await self._record(view)
        return view

    # -- gathering ------------------------------------------------------------------------

    def _snapshot(self, now: datetime) -> BalancingInput:
        meter = None
        meter_id = self._loaded.meter_id
        if meter_id is None:
            meter = MeterSnapshot(PhaseCurrents.zero(), now)  # a static circuit
        else:
            live = self._meters.latest_live(meter_id)
            if live is not None:
                # The reading is as old as the older of its two clocks say.
                measured_at = min(live.reading.measured_at, live.received_at)
                meter = MeterSnapshot(live.reading.currents_a, measured_at)
        connectors: dict[ConnectorKey, ConnectorLive] = {}
        caps: dict[ConnectorKey, ExternalCap] = {}
        reserved: dict[ConnectorKey, float] = {}
        for config in self._loaded.balancing.index.configs:
            key = config.key
            charge_point_id = int(key.charge_point_id)
            point = self._chargers.charge_point(charge_point_id)
            if point is None or not point.connected:
                # It cannot be steered: nothing is allocated to it, and what it may still
                # draw is kept off everyone else's share.
                caps[key] = ExternalCap(0.0, OFFLINE)
                reserved[key] = self._deliveries.get(key, Delivery(config.max_a)).worst_case_a
                continue
            live_connector = point.connector(key.connector_id)
            if live_connector is None:
                continue
            observed = ConnectorLive(
                state=vehicle_state(live_connector.status),
                state_since=live_connector.status_at or now,
                measured=live_connector.current_a or PhaseCurrents.zero(),
            )
            # The same object while nothing changed: the allocator of a large group reads
            # again only the connectors whose object is new.
            kept = self._lives.get(key)
            if kept is not None and kept == observed:
                observed = kept
            else:
                self._lives[key] = observed
            connectors[key] = observed
        keys = self._loaded.balancing.index.keys
        for source in self._cap_sources:
            for key, cap in source.caps(self.group_id, keys, now).items():
                current = caps.get(key)
                if current is None or cap.cap_a < current.cap_a:
                    caps[key] = cap
        return BalancingInput(meter=meter, connectors=connectors, caps=caps, reserved=reserved)

    def _charging_current(self, snapshot: BalancingInput) -> PhaseCurrents:
        total = PhaseCurrents.zero()
        for config in self._loaded.balancing.index.configs:
            live = snapshot.connectors.get(config.key)
            if live is not None:
                total = total + config.rotation.charger_to_grid(live.measured)
        return total

    # -- sending --------------------------------------------------------------------------

    async def _send_standing(self, now: datetime) -> None:
        """Standing profiles first, on every charger that (re)connected."""
        for charge_point_id in sorted(self._standing_due):
            point = self._chargers.charge_point(charge_point_id)
            if point is None or not point.connected:
                continue
            try:
                if self._loaded.locally_managed:
                    if charge_point_id == self._loaded.stored.settings.master_charge_point_id:
                        profile = charger_profile(
                            self._loaded.stored.settings.fail_safe_a, Level.STANDING,
                            point.capabilities, now,
                        )  # fmt: skip
                        await self._commander.set_charging_profile(charge_point_id, 0, profile)
                else:
                    for config in self._loaded.balancing.index.configs:
                        if config.key.charge_point_id != str(charge_point_id):
                            continue
                        profile = connector_profile(
                            config.key.connector_id, self._shares[config.key], config.phases,
                            Level.STANDING, point.capabilities, now,
                        )  # fmt: skip
                        await self._commander.set_charging_profile(
                            charge_point_id, config.key.connector_id, profile
                        )
            except (CommandError, ValueError) as error:
                LOGGER.warning(
                    "group %s: standing profile for charger %s failed: %s",
                    self.group_id, charge_point_id, error,
                )  # fmt: skip
                continue
            self._standing_due.discard(charge_point_id)
            self._standing_acked.add(charge_point_id)

    async def _dispatch(
        self, allocation: Allocation, now: datetime, *, increases_allowed: bool
    ) -> None:
        group = self._loaded.balancing
        available = allocation.available.per_node
        # Offline chargers cannot be told anything: they keep what they have (counted at
        # their worst case) and hold nobody else's increase back by an unsendable decrease.
        intended = {
            key: limit
            for key, limit in allocation.limits_a.items()
            if self._online(int(key.charge_point_id))
        }
        profiles: dict[_ProfileKey, ChargingProfile] = {}  # equal shares: one profile each
        for _ in range(2):  # decreases first and acknowledged, then increases
            plan = plan_dispatch(
                group, intended, self._deliveries, available, now, self._settings.retry_after
            )
            sends = plan.decreases or (plan.increases if increases_allowed else ())
            if not sends:
                break
            await asyncio.gather(
                *(self._send_dynamic(key, limit, now, profiles) for key, limit in sends)
            )
            if not plan.decreases:
                break
        renewals = [
            (key, delivery.acknowledged_a)
            for key, delivery in self._deliveries.items()
            if delivery.status is DeliveryStatus.ACKNOWLEDGED
            and key in self._dynamic_sent_at
            and needs_renewal(self._dynamic_sent_at[key], now, self._settings.lapse)
        ]
        if renewals:
            await asyncio.gather(
                *(self._send_dynamic(key, limit, now, profiles) for key, limit in renewals)
            )

    def _online(self, charge_point_id: int) -> bool:
        point = self._chargers.charge_point(charge_point_id)
        return point is not None and point.connected

    async def _send_dynamic(
        self,
        key: ConnectorKey,
        limit_a: float,
        now: datetime,
        profiles: dict[_ProfileKey, ChargingProfile],
    ) -> None:
        config = self._loaded.balancing.index.configs[self._loaded.balancing.index.position[key]]
        charge_point_id = int(key.charge_point_id)
        point = self._chargers.charge_point(charge_point_id)
        previous = self._deliveries.get(key, Delivery(config.max_a))
        if point is None or not point.connected:
            return
        self._deliveries[key] = replace(
            previous, attempted_a=limit_a, status=DeliveryStatus.IN_FLIGHT, attempted_at=now
        )
        try:
            made = (key.connector_id, limit_a, config.phases, point.capabilities)
            profile = profiles.get(made)
            if profile is None:
                profile = profiles[made] = connector_profile(
                    key.connector_id, limit_a, config.phases, Level.DYNAMIC, point.capabilities,
                    now, self._settings.lapse,
                )  # fmt: skip
            await self._commander.set_charging_profile(charge_point_id, key.connector_id, profile)
        except ChargerOffline:
            self._deliveries[key] = previous
            return
        except CommandTimedOut:
            self._deliveries[key] = replace(self._deliveries[key], status=DeliveryStatus.TIMED_OUT)
            return
        except (CommandError, ValueError) as error:
            LOGGER.warning(
                "group %s: %s refused a limit of %.1f A: %s", self.group_id, key, limit_a, error
            )
            self._deliveries[key] = replace(self._deliveries[key], status=DeliveryStatus.REJECTED)
            return
        self._deliveries[key] = Delivery(limit_a)
        self._dynamic_sent_at[key] = now

    async def _dispatch_master(self, allocation: Allocation, now: datetime) -> None:
        """Locally managed: the group's available current, per phase, to the master only."""
        master = self._loaded.stored.settings.master_charge_point_id
        if master is None:
            return
        point = self._chargers.charge_point(master)
        if point is None or not point.connected:
            return
        limit_a = max(allocation.available.per_node[ROOT_NODE].min_a(), 0.0)
        key = connector_key(master, 0)
        delivered = self._deliveries.get(key)
        sent_at = self._dynamic_sent_at.get(key)
        if (
            delivered is not None
            and delivered.status is DeliveryStatus.ACKNOWLEDGED
            and abs(delivered.acknowledged_a - limit_a) < self._settings.balancer.change_threshold_a
            and limit_a >= delivered.acknowledged_a
            and sent_at is not None
            and not needs_renewal(sent_at, now, self._settings.lapse)
        ):
            return
        try:
            profile = charger_profile(
                limit_a, Level.DYNAMIC, point.capabilities, now, self._settings.lapse
            )
            await self._commander.set_charging_profile(master, 0, profile)
        except (CommandError, ValueError) as error:
            LOGGER.warning(
                "group %s: master %s refused %.1f A: %s", self.group_id, master, limit_a, error
            )
            return
        self._deliveries[key] = Delivery(limit_a)
        self._dynamic_sent_at[key] = now

    # -- recording ------------------------------------------------------------------------

    async def _record(self, view: CycleView) -> None:
        limits = tuple(sorted(view.allocation.limits_a.items()))
        last = self._last_record
        if (
            last is not None
            and last[1] == limits
            and view.at - last[0] < self._settings.record_every
        ):
            return
        self._last_record = (view.at, limits)
        loads = loads_by_node(self._loaded.balancing, view.delivered_a)
        try:
            await self._recorder.record(
                DecisionRecord(
                    group_id=self.group_id,
                    at=view.at,
                    fail_safe=view.allocation.fail_safe,
                    available=view.allocation.available.per_node[ROOT_NODE],
                    building_load=view.building_load,
                    charging=view.charging,
                    delivered=loads[ROOT_NODE],
                    decisions=view.allocation.decisions,
                )
            )
        except Exception:  # the decision log must never stop balancing
            LOGGER.exception("group %s: could not record the decision", self.group_id)
