"""The common ground of the quality benchmark: a site, its event stream, the physics every
algorithm is judged by, and the metrics.

Every algorithm sees the same thing each period: which cars are plugged in where, what
each still needs, when each leaves, and the current each phase may carry (main fuse −
building load − dynamic buffer). It answers a pilot (A) per EVSE; the physics is the same
for all: a pilot below 6 A charges nothing (IEC 61851-1), a car draws
``min(pilot, car max, EVSE max)`` on ``min(car phases, EVSE phases)`` phases (after the
EVSE's phase rotation) and never more than it still needs. Cars are ideal batteries (no
taper), so that the LP optimum is exact for the same model.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime

import numpy as np

from amphub.domain.units import PhaseRotation

VOLTAGE_V = 230.0
PILOT_MIN_A = 6.0


@dataclass(frozen=True)
class Evse:
    station_id: str
    phases: int
    rotation: PhaseRotation
    max_a: float

    def grid_phases(self, car_phases: int) -> tuple[int, ...]:
        """Indexes (0..2) of the grid phases a car with ``car_phases`` loads here."""
        used = min(car_phases, self.phases)
        return tuple(int(p) - 1 for p in self.rotation.grid_phases()[:used])


@dataclass(frozen=True)
class Session:
    session_id: str
    station_id: str
    arrival: int
    """First period plugged in."""
    departure: int
    """First period gone (exclusive)."""
    need_wh: float
    car_max_a: float
    car_phases: int


@dataclass(frozen=True)
class Site:
    name: str
    start: datetime
    period_s: float
    evses: tuple[Evse, ...]
    sessions: tuple[Session, ...]
    fuse_a: float
    buffer_a: float
    building_a: np.ndarray
    """(periods, 3): building current per grid phase, constant within a period."""
    turned_away: int = 0

    @property
    def periods(self) -> int:
        return int(self.building_a.shape[0])

    @property
    def evse_by_id(self) -> dict[str, Evse]:
        return {e.station_id: e for e in self.evses}

    def limits(self, t: int) -> np.ndarray:
        """What charging may use per grid phase in period ``t`` (never below 0)."""
        return np.maximum(self.fuse_a - self.building_a[t] - self.buffer_a, 0.0)

    def energy_per_amp_wh(self, session: Session) -> float:
        """Wh one ampere (per phase) delivers to this car in one period."""
        evse = self.evse_by_id[session.station_id]
        return VOLTAGE_V * min(session.car_phases, evse.phases) * self.period_s / 3600

    def rate_cap_a(self, session: Session) -> float:
        return min(session.car_max_a, self.evse_by_id[session.station_id].max_a)


@dataclass
class State:
    """What the algorithms may know when they are asked (period ``t``, ``time_s`` seconds
    from the start: amphub is asked every few seconds within a period)."""

    t: int = 0
    time_s: float = 0.0
    delivered_wh: dict[str, float] = field(default_factory=dict)
    last_draw_a: dict[str, float] = field(default_factory=dict)
    since_s: dict[str, float] = field(default_factory=dict)
    """When the session's state (wanting, full) last changed."""


Policy = Callable[[Site, State, Sequence[Session]], dict[str, float]]
"""(site, state, plugged-in sessions) → pilot (A) per station."""


def assign(
    evses: Sequence[Evse],
    arrivals: Sequence[tuple[str, int, int, float, float, int]],
    rng: np.random.Generator,
) -> tuple[tuple[Session, ...], int]:
    """Give each arriving car (id, arrival, departure, need, car max, car phases) a free
    EVSE chosen at random; with none free it is turned away. Done once per site, so every
    algorithm gets the same event stream."""
    busy_until = {e.station_id: -1 for e in evses}
    sessions: list[Session] = []
    turned_away = 0
    for session_id, arrival, departure, need, car_max, car_phases in sorted(
        arrivals, key=lambda a: (a[1], a[0])
    ):
        free = [sid for sid, until in busy_until.items() if until <= arrival]
        if not free or departure <= arrival:
            turned_away += 1
            continue
        station = free[int(rng.integers(len(free)))]
        busy_until[station] = departure
        sessions.append(Session(session_id, station, arrival, departure, need, car_max,
                                car_phases))  # fmt: skip
    return tuple(sessions), turned_away


@dataclass
class Outcome:
    name: str
    delivered_wh: dict[str, float]
    charging_a: np.ndarray
    """(periods, 3) charging current per grid phase, averaged over each period."""
    draws_a: dict[str, np.ndarray]
    """Per session, its draw averaged over every period (A per phase)."""
    overload_as: float = 0.0
    """Ampere-seconds above the fuse, summed over phases (at the finest step simulated)."""
    peak_a: float = 0.0
    """Highest phase current, building and charging (at the finest step simulated)."""

    def energy_wh(self) -> float:
        return sum(self.delivered_wh.values())


def simulate(site: Site, name: str, policy: Policy, substeps: int = 1) -> Outcome:
    """Play the site's event stream with one algorithm, asking it ``substeps`` times per
    period (each time for the next ``period / substeps`` seconds)."""
    evses = site.evse_by_id
    state = State()
    charging = np.zeros((site.periods, 3))
    draws = {s.session_id: np.zeros(site.periods) for s in site.sessions}
    by_arrival = sorted(site.sessions, key=lambda s: s.arrival)
    step_s = site.period_s / substeps
    overload_as = peak_a = 0.0
    for t in range(site.periods):
        state.t = t
        plugged = [s for s in by_arrival if s.arrival <= t < s.departure]
        for s in plugged:
            state.delivered_wh.setdefault(s.session_id, 0.0)
            state.since_s.setdefault(s.session_id, t * site.period_s)
        for k in range(substeps):
            state.time_s = t * site.period_s + k * step_s
            pilots = policy(site, state, plugged)
            now = np.zeros(3)
            for s in plugged:
                draw = _draw(site, state, s, pilots.get(s.station_id, 0.0), substeps)
                draws[s.session_id][t] += draw / substeps
                for phase in evses[s.station_id].grid_phases(s.car_phases):
                    now[phase] += draw
            charging[t] += now / substeps
            total = site.building_a[t] + now
            overload_as += float(np.maximum(total - site.fuse_a - 0.05, 0.0).sum()) * step_s
            peak_a = max(peak_a, float(total.max()))
    return Outcome(name, dict(state.delivered_wh), charging, draws, overload_as, peak_a)


def _draw(site: Site, state: State, s: Session, pilot: float, substeps: int) -> float:
    """What the car draws at ``pilot`` for one step; books its energy."""
    draw = 0.0 if pilot < PILOT_MIN_A - 1e-9 else min(pilot, site.rate_cap_a(s))
    per_amp = site.energy_per_amp_wh(s) / substeps
    remaining = s.need_wh - state.delivered_wh[s.session_id]
    draw = max(min(draw, remaining / per_amp), 0.0)
    state.delivered_wh[s.session_id] += draw * per_amp
    if (remaining > 0.5) != (s.need_wh - state.delivered_wh[s.session_id] > 0.5):
        state.since_s[s.session_id] = state.time_s
    state.last_draw_a[s.session_id] = draw
    return draw


@dataclass(frozen=True)
class Metrics:
    energy_kwh: float
    of_optimum: float
    demands_met: float
    overload_as: float
    jain: float
    transitions_per_car_hour: float
    peak_a: float


def jain(values: np.ndarray) -> float:
    total = values.sum()
    squares = (values**2).sum()
    return 1.0 if squares == 0 else float(total**2 / (len(values) * squares))


def measure(site: Site, outcome: Outcome, optimum_wh: float) -> Metrics:
    """Demands met: acnportal's definition (``proportion_of_demands_met``): less than 0.1
    kWh of the need left. Jain: over the draws of the cars that still want
    energy, averaged over the periods with at least two of them. Transitions: a car that
    still wants energy switching between drawing and not drawing (either way; the first
    start does not count), per car and hour plugged in."""
    met = sum(
        1 for s in site.sessions if s.need_wh - outcome.delivered_wh.get(s.session_id, 0) < 100
    )
    delivered_before = {s.session_id: 0.0 for s in site.sessions}
    fairness: list[float] = []
    transitions = 0
    car_hours = 0.0
    for s in site.sessions:
        car_hours += (s.departure - s.arrival) * site.period_s / 3600
    per_amp = {s.session_id: site.energy_per_amp_wh(s) for s in site.sessions}
    for t in range(site.periods):
        wanting = [
            s for s in site.sessions
            if s.arrival <= t < s.departure
            and s.need_wh - delivered_before[s.session_id] > 0.5
        ]  # fmt: skip
        if len(wanting) >= 2:
            fairness.append(jain(np.array([outcome.draws_a[s.session_id][t] for s in wanting])))
        for s in wanting:
            draw = outcome.draws_a[s.session_id]
            if t > s.arrival and (draw[t] > 0) != (draw[t - 1] > 0):
                started = bool(np.any(draw[s.arrival : t] > 0))
                transitions += 1 if started else 0
        for s in site.sessions:
            delivered_before[s.session_id] += (
                outcome.draws_a[s.session_id][t] * per_amp[s.session_id]
            )
    return Metrics(
        energy_kwh=outcome.energy_wh() / 1000,
        of_optimum=outcome.energy_wh() / optimum_wh if optimum_wh > 0 else float("nan"),
        demands_met=met / len(site.sessions) if site.sessions else float("nan"),
        overload_as=outcome.overload_as,
        jain=float(np.mean(fairness)) if fairness else 1.0,
        transitions_per_car_hour=transitions / car_hours if car_hours else 0.0,
        peak_a=outcome.peak_a,
    )
