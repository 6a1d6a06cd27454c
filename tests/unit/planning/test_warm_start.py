"""Re-planning from the last optimum: the basis follows each car and each slot's clock time,
the answer is the optimum a cold solve finds, and it takes far fewer simplex iterations."""

from __future__ import annotations

import random
from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from amphub.adapters.solvers.highs import AT_MAX, AT_ZERO, BASIC, HighsSolver, carry, columns
from amphub.domain.balancing.model import (
    BalancingGroup,
    ConnectorConfig,
    ConnectorKey,
    GroupNode,
    GroupSettings,
    Placement,
)
from amphub.domain.errors import InvalidValue
from amphub.domain.planning.baselines import evaluate
from amphub.domain.planning.problem import (
    Basis,
    PlanningProblem,
    SessionToPlan,
    build_problem,
    group_circuits,
)
from amphub.domain.planning.tariffs import SlotGrid
from amphub.domain.planning.warm_start import WarmStart
from amphub.domain.units import PhaseCurrents, PhaseRotation

T0 = datetime(2026, 4, 14, 10, tzinfo=UTC)
SETTINGS = GroupSettings(Placement.BUILDING_ONLY, 0.0, 0.0, timedelta(seconds=30))
STEP = timedelta(minutes=15)


def site(n: int, seed: int) -> tuple[list[ConnectorConfig], BalancingGroup]:
    """``n`` mixed connectors in sub-groups of 5 under a main fuse that binds."""
    rng = random.Random(seed)
    configs = [
        ConnectorConfig(
            ConnectorKey(str(i), 1),
            rng.choice([16.0, 32.0]),
            phases=rng.choice([1, 3]),
            rotation=rng.choice(list(PhaseRotation)),
        )
        for i in range(n)
    ]
    subs = tuple(
        GroupNode(f"sub{j}", PhaseCurrents.uniform(40.0), tuple(configs[j : j + 5]))
        for j in range(0, n, 5)
    )
    root = GroupNode("group", PhaseCurrents.uniform(max(20.0, 7.0 * n)), (), subs)
    return configs, BalancingGroup(root, SETTINGS)


def sessions_of(configs: list[ConnectorConfig], seed: int) -> list[SessionToPlan]:
    rng = random.Random(seed)
    found = []
    for c in configs:
        departure = T0 + STEP * rng.randint(4, 40)
        need_wh = rng.uniform(1, 30) * 1000
        found.append(SessionToPlan(c.key, c.phases, c.min_a, c.max_a, T0, departure, need_wh))
    return found


def problem_of(
    sessions: list[SessionToPlan], g: BalancingGroup, grid: SlotGrid, prices: list[float]
) -> PlanningProblem:
    circuits = group_circuits(
        g, [s.key for s in sessions], grid, [PhaseCurrents.zero()] * grid.count, 0.0, {}
    )
    return build_problem(sessions, grid, prices, circuits)


def warm(
    before: PlanningProblem,
    basis: Basis | None,
    before_keys: list[ConnectorKey],
    keys: list[ConnectorKey],
) -> WarmStart:
    assert basis is not None
    previous = tuple(before_keys.index(k) if k in before_keys else -1 for k in keys)
    return WarmStart(before, basis, previous)


@settings(max_examples=20, deadline=None)
@given(st.integers(0, 10_000), st.integers(0, 3), st.booleans())
def test_a_warm_start_finds_the_cold_optimum(seed: int, passed: int, arrival: bool) -> None:
    """One car arrives (or one leaves), ``passed`` slots have gone by and every car has
    charged some of its need meanwhile: the warm re-plan's optimum is the cold one's."""
    rng = random.Random(seed)
    configs, g = site(rng.randint(3, 15), seed)
    sessions = sessions_of(configs, seed)
    prices = [rng.uniform(-0.05, 0.6) for _ in range(48)]
    earlier = sessions[:-1] if arrival else sessions
    first = problem_of(earlier, g, SlotGrid(T0, 48), prices)
    solver = HighsSolver()
    before = solver.solve(first)
    assert before.optimal and before.basis is not None
    later = sessions if arrival else sessions[1:]
    later = [
        replace(s, arrival=T0 + STEP * passed, need_wh=s.need_wh * rng.uniform(0.5, 1.0))
        for s in later
    ]
    grid = SlotGrid(T0 + STEP * passed, 48 - passed)
    second = problem_of(later, g, grid, prices[passed:])
    keys = [s.key for s in later]
    warmed = solver.solve(second, warm(first, before.basis, [s.key for s in earlier], keys))
    cold = HighsSolver().solve(second)
    assert warmed.optimal and cold.optimal
    assert warmed.objective == pytest.approx(cold.objective, rel=1e-7, abs=1e-6)
    assert evaluate(second, list(warmed.currents_a)).overload_a <= 1e-6


def test_one_arrival_re_plans_in_a_fraction_of_the_cold_iterations() -> None:
    configs, g = site(200, 7)
    sessions = sessions_of(configs, 7)
    rng = random.Random(7)
    prices = [rng.uniform(0.0, 0.6) for _ in range(48)]
    grid = SlotGrid(T0, 48)
    first = problem_of(sessions[:-1], g, grid, prices)
    second = problem_of(sessions, g, grid, prices)
    solver = HighsSolver()
    before = solver.solve(first)
    keys = [s.key for s in sessions]
    warmed = solver.solve(second, warm(first, before.basis, keys[:-1], keys))
    warm_iterations = solver.last_iterations
    cold = solver.solve(second)
    assert warmed.objective == pytest.approx(cold.objective, rel=1e-9)
    assert solver.last_iterations > 100
    assert warm_iterations < solver.last_iterations / 4


def test_the_basis_follows_each_car_and_each_slots_clock_time() -> None:
    configs, g = site(3, 1)
    a, b, c = (
        SessionToPlan(cfg.key, cfg.phases, cfg.min_a, cfg.max_a, T0, T0 + STEP * 4, 5_000)
        for cfg in configs
    )
    first = problem_of([a, b], g, SlotGrid(T0, 4), [0.1, 0.2, 0.3, 0.4])
    # a: columns 0..3, b: columns 4..7
    basis = Basis(basic_columns=(1, 6), full_columns=(0, 5), basic_shortfalls=(), full_rows=())
    # One slot later, c arrived and sits first; b and a swapped places.
    later = [replace(s, arrival=T0 + STEP) for s in (c, b, a)]
    second = problem_of(later, g, SlotGrid(T0 + STEP, 3), [0.2, 0.3, 0.4])
    carried = carry(WarmStart(first, basis, (-1, 1, 0)), second, columns(second))
    assert carried is not None
    assert carried.carried.tolist() == [False, True, True]
    # c: new, all at zero; b (old 4..7 → slots 1..3): 5 at max, 6 basic; a: 1 basic.
    assert carried.column_status.tolist() == [
        AT_ZERO, AT_ZERO, AT_ZERO, AT_MAX, BASIC, AT_ZERO, BASIC, AT_ZERO, AT_ZERO,
    ]  # fmt: skip
    # A grid whose slots do not line up with the old one's: nothing to carry.
    off = problem_of(later, g, SlotGrid(T0 + timedelta(minutes=20), 3), [0.2, 0.3, 0.4])
    assert carry(WarmStart(first, basis, (-1, 1, 0)), off, columns(off)) is None


def test_a_warm_start_must_name_each_earlier_car_once() -> None:
    configs, g = site(2, 1)
    sessions = sessions_of(configs, 1)
    first = problem_of(sessions, g, SlotGrid(T0, 8), [0.1] * 8)
    basis = Basis((), (), (), ())
    with pytest.raises(InvalidValue):
        WarmStart(first, basis, (0, 0))
    with pytest.raises(InvalidValue):
        WarmStart(first, basis, (2, -1))
    with pytest.raises(InvalidValue):
        carry(WarmStart(first, basis, (0,)), first, columns(first))


def test_a_re_plan_after_the_last_car_left_is_empty_and_optimal() -> None:
    configs, g = site(2, 1)
    sessions = sessions_of(configs, 1)
    first = problem_of(sessions, g, SlotGrid(T0, 8), [0.1] * 8)
    before = HighsSolver().solve(first)
    empty = problem_of([], g, SlotGrid(T0 + STEP, 7), [0.1] * 7)
    solution = HighsSolver().solve(empty, warm(first, before.basis, [s.key for s in sessions], []))
    assert solution.optimal and list(solution.currents_a) == [] and solution.objective == 0.0
