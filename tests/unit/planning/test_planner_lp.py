"""The joint LP and its answer: phases and rotation, circuits and building load, negative
prices, needs that cannot be met, the minimum current, and the baselines it must beat.

The solver is HiGHS through its adapter (a library, no I/O); the formulation and the plans
are the pure domain's.
"""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from amphub.adapters.solvers.highs import HighsSolver
from amphub.domain.balancing.model import (
    BalancingGroup,
    ConnectorConfig,
    ConnectorKey,
    GroupNode,
    GroupSettings,
    Placement,
)
from amphub.domain.planning.baselines import evaluate, greedy_cheapest, uncontrolled
from amphub.domain.planning.plan import PlanStatus, round_to_minimum, session_plans
from amphub.domain.planning.problem import (
    PlanningProblem,
    SessionToPlan,
    build_problem,
    fill_prices,
    group_circuits,
)
from amphub.domain.planning.tariffs import SlotGrid
from amphub.domain.units import PhaseCurrents, PhaseRotation

T0 = datetime(2024, 10, 13, 0, tzinfo=UTC)
SETTINGS = GroupSettings(Placement.BUILDING_ONLY, 0.0, 0.0, timedelta(seconds=30))


def key(n: int) -> ConnectorKey:
    return ConnectorKey(str(n), 1)


def group(
    configs: list[ConnectorConfig], fuse_a: float, sub_a: float | None = None
) -> BalancingGroup:
    if sub_a is None:
        return BalancingGroup(
            GroupNode("group", PhaseCurrents.uniform(fuse_a), tuple(configs)), SETTINGS
        )
    sub = GroupNode("group/sub", PhaseCurrents.uniform(sub_a), tuple(configs))
    return BalancingGroup(GroupNode("group", PhaseCurrents.uniform(fuse_a), (), (sub,)), SETTINGS)


def session(config: ConnectorConfig, hours: float, need_kwh: float) -> SessionToPlan:
    return SessionToPlan(
        config.key, config.phases, config.min_a, config.max_a, T0, T0 + timedelta(hours=hours),
        need_kwh * 1000,
    )  # fmt: skip


def problem_of(
    sessions: list[SessionToPlan], g: BalancingGroup, prices: list[float],
    building: PhaseCurrents = PhaseCurrents.zero(),
) -> PlanningProblem:  # fmt: skip
    grid = SlotGrid(T0, len(prices))
    circuits = group_circuits(
        g, [s.key for s in sessions], grid, [building] * grid.count, g.settings.dynamic_buffer_a, {}
    )
    return build_problem(sessions, grid, prices, circuits)


def per_session(problem: PlanningProblem, currents: list[float]) -> list[list[float]]:
    offsets = problem.offsets()
    return [list(currents[offsets[s] : offsets[s + 1]]) for s in range(problem.n_sessions)]


def test_cheapest_slots_first_and_never_more_than_needed_even_at_negative_prices() -> None:
    c = ConnectorConfig(key(1), max_a=16.0)
    prices = [0.3, -0.05, 0.1, -0.02, 0.5, 0.2, 0.05, 0.4]  # negative: paid to charge
    need = 16 * 0.69 * 0.25 * 2.5  # two and a half slots at full current
    p = problem_of([session(c, 2, need)], group([c], 63), prices)
    solution = HighsSolver().solve(p)
    assert solution.optimal
    currents = per_session(p, list(solution.currents_a))[0]
    assert currents[1] == pytest.approx(16) and currents[3] == pytest.approx(16)
    assert currents[6] == pytest.approx(8)
    assert sum(currents) == pytest.approx(40)
    assert solution.shortfall_kwh[0] == pytest.approx(0, abs=1e-9)


def test_three_phase_cars_load_every_phase_single_phase_only_their_rotated_one() -> None:
    three = ConnectorConfig(key(1), 16.0, phases=3)
    on_l2 = ConnectorConfig(key(2), 32.0, phases=1, rotation=PhaseRotation.L2L3L1)
    on_l3 = ConnectorConfig(key(3), 32.0, phases=1, rotation=PhaseRotation.L3L1L2)
    g = group([three, on_l2, on_l3], 40)
    sessions = [session(three, 1, 50), session(on_l2, 1, 50), session(on_l3, 1, 50)]
    p = problem_of(sessions, g, [0.1] * 4)
    names = {c.name for c in p.circuits}
    # L1 carries only the three-phase car, whose 16 A can never reach 40 A: no row for it.
    assert names == {"group/L2", "group/L3"}
    solution = HighsSolver().solve(p)
    x = per_session(p, list(solution.currents_a))
    for t in range(4):
        assert x[0][t] + x[1][t] <= 40 + 1e-6  # L2
        assert x[0][t] + x[2][t] <= 40 + 1e-6  # L3
    assert evaluate(p, list(solution.currents_a)).overload_a <= 1e-6


def test_building_load_and_sub_group_limit_bind() -> None:
    cars = [ConnectorConfig(key(n), 32.0) for n in range(1, 5)]
    g = group(cars, fuse_a=100, sub_a=60)
    sessions = [session(c, 2, 100) for c in cars]  # more than can be had: short
    heavy = PhaseCurrents(70.0, 50.0, 50.0)
    p = problem_of(sessions, g, [0.2] * 8, building=heavy)
    assert {c.name: c.limit_a[0] for c in p.circuits} == {"group/L1": 30.0, "group/sub/L1": 60.0}
    solution = HighsSolver().solve(p)
    x = per_session(p, list(solution.currents_a))
    for t in range(8):
        assert sum(x[s][t] for s in range(4)) == pytest.approx(30)


def test_a_need_that_cannot_be_met_charges_as_fast_as_allowed_and_says_so() -> None:
    fast = ConnectorConfig(key(1), 16.0)
    easy = ConnectorConfig(key(2), 16.0)
    sessions = [session(fast, 1, 40), session(easy, 1, 2)]
    p = problem_of(sessions, group([fast, easy], 63), [0.4, 0.1, 0.3, 0.2])
    solution = HighsSolver().solve(p)
    plans = session_plans(p, sessions, solution, list(p.price_per_kwh))
    assert plans[0].status is PlanStatus.SHORT
    assert "cannot" in plans[0].message or "at most" in plans[0].message
    assert plans[0].caps_a == (16.0,) * 4
    assert plans[0].planned_kwh == pytest.approx(16 * 0.69 * 1.0)
    assert plans[1].status is PlanStatus.PLANNED
    assert plans[1].caps_a[1] > 0 and plans[1].caps_a[0] == 0


def test_a_short_car_charges_until_it_leaves_even_within_its_last_slot() -> None:
    """The LP plans whole slots; a car short of its need still charges in the slot it
    leaves in, and a stay shorter than a slot is not a stay without charging."""
    c = ConnectorConfig(key(1), 16.0)
    for hours, charging_slots in ((0.75 - 1 / 12, 3), (10 / 60, 1)):
        sessions = [session(c, hours, 40)]
        p = problem_of(sessions, group([c], 63), [0.1] * 4)
        plan = session_plans(p, sessions, HighsSolver().solve(p), list(p.price_per_kwh))[0]
        assert plan.status is PlanStatus.SHORT
        assert plan.caps_a == (16.0,) * charging_slots + (0.0,) * (4 - charging_slots)
        assert plan.cap_at(T0 + timedelta(hours=hours) - timedelta(minutes=1)) == 16.0


def test_caps_are_zero_or_at_least_the_minimum_and_keep_the_energy() -> None:
    caps = round_to_minimum([0.0, 2.0, 16.0, 3.0, 4.5], [0.5, 0.3, 0.1, 0.2, 0.4], 6.0)
    assert caps == [0.0, 6.0, 16.0, 6.0, 0.0]  # the small slots' energy, cheapest first
    assert sum(caps) >= 2.0 + 16.0 + 3.0 + 4.5


def test_unknown_prices_rank_after_every_known_one_and_none_known_means_none() -> None:
    assert fill_prices([0.2, None, -0.1]) == (0.2, 1.2, -0.1)
    assert fill_prices([None, None]) is None


def test_cap_follows_the_plan_slot_by_slot() -> None:
    c = ConnectorConfig(key(1), 16.0)
    sessions = [session(c, 1, 16 * 0.69 * 0.25)]
    p = problem_of(sessions, group([c], 63), [0.4, 0.1, 0.3, 0.2])
    plan = session_plans(p, sessions, HighsSolver().solve(p), list(p.price_per_kwh))[0]
    assert plan.cap_at(T0 + timedelta(minutes=5)) == 0.0
    assert plan.cap_at(T0 + timedelta(minutes=20)) == pytest.approx(16.0)
    assert plan.cap_at(T0 + timedelta(hours=2)) is None  # gone: the plan no longer limits


@settings(max_examples=25, deadline=None)
@given(st.integers(0, 10_000))
def test_the_lp_is_feasible_and_beats_both_baselines(seed: int) -> None:
    rng = random.Random(seed)
    configs = [
        ConnectorConfig(
            key(n),
            rng.choice([16.0, 32.0]),
            phases=rng.choice([1, 3]),
            rotation=rng.choice(list(PhaseRotation)),
        )
        for n in range(1, rng.randint(2, 8))
    ]
    g = group(configs, fuse_a=rng.uniform(20, 80), sub_a=rng.uniform(16, 60))
    slots = 16
    prices = [rng.uniform(-0.1, 0.6) for _ in range(slots)]
    grid = SlotGrid(T0, slots)
    sessions = []
    for c in configs:
        arrival = T0 + timedelta(minutes=15 * rng.randint(0, 6))
        departure = arrival + timedelta(minutes=15 * rng.randint(2, 10))
        sessions.append(
            SessionToPlan(c.key, c.phases, c.min_a, c.max_a, arrival, departure,
                          rng.uniform(0.5, 12) * 1000)
        )  # fmt: skip
    circuits = group_circuits(
        g, [s.key for s in sessions], grid, [PhaseCurrents.zero()] * slots, 0, {}
    )
    p = build_problem(sessions, grid, prices, circuits)
    solution = HighsSolver().solve(p)
    assert solution.optimal
    lp = evaluate(p, list(solution.currents_a))
    assert lp.overload_a <= 1e-6
    for baseline in (uncontrolled(p), greedy_cheapest(p)):
        other = evaluate(p, baseline)
        assert other.overload_a <= 1e-6
        # Energy first: the LP never delivers less; at equal energy it never costs more.
        assert lp.shortfall_kwh <= other.shortfall_kwh + 1e-6
        if abs(lp.shortfall_kwh - other.shortfall_kwh) < 1e-6:
            assert lp.cost <= other.cost + 1e-6
