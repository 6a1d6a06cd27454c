"""What a plan is measured against, and how a plan is measured.

- *uncontrolled*: every car charges at its maximum from arrival until it has its energy;
- *greedy cheapest slots* (evcc's planner): each car on its own picks the cheapest slots of
  its stay, at its maximum current, as if it were alone on the circuit;

both *clipped to the circuit*: in every slot, where the cars' currents exceed a circuit's
limit, each car on that circuit gets the same fraction of what it asked for (what a balancer
does when it cannot give everyone their request). An uncontrolled car clipped in one slot
keeps charging in the next; a greedy plan's clipped energy is lost, since the plan was made
without the circuit in mind.
"""

from __future__ import annotations

from dataclasses import dataclass

from amphub.domain.planning.problem import PlanningProblem


@dataclass(frozen=True, slots=True)
class Outcome:
    cost: float
    """At the all-in slot prices (currency units)."""
    energy_kwh: float
    shortfall_kwh: float
    """Needed but not delivered by departure."""
    overload_a: float
    """The largest excess over any circuit limit (0 for a feasible plan)."""


def _hours(problem: PlanningProblem) -> tuple[float, ...]:
    return problem.grid.hours()


def evaluate(problem: PlanningProblem, currents_a: list[float]) -> Outcome:
    """Cost, energy and feasibility of per-column currents (session-major, offsets())."""
    hours = _hours(problem)
    offsets = problem.offsets()
    cost = energy = shortfall = 0.0
    for s in range(problem.n_sessions):
        first = problem.first_slot[s]
        delivered = 0.0
        for j in range(offsets[s], offsets[s + 1]):
            t = first + j - offsets[s]
            kwh = currents_a[j] * problem.kw_per_a[s] * hours[t]
            delivered += kwh
            cost += kwh * problem.price_per_kwh[t]
        energy += delivered
        shortfall += max(0.0, problem.need_kwh[s] - delivered)
    overload = 0.0
    for circuit in problem.circuits:
        load = _circuit_load(problem, offsets, circuit.members, currents_a)
        for t, limit in enumerate(circuit.limit_a):
            overload = max(overload, load[t] - limit)
    return Outcome(cost, energy, shortfall, overload)


def _circuit_load(
    problem: PlanningProblem,
    offsets: tuple[int, ...],
    members: tuple[int, ...],
    currents_a: list[float],
) -> list[float]:
    load = [0.0] * problem.grid.count
    for s in members:
        first = problem.first_slot[s]
        for j in range(offsets[s], offsets[s + 1]):
            load[first + j - offsets[s]] += currents_a[j]
    return load


def clip_to_circuits(problem: PlanningProblem, currents_a: list[float]) -> list[float]:
    """Scale every over-subscribed circuit's members down to its limit, in the same ratio."""
    offsets = problem.offsets()
    factor = [[1.0] * problem.grid.count for _ in range(problem.n_sessions)]
    for circuit in problem.circuits:
        load = _circuit_load(problem, offsets, circuit.members, currents_a)
        for t, limit in enumerate(circuit.limit_a):
            if load[t] > limit:
                ratio = limit / load[t]
                for s in circuit.members:
                    if ratio < factor[s][t]:
                        factor[s][t] = ratio
    clipped = list(currents_a)
    for s in range(problem.n_sessions):
        first = problem.first_slot[s]
        for j in range(offsets[s], offsets[s + 1]):
            clipped[j] *= factor[s][first + j - offsets[s]]
    return clipped


def _fill(problem: PlanningProblem, s: int, order: list[int], currents_a: list[float]) -> None:
    """Give session ``s`` its maximum in the slots of ``order`` until its need is met."""
    hours = _hours(problem)
    offset = problem.offsets()[s] - problem.first_slot[s]
    left = problem.need_kwh[s]
    for t in order:
        if left <= 1e-9:
            break
        full = problem.max_a[s] * problem.kw_per_a[s] * hours[t]
        take = min(full, left)
        currents_a[offset + t] = problem.max_a[s] * take / full
        left -= take


def uncontrolled(problem: PlanningProblem) -> list[float]:
    """At maximum from arrival until the need is met, slot by slot, each slot clipped to
    the circuit (what a balancer without a plan delivers: a car clipped in one slot keeps
    charging in the next)."""
    hours = _hours(problem)
    offsets = problem.offsets()
    currents = [0.0] * offsets[-1]
    left = list(problem.need_kwh)
    for t in range(problem.grid.count):
        asked: dict[int, float] = {}
        for s in range(problem.n_sessions):
            if problem.first_slot[s] <= t < problem.end_slot[s] and left[s] > 1e-9:
                full = problem.kw_per_a[s] * hours[t]
                asked[s] = min(problem.max_a[s], left[s] / full)
        if not asked:
            continue
        ratio = dict.fromkeys(asked, 1.0)
        for circuit in problem.circuits:
            load = sum(asked.get(s, 0.0) for s in circuit.members)
            if load > circuit.limit_a[t]:
                scale = circuit.limit_a[t] / load
                for s in circuit.members:
                    if s in ratio and scale < ratio[s]:
                        ratio[s] = scale
        for s, current in asked.items():
            given = current * ratio[s]
            currents[offsets[s] + t - problem.first_slot[s]] = given
            left[s] -= given * problem.kw_per_a[s] * hours[t]
    return currents


def greedy_cheapest(problem: PlanningProblem) -> list[float]:
    """Each car alone: its cheapest slots (earlier first among equals), clipped."""
    currents = [0.0] * problem.offsets()[-1]
    prices = problem.price_per_kwh
    for s in range(problem.n_sessions):
        slots = sorted(
            range(problem.first_slot[s], problem.end_slot[s]), key=lambda t: (prices[t], t)
        )
        _fill(problem, s, slots, currents)
    return clip_to_circuits(problem, currents)
