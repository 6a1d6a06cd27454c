"""The algorithms under comparison, each as a policy over :mod:`quality_model`'s site:

- **amphub balancer alone**: its pure allocator ``amphub.domain.balancing.allocate`` (the
  function the balancing controller calls every cycle), fed the same event stream every 5 s
  (its controller's cycle) with its memory carried over, the meter reading the building, the
  group's dynamic buffer, and each car's current as measured in the previous 5 s.
- **amphub balancer + planner**: the same, with the price planner's caps as the controller
  hands them to ``allocate`` (external caps); the planner's core is run as the application
  runs it, with every session's departure and need known (quality_planner.py).
- **acnportal 0.3.3** (installed from PyPI): ``UncontrolledCharging``, ``RoundRobin``
  (first-come order), and ``SortedSchedulingAlgo`` with ``first_come_first_served``
  (FCFS), ``earliest_deadline_first`` (EDF) and ``least_laxity_first`` (LLF), run
  unchanged through a small stand-in for acnsim's ``Interface``. The three phases are
  three constraints (one row per grid phase, every phase angle 0, so a constraint is the
  plain sum of the currents on its phase): a three-phase EVSE appears in all three rows,
  a single-phase one in the row of the phase its rotation puts it on — the wiring as
  configured, which is all amphub knows too (not which phases the car uses). Pilots are discrete:
  0 or 6 A up to the EVSE maximum in 1 A steps, as J1772/IEC EVSEs take them, so no
  algorithm is handed a pilot a car cannot use.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import timedelta
from typing import Any

import numpy as np
from acnportal.acnsim.interface import InfrastructureInfo, SessionInfo
from acnportal.algorithms import (
    RoundRobin,
    SortedSchedulingAlgo,
    UncontrolledCharging,
    earliest_deadline_first,
    first_come_first_served,
    least_laxity_first,
)
from acnportal.algorithms.utils import remaining_amp_periods

from amphub.domain.balancing import (
    BalancerMemory,
    BalancingGroup,
    BalancingInput,
    ConnectorConfig,
    ConnectorKey,
    ConnectorLive,
    GroupNode,
    GroupSettings,
    MeterSnapshot,
    Placement,
    VehicleState,
    allocate,
)
from amphub.domain.units import PhaseCurrents
from quality_model import Policy, Session, Site, State
from quality_planner import PlanCaps

VOLTAGE_V = 230.0


class AmphubPolicy:
    """``reserve_suspended=False`` is a what-if, not amphub: cars that are full (OCPP
    SuspendedEV) are reported as absent, so no minimum is kept for them. ``planned``: the
    price planner's caps (quality_planner.py) reach the allocator as the controller hands
    them over, as external caps."""

    def __init__(
        self, site: Site, *, reserve_suspended: bool = True, planned: bool = False
    ) -> None:
        self.reserve_suspended = reserve_suspended
        connectors = tuple(
            ConnectorConfig(
                key=ConnectorKey(e.station_id, 1),
                max_a=e.max_a,
                phases=e.phases,
                rotation=e.rotation,
                min_a=6.0,
            )
            for e in site.evses
        )
        self.group = BalancingGroup(
            GroupNode("group", PhaseCurrents.uniform(site.fuse_a), connectors),
            GroupSettings(
                placement=Placement.BUILDING_ONLY,
                dynamic_buffer_a=site.buffer_a,
                fail_safe_a=0.0,
                meter_timeout=timedelta(seconds=3 * site.period_s),
            ),
        )
        self.memory = BalancerMemory()
        self.plan_caps = PlanCaps(site, self.group) if planned else None
        self.offered_a: Mapping[ConnectorKey, float] = {}
        """Each connector's limit of the last cycle: what its charger offers the car now."""

    def __call__(self, site: Site, state: State, plugged: Sequence[Session]) -> dict[str, float]:
        now = site.start + timedelta(seconds=state.time_s)
        evses = site.evse_by_id
        live: dict[ConnectorKey, ConnectorLive] = {}
        for s in plugged:
            wants = s.need_wh - state.delivered_wh[s.session_id] > 0.5
            if not wants and not self.reserve_suspended:
                continue
            draw = state.last_draw_a.get(s.session_id, 0.0)
            used = min(s.car_phases, evses[s.station_id].phases)
            measured = PhaseCurrents(*(draw if i < used else 0.0 for i in range(3)))
            key = ConnectorKey(s.station_id, 1)
            if self.plan_caps is not None and key in self.offered_a:
                self.plan_caps.observe(s.session_id, measured, self.offered_a[key], now)
            since = site.start + timedelta(seconds=state.since_s[s.session_id])
            live[key] = ConnectorLive(
                state=VehicleState.CHARGING if wants else VehicleState.SUSPENDED_EV,
                state_since=since,
                measured=measured,
            )
        meter = MeterSnapshot(PhaseCurrents(*site.building_a[state.t]), now)
        caps = {} if self.plan_caps is None else self.plan_caps(site, state, plugged, now)
        allocation = allocate(self.group, BalancingInput(meter, live, caps), self.memory, now)
        self.memory = allocation.memory
        self.offered_a = allocation.limits_a
        return {key.charge_point_id: limit for key, limit in allocation.limits_a.items()}


class AcnInterface:
    """What acnportal's algorithms ask of ``acnsim.Interface``, answered from the site."""

    def __init__(self, site: Site) -> None:
        self.site = site
        self.current_time = 0
        self.period = site.period_s / 60  # minutes, as acnsim counts
        self._info: InfrastructureInfo | None = None

    def update(self, state: State, plugged: Sequence[Session]) -> list[SessionInfo]:
        site = self.site
        self.current_time = state.t
        matrix = np.zeros((3, len(site.evses)))
        voltages = np.zeros(len(site.evses))
        for i, evse in enumerate(site.evses):  # the wiring, as configured: like amphub,
            for phase in evse.grid_phases(evse.phases):  # they do not know the car's phases
                matrix[phase, i] = 1.0
            voltages[i] = VOLTAGE_V * evse.phases
        self._info = InfrastructureInfo(
            constraint_matrix=matrix,
            constraint_limits=site.limits(state.t),
            phases=np.zeros(len(site.evses)),
            voltages=voltages,
            constraint_ids=["L1", "L2", "L3"],
            station_ids=[e.station_id for e in site.evses],
            max_pilot=np.array([e.max_a for e in site.evses]),
            min_pilot=np.zeros(len(site.evses)),
            allowable_pilots=[
                np.array([0.0, *np.arange(6.0, e.max_a + 0.5, 1.0)]) for e in site.evses
            ],
            is_continuous=np.zeros(len(site.evses), dtype=bool),
        )
        return [
            SessionInfo(
                station_id=s.station_id,
                session_id=s.session_id,
                requested_energy=s.need_wh / 1000,
                energy_delivered=state.delivered_wh[s.session_id] / 1000,
                arrival=s.arrival,
                departure=s.departure,
                current_time=state.t,
                min_rates=0.0,
                max_rates=site.rate_cap_a(s),
            )
            for s in plugged
        ]

    def infrastructure_info(self) -> InfrastructureInfo:
        assert self._info is not None
        return self._info

    def remaining_amp_periods(self, session: SessionInfo) -> float:
        return float(remaining_amp_periods(session, self.infrastructure_info(), self.period))

    def max_pilot_signal(self, station_id: str) -> float:
        return self.site.evse_by_id[station_id].max_a

    def min_pilot_signal(self, station_id: str) -> float:
        return 0.0


class AcnPolicy:
    def __init__(self, site: Site, algorithm: Any) -> None:
        self.interface = AcnInterface(site)
        self.algorithm = algorithm
        algorithm.register_interface(self.interface)

    def __call__(self, site: Site, state: State, plugged: Sequence[Session]) -> dict[str, float]:
        sessions = self.interface.update(state, plugged)
        if not sessions:
            return {}
        schedule = self.algorithm.schedule(sessions)
        return {station: float(rates[0]) for station, rates in schedule.items()}


PLANNED = "amphub balancer + planner (departures and needs known)"
AMPHUB_CYCLE_S = 5.0
"""amphub's controller cycle (``balancing_cycle_s``): its damping and on/off times are
real-time rules, so it is asked at its own pace, with each car's current as measured."""


def policies(site: Site) -> dict[str, tuple[Policy, int]]:
    """Fresh instances (they keep state between periods) with how often each is asked per
    period."""
    substeps = max(int(site.period_s // AMPHUB_CYCLE_S), 1)
    return {
        "amphub balancer alone": (AmphubPolicy(site), substeps),
        PLANNED: (AmphubPolicy(site, planned=True), substeps),
        "amphub, full cars not reserved (what-if)": (
            AmphubPolicy(site, reserve_suspended=False),
            substeps,
        ),
        "Uncontrolled": (AcnPolicy(site, UncontrolledCharging()), 1),
        "RoundRobin": (AcnPolicy(site, RoundRobin(first_come_first_served)), 1),
        "FCFS": (AcnPolicy(site, SortedSchedulingAlgo(first_come_first_served)), 1),
        "EDF": (AcnPolicy(site, SortedSchedulingAlgo(earliest_deadline_first)), 1),
        "LLF": (AcnPolicy(site, SortedSchedulingAlgo(least_laxity_first)), 1),
    }
