"""The vectorised allocator (large groups) decides exactly what the scalar one decides.

Exactly: every limit is the same float, every decision and memory the same value, cycle
after cycle, on random trees, cars, meters and settings. Its memory is handed on in both
ways (its own arrays, or the mappings of a scalar cycle) so that both ways of reading the
previous cycle are checked.
"""

from __future__ import annotations

from datetime import timedelta

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from amphub.domain.balancing import (
    BalancerMemory,
    BalancerSettings,
    BalancingGroup,
    BalancingInput,
    ConnectorKey,
    ConnectorLive,
    MeterSnapshot,
    waterfill,
)
from amphub.domain.balancing.allocate import allocate_scalar
from amphub.domain.balancing.index import constraint_loads
from amphub.domain.balancing.vectorized import fill as vector_fill
from amphub.domain.balancing.vectorized import levels as vector_levels
from amphub.domain.balancing.vectorized.arrays import constraint_loads as vector_loads
from amphub.domain.balancing.vectorized.cycle import allocate_vectorized
from tests.unit.balancing.builders import T0
from tests.unit.balancing.strategies import cycles, groups

EXAMPLES = settings(
    max_examples=60,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)

SOLVERS = {
    "as configured": {},
    "batched": {"SCALAR_UP_TO": 0},
    "one by one": {"LARGE_NODE": 1},
}
"""How the vectorised pass solves a depth's binding nodes: small sets with the scalar
code, large nodes alone, the rest batched; each way forced on random trees."""


@pytest.fixture(params=list(SOLVERS))
def solver(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> str:
    for name, value in SOLVERS[request.param].items():
        monkeypatch.setattr(vector_levels, name, value)
    return str(request.param)


BALANCER_SETTINGS = [
    BalancerSettings(),
    BalancerSettings(max_increase_step_a=1000.0, change_threshold_a=0.0, resolution_a=1e-9),
    BalancerSettings(
        min_on_time=timedelta(seconds=40),
        min_off_time=timedelta(seconds=20),
        lend_after=timedelta(seconds=10),
        probe_interval=timedelta(seconds=60),
        max_increase_step_a=3.0,
        change_threshold_a=1.0,
        resolution_a=0.5,
    ),
]


@EXAMPLES
@given(data=st.data(), group=groups(max_depth=4))
def test_both_allocators_decide_the_same_cycle_after_cycle(
    solver: str, data: st.DataObject, group: BalancingGroup
) -> None:
    balancer = data.draw(st.sampled_from(BALANCER_SETTINGS))
    scalar_memory = vector_memory = BalancerMemory()
    now = T0
    chance = data.draw(st.randoms(use_true_random=False))
    previous: dict[ConnectorKey, ConnectorLive] = {}
    for cycle in data.draw(cycles(group, data.draw(st.integers(1, 8)))):
        now += cycle.after
        meter = (
            None if cycle.meter_a is None else MeterSnapshot(cycle.meter_a, now - cycle.meter_age)
        )
        # Some connectors keep last cycle's object (as the controller does while nothing
        # changes): the vectorised path reads only the others again.
        cars = {
            key: previous[key] if key in previous and chance.random() < 0.5 else live
            for key, live in cycle.cars.items()
        }
        previous = cars
        snapshot = BalancingInput(meter, cars, cycle.caps, cycle.reserved)
        if data.draw(st.booleans()):
            vector_memory = scalar_memory  # read back from the mappings, not its own arrays
        expected = allocate_scalar(group, snapshot, scalar_memory, now, balancer)
        found = allocate_vectorized(group, snapshot, vector_memory, now, balancer)
        assert found.limits_a == expected.limits_a
        assert list(found.limits_a) == list(expected.limits_a)
        assert found.decisions == expected.decisions
        assert found.memory.connectors == expected.memory.connectors
        assert found.available == expected.available
        scalar_memory, vector_memory = expected.memory, found.memory


@EXAMPLES
@given(data=st.data(), group=groups(priorities=1, max_depth=4))
def test_both_water_fillings_give_the_same_shares(
    solver: str, data: st.DataObject, group: BalancingGroup
) -> None:
    """``fill`` on its own, with floors, ceilings and room that the allocator would rarely
    produce, twice in a row (the second pass reuses what it can of the first)."""
    index = group.index
    arrays = group.arrays
    n = len(index.keys)
    passes = vector_fill.Passes(arrays, {})
    for round_number in range(2):
        members = [i for i in range(n) if data.draw(st.booleans())]
        floors = [0.0] * n
        ceilings = [0.0] * n
        for i in members:
            floors[i] = data.draw(st.sampled_from([index.min_a[i], 0.0, 2.5]))
            ceilings[i] = floors[i] + data.draw(st.sampled_from([0.0, 4.0, 26.0, 7.3]))
        loads = constraint_loads(index, members, floors)
        room = [load + data.draw(st.sampled_from([0.0, 3.0, 10.5, 40.0])) for load in loads]
        gain_a = data.draw(st.sampled_from([0.0, 0.1]))
        expected = waterfill.fill(index, members, floors, ceilings, room, gain_a)
        found = vector_fill.fill(
            arrays,
            np.array(members, dtype=np.int64),
            np.array(floors),
            np.array(ceilings),
            np.array(room),
            gain_a,
            passes,
            round_number,
        )
        assert found[0].tolist() == expected[0]
        assert found[1].tolist() == expected[1]


@EXAMPLES
@given(data=st.data(), group=groups(max_depth=4))
def test_both_find_the_same_connectors_free_to_rise(
    data: st.DataObject, group: BalancingGroup
) -> None:
    """The refining pass's selection, which the allocator almost never reaches."""
    index = group.index
    n = len(index.keys)
    members = [i for i in range(n) if data.draw(st.booleans())]
    shares = [data.draw(st.sampled_from([0.0, 6.0, 7.5, 16.0])) for _ in range(n)]
    ceilings = [share + data.draw(st.sampled_from([0.0, 1.0])) for share in shares]
    loads = constraint_loads(index, members, shares)
    room = [load + data.draw(st.sampled_from([0.0, 1e-7, 2.0])) for load in loads]
    expected_free, expected_room = waterfill._free_to_rise(index, members, shares, ceilings, room)
    free, free_room = vector_fill._free_to_rise(
        group.arrays,
        np.array(members, dtype=np.int64),
        np.array(shares),
        np.array(ceilings),
        np.array(room),
    )
    assert free.tolist() == expected_free
    assert free_room.tolist() == expected_room
    assert (
        vector_loads(
            group.arrays, np.array(members, dtype=np.int64), np.array(shares)[members]
        ).tolist()
        == loads
    )
