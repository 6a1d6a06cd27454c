"""amphub's price planner, reduced to its pure core and fed the quality benchmark's event
stream: the caps it hands the balancer when every session's departure and need are known.

What ``amphub.application.planning.planner.PricePlanner`` does on a re-plan, step for step
with the same domain functions and the same HiGHS adapter, without the store, the live
state and asyncio around it:

- re-plan when a car arrives or leaves (the application's TRANSACTION events) and every
  15 minutes (its ``run`` loop), on the 15-minute slot grid from now to the last departure;
- each plugged-in car is a ``SessionToPlan`` with what the application knows of it: the
  connector's configuration (phases, minimum, maximum — not the car's), now, its departure,
  and its need minus what it has been metered to take so far;
- the circuit rows are the group's (``group_circuits``) with the building load as last
  measured held for the horizon, and the group's dynamic buffer;
- the LP (``build_problem``, ``HighsSolver``) and the per-connector plans
  (``session_plans``): a plan's ``cap_at(now)`` is the ``ExternalCap`` the balancer gets,
  as ``PricePlanner.caps`` hands it over.

Prices are flat (the same every slot): the sites' day has no day-ahead prices, and with
flat prices the planner's objective is its shortfall penalty alone — deliver as much of
every need as the circuit allows, earliest first (its tie-break).
"""

from __future__ import annotations

import time
from collections.abc import Mapping, Sequence
from datetime import datetime, timedelta

from amphub.adapters.solvers.highs import HighsSolver
from amphub.domain.balancing import BalancingGroup, ConnectorKey, ExternalCap
from amphub.domain.planning.plan import SessionPlan, session_plans
from amphub.domain.planning.problem import (
    Basis,
    PlanningProblem,
    SessionToPlan,
    build_problem,
    fill_prices,
    group_circuits,
)
from amphub.domain.planning.tariffs import SlotGrid
from amphub.domain.planning.vehicle import SeenVehicle
from amphub.domain.planning.warm_start import WarmStart
from amphub.domain.units import PhaseCurrents
from quality_model import Session, Site, State

REPLAN_EVERY_S = 15 * 60.0
"""``PricePlanner.run``'s interval."""
HORIZON = timedelta(hours=36)
"""``amphub.application.planning.planner.HORIZON``."""
FLAT_PRICE_PER_KWH = 1.0


class PlanCaps:
    """The caps of the group's current plan; re-plans on the application's triggers."""

    def __init__(self, site: Site, group: BalancingGroup) -> None:
        self.group = group
        self.configs = {c.key: c for c in group.connectors}
        self.solver = HighsSolver()
        self.plans: dict[ConnectorKey, SessionPlan] = {}
        self.seen: dict[str, SeenVehicle] = {}
        self.stale = False
        self.solved: tuple[tuple[ConnectorKey, ...], PlanningProblem, Basis] | None = None
        self.plugged: frozenset[str] = frozenset()
        self.next_tick_s = 0.0
        self.replans = 0
        self.solve_s = 0.0

    def observe(
        self, session_id: str, measured: PhaseCurrents, offered_a: float, at: datetime
    ) -> None:
        """A reading of a car's current and what its charger offers it; what it teaches of
        the car asks for a re-plan, as it does in the application."""
        before = self.seen.get(session_id, SeenVehicle())
        after = before.observe(measured, offered_a, at)
        self.seen[session_id] = after
        if after.changes_plan(before):
            self.stale = True

    def __call__(
        self, site: Site, state: State, plugged: Sequence[Session], now: datetime
    ) -> Mapping[ConnectorKey, ExternalCap]:
        ids = frozenset(s.session_id for s in plugged)
        due = state.time_s >= self.next_tick_s
        while state.time_s >= self.next_tick_s:
            self.next_tick_s += REPLAN_EVERY_S
        if due or ids != self.plugged or self.stale:
            self.plugged = ids
            self.stale = False
            self.replan(site, state, plugged, now)
        caps: dict[ConnectorKey, ExternalCap] = {}
        for key, plan in self.plans.items():
            cap = plan.cap_at(now)
            if cap is not None:
                caps[key] = ExternalCap(cap, f"price plan ({plan.status.value})")
        return caps

    def replan(self, site: Site, state: State, plugged: Sequence[Session], now: datetime) -> None:
        started = time.perf_counter()
        sessions = []
        for s in plugged:
            departure = site.start + timedelta(seconds=s.departure * site.period_s)
            if departure <= now:
                continue
            config = self.configs[ConnectorKey(s.station_id, 1)]
            need = max(0.0, s.need_wh - state.delivered_wh[s.session_id])
            seen = self.seen.get(s.session_id, SeenVehicle())
            phases, max_a = seen.limits(config.phases, config.min_a, config.max_a)
            sessions.append(
                SessionToPlan(config.key, phases, config.min_a, max_a, now, departure, need)
            )
        self.plans = {}
        if not sessions:
            return
        grid = SlotGrid.from_now(now, min(now + HORIZON, max(s.departure for s in sessions)))
        known: list[float | None] = [FLAT_PRICE_PER_KWH] * grid.count
        filled = fill_prices(known)
        assert filled is not None
        building = PhaseCurrents(*site.building_a[state.t])
        circuits = group_circuits(
            self.group, [s.key for s in sessions], grid, [building] * grid.count,
            self.group.settings.dynamic_buffer_a, {},
        )  # fmt: skip
        problem = build_problem(sessions, grid, filled, circuits)
        keys = tuple(s.key for s in sessions)
        warm = None
        if self.solved is not None:  # as the application: the last optimum, by connector
            old_keys, old_problem, basis = self.solved
            previous = {key: i for i, key in enumerate(old_keys)}
            warm = WarmStart(old_problem, basis, tuple(previous.get(k, -1) for k in keys))
        solution = self.solver.solve(problem, warm)
        self.solved = None if solution.basis is None else (keys, problem, solution.basis)
        if not solution.optimal:
            raise RuntimeError(f"planner: no optimal plan ({solution.message})")
        self.plans = {p.session.key: p for p in session_plans(problem, sessions, solution, known)}
        self.replans += 1
        self.solve_s += time.perf_counter() - started
