"""A large group's LP split along its sub-groups (Dantzig–Wolfe) finds the joint optimum and
keeps every fuse, the main one included."""

from __future__ import annotations

import random
from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from amphub.adapters.solvers.decomposed import split
from amphub.adapters.solvers.highs import HighsSolver
from amphub.domain.balancing.model import (
    BalancingGroup,
    ConnectorConfig,
    ConnectorKey,
    GroupNode,
    GroupSettings,
    Placement,
)
from amphub.domain.planning.baselines import evaluate
from amphub.domain.planning.problem import PlanningProblem, SessionToPlan, build_problem
from amphub.domain.planning.problem import group_circuits as circuits_of
from amphub.domain.planning.tariffs import SlotGrid
from amphub.domain.units import PhaseCurrents, PhaseRotation

T0 = datetime(2026, 4, 14, 10, tzinfo=UTC)
SETTINGS = GroupSettings(Placement.BUILDING_ONLY, 0.0, 0.0, timedelta(seconds=30))


def site_problem(seed: int, nested: bool = False) -> PlanningProblem:
    """Sub-groups of 4 (one nested a level deeper if asked) and a few connectors straight on
    the main fuse, which binds."""
    rng = random.Random(seed)
    configs = []
    for i in range(rng.randint(9, 18)):
        max_a = rng.choice([16.0, 32.0])
        rotation = rng.choice(list(PhaseRotation))
        configs.append(
            ConnectorConfig(ConnectorKey(str(i), 1), max_a, rng.choice([1, 3]), rotation=rotation)
        )
    loose = rng.randint(0, 2)
    subs = [
        GroupNode(f"sub{j}", PhaseCurrents.uniform(rng.uniform(20, 50)), tuple(configs[j : j + 4]))
        for j in range(loose, len(configs), 4)
    ]
    if nested:
        inner = GroupNode("inner", PhaseCurrents.uniform(20.0), subs[0].connectors[:2])
        subs[0] = replace(subs[0], connectors=subs[0].connectors[2:], children=(inner,))
    fuse = rng.uniform(20, 6 * len(configs))
    root = GroupNode("group", PhaseCurrents.uniform(fuse), tuple(configs[:loose]), tuple(subs))
    group = BalancingGroup(root, SETTINGS)
    slots = 24
    grid = SlotGrid(T0, slots)
    sessions = []
    for c in configs:
        arrival = T0 + timedelta(minutes=15 * rng.randint(0, 6))
        departure = arrival + timedelta(minutes=15 * rng.randint(3, 18))
        need_wh = rng.uniform(1, 25) * 1000
        sessions.append(SessionToPlan(c.key, c.phases, c.min_a, c.max_a, arrival, departure,
                                      need_wh))  # fmt: skip
    circuits = circuits_of(
        group, [s.key for s in sessions], grid, [PhaseCurrents.zero()] * slots, 0.0, {}
    )
    prices = [rng.uniform(-0.05, 0.6) for _ in range(slots)]
    return build_problem(sessions, grid, prices, circuits)


@settings(max_examples=25, deadline=None)
@given(st.integers(0, 10_000), st.booleans())
def test_split_along_sub_groups_finds_the_joint_optimum(seed: int, nested: bool) -> None:
    problem = site_problem(seed, nested)
    if split(problem) is None:
        return  # every sub-group's rows dropped as never binding: nothing to split
    joint = HighsSolver(decompose_from_sessions=10**9).solve(problem)
    decomposed = HighsSolver(decompose_from_sessions=0).solve(problem)
    assert joint.optimal and decomposed.optimal, decomposed.message
    assert "decomposed" in decomposed.message
    assert decomposed.objective == pytest.approx(joint.objective, rel=1e-5, abs=1e-4)
    outcome = evaluate(problem, list(decomposed.currents_a))
    assert outcome.overload_a <= 1e-6
    assert sum(decomposed.shortfall_kwh) == pytest.approx(sum(joint.shortfall_kwh), abs=1e-3)


def test_blocks_are_the_largest_nodes_below_the_main_fuse() -> None:
    problem = site_problem(3, nested=True)
    found = split(problem)
    assert found is not None
    shared = {c.node for c, is_shared in zip(problem.circuits, found.shared, strict=True)
              if is_shared}  # fmt: skip
    assert shared == {"group"}
    # the nested node's sessions are in its parent's block, not in one of their own
    members = {c.node: set(c.members) for c in problem.circuits}
    assert members["inner"] <= members["sub0"]
    assert len({int(found.block_of_session[s]) for s in members["sub0"]}) == 1


def test_circuits_without_nodes_are_not_split() -> None:
    problem = site_problem(5)
    anonymous = replace(problem, circuits=tuple(replace(c, node="") for c in problem.circuits))
    assert split(anonymous) is None
    solution = HighsSolver(decompose_from_sessions=0).solve(anonymous)
    assert solution.optimal and "decomposed" not in solution.message
