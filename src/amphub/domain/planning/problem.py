"""The price planner's linear programme, as plain data.

One joint LP over every planned session of a group:

- a variable ``x[s, t]`` per session ``s`` and slot ``t`` in which its car is plugged in: the
  current (A per phase it uses) planned for it, ``0 ≤ x ≤ max_a``;
- a shortfall ``u[s] ≥ 0`` per session, in kWh;
- an energy row per session: ``Σ_t kw_per_a[s] · hours[t] · x[s, t] + u[s] = need_kwh[s]``,
  so a car never gets more than it needs (negative prices cannot make it "store" energy it
  has no room for) and what it cannot get shows as shortfall;
- a circuit row per phase of every node (the group's main fuse and each sub-group) and slot:
  ``Σ x[s, t] over the sessions drawing on that phase ≤ limit``, where a three-phase
  connector draws on all three phases and a single-phase one on its rotated phase only; the
  main fuse's limit is reduced by the building-load forecast and the dynamic buffer, and every
  node's by what unplanned chargers are expected to draw;
- the objective: the all-in price of each slot's energy, plus a penalty per kWh of shortfall
  far above any price (so energy always comes first, and a need that cannot be met is met as
  far as the circuit allows), plus a tiny preference for earlier slots to break ties.

The formulation stays columnar (tuples per session, per circuit) so a solver adapter can turn
it into sparse arrays without a Python loop per non-zero.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime

from amphub.domain.balancing.model import BalancingGroup, ConnectorKey
from amphub.domain.errors import InvalidValue
from amphub.domain.planning.tariffs import SlotGrid
from amphub.domain.units import NOMINAL_VOLTAGE_V, PhaseCurrents

UNKNOWN_PRICE_PREMIUM_PER_KWH = 1.0
"""A slot without a known price costs this much more than the dearest known slot: used only
for energy that the priced slots cannot hold, and re-planned when its price arrives."""


@dataclass(frozen=True, slots=True)
class SessionToPlan:
    """A plugged-in car with a departure time and an energy still to charge."""

    key: ConnectorKey
    phases: int
    min_a: float
    max_a: float
    arrival: datetime
    departure: datetime
    need_wh: float

    def __post_init__(self) -> None:
        if self.phases not in (1, 3):
            raise InvalidValue("phases", "1 or 3")
        if not 0 < self.min_a <= self.max_a:
            raise InvalidValue("max_a", "0 < min_a <= max_a")
        if self.need_wh < 0:
            raise InvalidValue("energy_wh", "must be >= 0")

    @property
    def kw_per_a(self) -> float:
        return self.phases * NOMINAL_VOLTAGE_V / 1000.0


@dataclass(frozen=True, slots=True)
class Circuit:
    """One phase of one node (or several with the same members): the planned sessions that
    draw on it and its limit per slot (A)."""

    name: str
    members: tuple[int, ...]
    limit_a: tuple[float, ...]
    node: str = ""
    """The group node it belongs to (empty if unknown): a solver may split a large group
    along its nodes."""


@dataclass(frozen=True, slots=True)
class PlanningProblem:
    grid: SlotGrid
    price_per_kwh: tuple[float, ...]
    """All-in price per slot (unknown slots already filled in, see build_problem)."""
    first_slot: tuple[int, ...]
    end_slot: tuple[int, ...]
    """Per session: the slots [first, end) in which it may charge."""
    max_a: tuple[float, ...]
    kw_per_a: tuple[float, ...]
    need_kwh: tuple[float, ...]
    circuits: tuple[Circuit, ...]
    shortfall_per_kwh: float
    earliness_per_kwh: float

    @property
    def n_sessions(self) -> int:
        return len(self.first_slot)

    def offsets(self) -> tuple[int, ...]:
        """Column of each session's first slot; the last entry is the number of x columns."""
        found = [0]
        for first, end in zip(self.first_slot, self.end_slot, strict=True):
            found.append(found[-1] + end - first)
        return tuple(found)

    def slot_cost(self, t: int) -> float:
        """Objective coefficient of one kWh in slot ``t``."""
        return self.price_per_kwh[t] + self.earliness_per_kwh * t


@dataclass(frozen=True, slots=True)
class Basis:
    """Where an optimum's variables sit, by index into its own problem. x columns (numbered
    as ``offsets()``) strictly between their bounds, or basic at one, are ``basic_columns``;
    those at their maximum ``full_columns``; every other one is at zero. Sessions whose
    shortfall is basic: ``basic_shortfalls``. Circuit rows (``circuit * grid.count + slot``)
    at their limit with a non-basic slack: ``full_rows``."""

    basic_columns: tuple[int, ...]
    full_columns: tuple[int, ...]
    basic_shortfalls: tuple[int, ...]
    full_rows: tuple[int, ...]


@dataclass(frozen=True, slots=True)
class Solution:
    """A solver's answer: ``currents_a`` per x column (session-major, as offsets()),
    ``shortfall_kwh`` per session."""

    currents_a: Sequence[float]
    shortfall_kwh: Sequence[float]
    objective: float
    optimal: bool
    message: str = ""
    basis: Basis | None = None
    """The optimal basis, if the solver tells it: a later re-plan can start from it (see
    :mod:`amphub.domain.planning.warm_start`)."""


def fill_prices(prices: Sequence[float | None]) -> tuple[float, ...] | None:
    """Known prices as they are, unknown ones above every known one; None if none is known."""
    known = [p for p in prices if p is not None]
    if not known:
        return None
    unknown = max(known) + UNKNOWN_PRICE_PREMIUM_PER_KWH
    return tuple(unknown if p is None else p for p in prices)


def group_circuits(
    group: BalancingGroup,
    planned: Sequence[ConnectorKey],
    grid: SlotGrid,
    building_a: Sequence[PhaseCurrents],
    buffer_a: float,
    fixed_a: Mapping[ConnectorKey, Sequence[float]],
) -> tuple[Circuit, ...]:
    """The circuit rows of a group: one per node and phase, merged where two phases carry
    the same sessions (a node with only three-phase connectors needs one row, at its
    tightest phase), dropped where the members' maxima can never reach the limit.

    ``building_a``: the building-load forecast per slot (main fuse only). ``fixed_a``: the
    per-phase current per slot of chargers outside the plan (charge now, no need given).
    """
    index = group.index
    session_of = {key: s for s, key in enumerate(planned)}
    max_a = [0.0] * len(planned)
    for i, key in enumerate(index.keys):
        if key in session_of:
            max_a[session_of[key]] = index.max_a[i]
    merged: dict[tuple[int, tuple[int, ...]], list[float]] = {}
    names: dict[tuple[int, tuple[int, ...]], str] = {}
    nodes: dict[tuple[int, tuple[int, ...]], str] = {}
    for constraint, members in enumerate(index.members):
        node, phase = divmod(constraint, 3)
        sessions = tuple(
            sorted(session_of[index.keys[i]] for i in members if index.keys[i] in session_of)
        )
        if not sessions:
            continue
        limit = [index.node_limits[constraint]] * grid.count
        if node == 0:
            for t in range(grid.count):
                load = building_a[t].as_tuple()[phase] if t < len(building_a) else 0.0
                limit[t] -= load + buffer_a
        for i in members:
            fixed = fixed_a.get(index.keys[i])
            if fixed is not None:
                for t in range(min(grid.count, len(fixed))):
                    limit[t] -= fixed[t]
        limit = [max(0.0, value) for value in limit]
        row = (node, sessions)
        if row in merged:
            merged[row] = [min(a, b) for a, b in zip(merged[row], limit, strict=True)]
        else:
            merged[row] = limit
            names[row] = f"{index.node_ids[node]}/L{phase + 1}"
            nodes[row] = index.node_ids[node]
    circuits = []
    for row, limit in merged.items():
        if sum(max_a[s] for s in row[1]) <= min(limit):
            continue  # can never bind
        circuits.append(Circuit(names[row], row[1], tuple(limit), nodes[row]))
    return tuple(circuits)


def build_problem(
    sessions: Sequence[SessionToPlan],
    grid: SlotGrid,
    prices: Sequence[float],
    circuits: Sequence[Circuit],
) -> PlanningProblem:
    """The LP of ``sessions`` on ``grid`` with all-in ``prices`` per slot (see fill_prices)."""
    if len(prices) != grid.count:
        raise InvalidValue("prices", "one price per slot")
    scale = max((abs(p) for p in prices), default=0.0) + 1.0
    first: list[int] = []
    end: list[int] = []
    for session in sessions:
        start = max(0, grid.index_of(session.arrival))
        stop = grid.slots_before(session.departure)
        first.append(min(start, stop))
        end.append(stop)
    return PlanningProblem(
        grid=grid,
        price_per_kwh=tuple(prices),
        first_slot=tuple(first),
        end_slot=tuple(end),
        max_a=tuple(s.max_a for s in sessions),
        kw_per_a=tuple(s.kw_per_a for s in sessions),
        need_kwh=tuple(s.need_wh / 1000.0 for s in sessions),
        circuits=tuple(circuits),
        shortfall_per_kwh=100.0 * scale,
        earliness_per_kwh=1e-6 * scale,
    )
