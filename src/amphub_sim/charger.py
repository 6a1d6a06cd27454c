"""A simulated charge point's hardware, whatever OCPP version it speaks: connectors, the
profiles it holds, the current it offers and what the plugged-in car draws.

Two clocks meet here. Profiles are timed in real UTC (they arrive with real timestamps
and lapse in real time), and a new limit takes effect ``lag_s`` real seconds after it is
known (a real charger needs 1–5 s to move its pilot signal and the car to follow). The
car's battery, on the other hand, fills in *simulated* time (``step(dt_sim_s)``), which
runs ``speed`` times faster than real time.

The protocol clients read :attr:`SimCharger.outbox` for what to tell the central system
(plug-in, status changes, unplug) in order, and answer the central system's calls by
calling the methods here.
"""

from __future__ import annotations

import uuid
from collections import deque
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from enum import StrEnum

from amphub.domain.units import PhaseCurrents
from amphub_sim.composite import Dialect, ProfileStore, Transaction
from amphub_sim.ev import Ev
from amphub_sim.scenario import ChargerConfig
from amphub_sim.sessions import PlannedSession

VOLTAGE_V = 230.0


class Status(StrEnum):
    """OCPP 1.6 connector states (2.0.1 clients map them to connector status and
    charging state)."""

    AVAILABLE = "Available"
    PREPARING = "Preparing"
    CHARGING = "Charging"
    SUSPENDED_EV = "SuspendedEV"
    SUSPENDED_EVSE = "SuspendedEVSE"
    FINISHING = "Finishing"


class EventKind(StrEnum):
    PLUGGED = "plugged"
    """A car arrived: report it and start a transaction."""
    STATUS = "status"
    UNPLUGGED = "unplugged"
    """The car left: stop the transaction (if any) and report the connector free."""
    STOPPED = "stopped"
    """The transaction ended while the car stays (remote stop, reset)."""


@dataclass(frozen=True, slots=True)
class Event:
    kind: EventKind
    connector_id: int
    at: datetime
    """Real UTC time of the event (what goes on the wire, even if sent later)."""
    status: Status | None = None
    transaction_id: str | None = None
    id_tag: str | None = None
    energy_wh: float = 0.0
    reason: str = ""


@dataclass(slots=True)
class Connector:
    connector_id: int
    phases: int
    max_a: float
    status: Status = Status.AVAILABLE
    ev: Ev | None = None
    session: PlannedSession | None = None
    id_tag: str | None = None
    transaction_id: str | None = None
    """1.6: the central system's id (as text) once StartTransaction is answered; 2.0.1:
    the charger's own, from plug-in."""
    tx_started_at: datetime | None = None
    tx_done: bool = False
    """The transaction was stopped while the car is still plugged in."""
    target_a: float = 0.0
    limit_source: str = ""
    offered_a: float = 0.0
    changes: deque[tuple[datetime, float]] = field(default_factory=deque)
    draw_a: float = 0.0
    phases_used: int = 0
    energy_wh: float = 0.0
    """The connector's energy register (Wh, only ever grows)."""
    tx_start_wh: float = 0.0

    @property
    def charging_ready(self) -> bool:
        return self.ev is not None and self.transaction_id is not None and not self.tx_done

    def charger_currents(self) -> PhaseCurrents:
        """What flows on the charger's own L1, L2, L3 now."""
        values = [self.draw_a if i < self.phases_used else 0.0 for i in range(3)]
        return PhaseCurrents(*values)

    def power_w(self) -> float:
        return self.draw_a * self.phases_used * VOLTAGE_V


class SimCharger:
    def __init__(self, config: ChargerConfig) -> None:
        self.config = config
        self.dialect = Dialect.V16 if config.version == "1.6" else Dialect.V201
        self.connectors = {1: Connector(1, config.phases, config.max_a)}
        self.profiles = ProfileStore(
            self.dialect, self.connectors, config.max_stack_level, frozenset(config.rate_units)
        )
        self.outbox: deque[Event] = deque()
        self.password: str = ""
        self.heartbeat_s = 300.0
        self.meter_values_s = config.meter_values_s
        self.remote_tag: str | None = None
        self.profiles_received = 0
        self.reboots = 0
        self.tx_seq: dict[str, int] = {}
        """2.0.1: the next seqNo of each open transaction."""

    @property
    def identity(self) -> str:
        return self.config.identity

    def connector(self, connector_id: int) -> Connector | None:
        return self.connectors.get(connector_id)

    def free_connector(self) -> Connector | None:
        return next((c for c in self.connectors.values() if c.ev is None), None)

    # -- cars --------------------------------------------------------------------------------

    def plug_in(self, session: PlannedSession, ev: Ev, now: datetime) -> Connector:
        connector = self.free_connector()
        if connector is None:
            raise RuntimeError(f"{self.identity}: no free connector")
        connector.ev, connector.session = ev, session
        connector.id_tag = self.remote_tag or session.id_tag
        self.remote_tag = None
        connector.tx_done = False
        if self.dialect is Dialect.V201:
            connector.transaction_id = uuid.uuid4().hex[:36]
            self._begin(connector, now)
        self.outbox.append(
            Event(
                EventKind.PLUGGED,
                connector.connector_id,
                now,
                Status.PREPARING,
                connector.transaction_id,
                connector.id_tag,
                connector.energy_wh,
            )
        )
        connector.status = Status.PREPARING
        return connector

    def _begin(self, connector: Connector, now: datetime) -> None:
        connector.tx_started_at = now
        connector.tx_start_wh = connector.energy_wh

    def transaction_started(self, connector_id: int, transaction_id: str, now: datetime) -> None:
        """1.6: the central system answered StartTransaction."""
        connector = self.connectors[connector_id]
        connector.transaction_id = transaction_id
        self._begin(connector, now)

    def unplug(self, connector_id: int, now: datetime) -> PlannedSession | None:
        connector = self.connectors[connector_id]
        session = connector.session
        running = connector.transaction_id if not connector.tx_done else None
        self.outbox.append(
            Event(
                EventKind.UNPLUGGED,
                connector_id,
                now,
                Status.AVAILABLE,
                running,
                connector.id_tag,
                connector.energy_wh,
                "EVDisconnected",
            )
        )
        self._end_transaction(connector)
        connector.ev = connector.session = None
        connector.id_tag = None
        connector.tx_done = False
        connector.draw_a, connector.phases_used = 0.0, 0
        connector.status = Status.AVAILABLE
        return session

    def stop_transaction(self, connector_id: int, now: datetime, reason: str) -> None:
        """End the transaction; the car stays plugged in and stops charging."""
        connector = self.connectors[connector_id]
        if connector.transaction_id is None or connector.tx_done:
            return
        self.outbox.append(
            Event(
                EventKind.STOPPED,
                connector_id,
                now,
                Status.FINISHING,
                connector.transaction_id,
                connector.id_tag,
                connector.energy_wh,
                reason,
            )
        )
        self._end_transaction(connector)
        connector.tx_done = True
        connector.draw_a, connector.phases_used = 0.0, 0
        connector.status = Status.FINISHING

    def _end_transaction(self, connector: Connector) -> None:
        self.profiles.end_transaction(connector.connector_id)
        connector.transaction_id = None
        connector.tx_started_at = None

    def transaction_of(self, connector_id: int) -> Transaction | None:
        connector = self.connectors.get(connector_id)
        if connector is None or connector.transaction_id is None or connector.tx_done:
            return None
        assert connector.tx_started_at is not None
        return Transaction(connector.transaction_id, connector.tx_started_at)

    # -- limits -------------------------------------------------------------------------------

    def update_limits(self, now: datetime) -> None:
        """What the profiles allow now; a change takes effect ``lag_s`` later."""
        targets: dict[int, float] = {}
        charger_max = None
        for connector in self.connectors.values():
            limit = self.profiles.limit_at(
                connector.connector_id, now, self.transaction_of(connector.connector_id)
            )
            target = connector.max_a if limit.tx_a is None else min(limit.tx_a, connector.max_a)
            targets[connector.connector_id] = target
            connector.limit_source = limit.source
            charger_max = limit.charger_max_a
        if charger_max is not None:
            targets = _share(targets, charger_max)
        lag = timedelta(seconds=self.config.lag_s)
        for connector in self.connectors.values():
            target = targets[connector.connector_id]
            if target != connector.target_a:
                connector.target_a = target
                connector.changes.append((now + lag, target))
            while connector.changes and connector.changes[0][0] <= now:
                connector.offered_a = connector.changes.popleft()[1]

    def settle(self, now: datetime) -> None:
        """Offer what the profiles allow now, as if the lag had long passed (a charger
        that has been running before the simulation starts)."""
        self.update_limits(now)
        for connector in self.connectors.values():
            connector.changes.clear()
            connector.offered_a = connector.target_a

    def step(self, dt_sim_s: float, now: datetime) -> None:
        """Advance the cars by ``dt_sim_s`` simulated seconds at the current offers."""
        for connector in self.connectors.values():
            ev = connector.ev
            if ev is None or not connector.charging_ready:
                connector.draw_a, connector.phases_used = 0.0, 0
                continue
            draw = ev.draw_a(connector.offered_a)
            phases = ev.phases_on(connector.phases)
            energy = ev.charge(draw, phases, dt_sim_s, VOLTAGE_V)
            connector.energy_wh += energy
            connector.draw_a = draw if energy > 0 or draw == 0 else 0.0
            connector.phases_used = phases if connector.draw_a > 0 else 0
            self._report(connector, _status_of(connector), now)

    def _report(self, connector: Connector, status: Status, now: datetime) -> None:
        if status is not connector.status:
            connector.status = status
            self.outbox.append(
                Event(
                    EventKind.STATUS, connector.connector_id, now, status, connector.transaction_id
                )
            )

    # -- reboot -------------------------------------------------------------------------------

    def reboot(self, now: datetime, reason: str) -> None:
        """A reset: running transactions end; profiles go if the charger forgets them;
        the cars still plugged in start new transactions after the boot."""
        self.reboots += 1
        for connector in self.connectors.values():
            if connector.transaction_id is not None and not connector.tx_done:
                self.stop_transaction(connector.connector_id, now, reason)
            connector.offered_a = connector.target_a = 0.0
            connector.changes.clear()
        if self.config.forget_profiles_on_reboot:
            self.profiles.forget_all()

    def resume_after_boot(self, now: datetime) -> None:
        for connector in self.connectors.values():
            if connector.ev is None or not connector.tx_done:
                continue
            connector.tx_done = False
            if self.dialect is Dialect.V201:
                connector.transaction_id = uuid.uuid4().hex[:36]
                self._begin(connector, now)
            self.outbox.append(
                Event(
                    EventKind.PLUGGED,
                    connector.connector_id,
                    now,
                    Status.PREPARING,
                    connector.transaction_id,
                    connector.id_tag,
                    connector.energy_wh,
                )
            )
            connector.status = Status.PREPARING

    # -- what the site sees ------------------------------------------------------------------

    def grid_currents(self) -> PhaseCurrents:
        """This charger's draw on grid phases (its phase rotation applied)."""
        total = PhaseCurrents.zero()
        for connector in self.connectors.values():
            total = total + self.config.rotation.charger_to_grid(connector.charger_currents())
        return total


def _status_of(connector: Connector) -> Status:
    ev = connector.ev
    if ev is None:
        return Status.AVAILABLE
    if not ev.wants_current():
        return Status.SUSPENDED_EV
    return Status.CHARGING if connector.draw_a > 0 else Status.SUSPENDED_EVSE


def _share(targets: dict[int, float], total_a: float) -> dict[int, float]:
    """Share a charger-wide maximum over its connectors, max-min fair."""
    shares: dict[int, float] = {}
    left = dict(targets)
    budget = max(total_a, 0.0)
    while left:
        each = budget / len(left)
        small = {cid: a for cid, a in left.items() if a <= each}
        if not small:
            shares.update({cid: each for cid in left})
            break
        for cid, a in small.items():
            shares[cid] = a
            budget -= a
            del left[cid]
    return shares
