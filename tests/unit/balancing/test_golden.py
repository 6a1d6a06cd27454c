"""The allocator decides exactly what it decided before it was made faster.

``golden_allocations.json`` holds, per seeded scenario, a digest of everything ``allocate``
returned cycle after cycle: every limit (its exact float), binding, node, phase and detail,
the available current of every node, the fail-safe flag and the memory carried to the next
cycle. The scenarios are random fuse trees from a handful of connectors to 10,000 (flat,
deep, panels of sub-groups), mixed one- and three-phase wiring, one to three priorities,
cars arriving, leaving, pausing, lending and suspending, caps, offline chargers, silent and
exporting meters, and three sets of balancer settings.

The digests were recorded with the scalar implementation (commit 417c63b). A speed-up must
leave them unchanged; a deliberate change of the rules re-records them with
``python -m tests.unit.balancing.test_golden --record`` and says so in its commit.
"""

from __future__ import annotations

import argparse
import hashlib
import importlib
import json
import random
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

import pytest

from amphub.domain.balancing import (
    Allocation,
    BalancerMemory,
    BalancerSettings,
    BalancingGroup,
    BalancingInput,
    ConnectorConfig,
    ConnectorKey,
    ConnectorLive,
    ExternalCap,
    GroupNode,
    GroupSettings,
    MeterSnapshot,
    Placement,
    VehicleState,
    allocate,
)
from amphub.domain.units import PhaseCurrents, PhaseRotation
from tests.unit.balancing.builders import T0

GOLDEN = Path(__file__).with_name("golden_allocations.json")
allocate_module = importlib.import_module("amphub.domain.balancing.allocate")

SETTINGS = {
    "default": BalancerSettings(),
    "undamped": BalancerSettings(
        max_increase_step_a=1000.0, change_threshold_a=0.0, resolution_a=1e-9
    ),
    "coarse": BalancerSettings(
        min_on_time=timedelta(seconds=40),
        min_off_time=timedelta(seconds=20),
        lend_after=timedelta(seconds=10),
        probe_interval=timedelta(seconds=60),
        max_increase_step_a=3.0,
        change_threshold_a=1.0,
        resolution_a=0.5,
    ),
}


@dataclass(frozen=True)
class Shape:
    """How a scenario's tree is built."""

    connectors: int
    max_depth: int
    max_children: int
    priorities: int
    cycles: int
    tight: float
    """Node limits as a fraction of what their connectors could draw."""


SHAPES: dict[str, Shape] = {
    "tiny": Shape(connectors=4, max_depth=1, max_children=2, priorities=1, cycles=12, tight=0.5),
    "small": Shape(connectors=12, max_depth=3, max_children=3, priorities=3, cycles=10, tight=0.4),
    "deep": Shape(connectors=40, max_depth=5, max_children=2, priorities=2, cycles=8, tight=0.35),
    "wide": Shape(connectors=120, max_depth=2, max_children=8, priorities=1, cycles=8, tight=0.3),
    "mixed": Shape(connectors=300, max_depth=3, max_children=5, priorities=3, cycles=6, tight=0.3),
}


def _connector(rng: random.Random, n: int, priorities: int) -> ConnectorConfig:
    min_a = rng.choice([6.0, 6.0, 6.0, 8.0, 10.0, 1.5])
    extra = rng.choice([0.0, 4.0, 10.0, 26.0, rng.uniform(0.0, 40.0)])
    return ConnectorConfig(
        key=ConnectorKey(f"cp{n}", rng.randint(1, 2)),
        max_a=min_a + extra,
        phases=rng.choice([1, 3, 3]),
        rotation=rng.choice(list(PhaseRotation)),
        min_a=min_a,
        priority=rng.randrange(priorities),
    )


def _limit(rng: random.Random, demand_a: float) -> PhaseCurrents:
    """A per-phase limit around ``demand_a``: integers mostly (ties happen), sometimes 0."""

    def one() -> float:
        roll = rng.random()
        if roll < 0.05:
            return 0.0
        if roll < 0.6:
            return float(round(demand_a * rng.uniform(0.6, 1.4)))
        return demand_a * rng.uniform(0.5, 1.5)

    if rng.random() < 0.5:
        return PhaseCurrents.uniform(one())
    return PhaseCurrents(one(), one(), one())


def random_group(rng: random.Random, shape: Shape) -> BalancingGroup:
    """A tree with about ``shape.connectors`` connectors spread over its nodes."""
    counter = iter(range(1_000_000))
    keys = iter(range(1_000_000))
    left = [shape.connectors]

    def make(depth: int) -> GroupNode:
        n = next(counter)
        children: list[GroupNode] = []
        if depth < shape.max_depth and left[0] > 0:
            for _ in range(rng.randint(0, shape.max_children)):
                children.append(make(depth + 1))
        own = 0 if left[0] <= 0 else min(left[0], rng.randint(0, max(1, shape.connectors // 4)))
        left[0] -= own
        connectors = tuple(_connector(rng, next(keys), shape.priorities) for _ in range(own))
        demand = sum(c.max_a for c in connectors) + sum(c.limit.l1_a for c in children)
        return GroupNode(
            f"n{n}", _limit(rng, shape.tight * demand + 1.0), connectors, tuple(children)
        )

    root = make(0)
    if left[0] > 0:  # the random tree ran out of room: the rest hangs at the root
        extra = tuple(_connector(rng, next(keys), shape.priorities) for _ in range(left[0]))
        root = GroupNode(root.node_id, root.limit, root.connectors + extra, root.children)
    settings = GroupSettings(
        placement=rng.choice(list(Placement)),
        dynamic_buffer_a=rng.choice([0.0, 2.0, 5.5]),
        fail_safe_a=rng.choice([0.0, 10.0, 32.0, rng.uniform(0.0, 200.0)]),
        meter_timeout=timedelta(seconds=60),
    )
    return BalancingGroup(root, settings)


def panel_group(rng: random.Random, size: int, priorities: int) -> BalancingGroup:
    """The benchmark's shape: sub-groups of 10-20 connectors under panels of twenty."""
    subgroups: list[GroupNode] = []
    counter = 0
    while counter < size:
        width = min(rng.randint(10, 20), size - counter)
        connectors = []
        for _ in range(width):
            connectors.append(
                ConnectorConfig(
                    ConnectorKey(f"CP{counter:05d}", 1),
                    max_a=rng.choice((16.0, 32.0, 32.0)),
                    phases=1 if rng.random() < 0.3 else 3,
                    rotation=rng.choice(list(PhaseRotation)),
                    priority=rng.randrange(priorities),
                )
            )
            counter += 1
        limit = PhaseCurrents.uniform(round(width * rng.uniform(5.0, 14.0)))
        subgroups.append(GroupNode(f"sub{len(subgroups)}", limit, tuple(connectors)))
    panels = []
    for start in range(0, len(subgroups), 20):
        part = tuple(subgroups[start : start + 20])
        total = sum(s.limit.l1_a for s in part)
        panels.append(
            GroupNode(
                f"panel{len(panels)}", PhaseCurrents.uniform(round(0.8 * total)), children=part
            )
        )
    total = sum(p.limit.l1_a for p in panels)
    root = GroupNode("root", PhaseCurrents.uniform(round(0.7 * total) + 40.0), (), tuple(panels))
    settings = GroupSettings(Placement.BUILDING_ONLY, 2.0, 0.3 * total, timedelta(seconds=60))
    return BalancingGroup(root, settings)


@dataclass
class Car:
    live: ConnectorLive
    want_a: float
    """What the car would draw at most (it draws less than its limit when this is lower)."""


def run(
    rng: random.Random, group: BalancingGroup, settings: BalancerSettings, cycles: int
) -> Iterator[Allocation]:
    """Drive ``group`` for ``cycles`` cycles as the controller would, with a world that
    remembers: cars stay a while, draw what they are given (or less), meters wander."""
    now = T0
    cars: dict[ConnectorKey, Car] = {}
    configs = group.connectors
    memory = BalancerMemory()
    building_a = rng.uniform(-20.0, 60.0)
    steps = [0, 1, 5, 5, 5, 11, 31, 65, 190, 301]
    for _ in range(cycles):
        now += timedelta(seconds=rng.choice(steps))
        churn = rng.choice([0.0, 0.02, 0.1, 0.5])
        for config in configs:
            key = config.key
            car = cars.get(key)
            if car is None or rng.random() < churn:
                roll = rng.random()
                if roll < 0.2:
                    cars.pop(key, None)
                    continue
                state = VehicleState.SUSPENDED_EV if roll < 0.3 else VehicleState.CHARGING
                if roll > 0.95:
                    state = VehicleState.IDLE
                since = now - timedelta(seconds=rng.choice([0, 20, 40, 400]))
                want = config.max_a if rng.random() < 0.6 else rng.uniform(0.0, config.max_a)
                car = Car(ConnectorLive(state, since, PhaseCurrents.zero(), since), want)
                cars[key] = car
            given = memory.limit_a(key)
            draw = min(given, car.want_a) if car.live.state is VehicleState.CHARGING else 0.0
            if rng.random() < 0.05:
                draw = rng.uniform(-2.0, 40.0)  # a bogus reading
            phases = (draw, draw, draw) if config.phases == 3 else (draw, 0.0, 0.0)
            car.live = ConnectorLive(
                car.live.state, car.live.state_since, PhaseCurrents(*phases), car.live.session_start
            )
        caps: dict[ConnectorKey, ExternalCap] = {}
        reserved: dict[ConnectorKey, float] = {}
        for config in configs:
            roll = rng.random()
            if roll < 0.04:
                caps[config.key] = ExternalCap(
                    rng.choice([0.0, 7.0, rng.uniform(0.0, 40.0)]), "plan"
                )
            elif roll < 0.06:
                reserved[config.key] = rng.uniform(0.0, 20.0)
                caps[config.key] = ExternalCap(0.0, "offline")
        building_a += rng.uniform(-5.0, 5.0)
        meter: MeterSnapshot | None = None
        roll = rng.random()
        if roll < 0.9:
            age = timedelta(seconds=rng.choice([0, 0, 0, 10, 59, 61]))
            meter = MeterSnapshot(
                PhaseCurrents(building_a, building_a + rng.uniform(-3, 3), building_a - 2.0),
                now - age,
            )
        snapshot = BalancingInput(meter, {k: c.live for k, c in cars.items()}, caps, reserved)
        allocation = allocate(group, snapshot, memory, now, settings)
        memory = allocation.memory
        yield allocation


def _time(moment: object) -> str:
    return "-" if moment is None else repr(moment)


def fingerprint(group: BalancingGroup, allocations: Iterator[Allocation]) -> str:
    """A digest of everything the allocations say, exact floats included."""
    digest = hashlib.sha256()
    keys = group.index.keys
    for allocation in allocations:
        available = allocation.available
        lines = [f"fail_safe={available.fail_safe} building={available.building_load!r}"]
        lines.extend(f"{n}={v!r}" for n, v in sorted(available.per_node.items()))
        for key in keys:
            d = allocation.decisions[key]
            m = allocation.memory.connectors[key]
            lines.append(
                f"{key} {allocation.limits_a[key]!r} {d.limit_a!r} {d.binding} {d.node_id} "
                f"{d.phase!r} {d.detail} | {_time(m.switched_at)} {_time(m.increased_at)} "
                f"{_time(m.under_draw_since)} {_time(m.lending_since)}"
            )
        digest.update("\n".join(lines).encode())
    return digest.hexdigest()[:32]


def scenarios() -> Iterator[tuple[str, int]]:
    for shape in SHAPES:
        count = 60 if shape in ("tiny", "small") else 15
        for seed in range(count):
            yield shape, seed
    for size, priorities in ((1_000, 1), (1_000, 2), (10_000, 1), (10_000, 3)):
        yield f"panels{size}p{priorities}", 0


def compute(name: str, seed: int) -> str:
    rng = random.Random(f"{name}/{seed}")
    settings = SETTINGS[rng.choice(sorted(SETTINGS))]
    if name.startswith("panels"):
        size, priorities = name.removeprefix("panels").split("p")
        group = panel_group(rng, int(size), int(priorities))
        cycles = 14
    else:
        shape = SHAPES[name]
        group = random_group(rng, shape)
        cycles = shape.cycles
    return fingerprint(group, run(rng, group, settings, cycles))


def _recorded() -> dict[str, str]:
    recorded: dict[str, str] = json.loads(GOLDEN.read_text())
    return recorded


def _cases() -> list[tuple[str, int, str]]:
    """Every scenario as dispatched (small groups scalar, large ones vectorised), and the
    small ones again on the vectorised path."""
    cases = [(name, seed, "as dispatched") for name, seed in scenarios()]
    cases += [(n, s, "vectorized") for n, s in scenarios() if not n.startswith("panels10000")]
    return cases


@pytest.mark.parametrize(("name", "seed", "path"), _cases(), ids=lambda v: str(v))
def test_allocations_match_the_recorded_ones(
    name: str, seed: int, path: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    if path == "vectorized":
        monkeypatch.setattr(allocate_module, "VECTORIZED_FROM", 0)
    expected = _recorded()[f"{name}/{seed}"]
    assert compute(name, seed) == expected, (
        f"scenario {name}/{seed} decides differently from the recorded implementation ({path})"
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Record or check the golden allocations.")
    parser.add_argument("--record", action="store_true", help="rewrite the golden file")
    args = parser.parse_args(argv)
    found = {f"{name}/{seed}": compute(name, seed) for name, seed in scenarios()}
    if args.record:
        GOLDEN.write_text(json.dumps(found, indent=0, sort_keys=True) + "\n")
        print(f"recorded {len(found)} scenarios in {GOLDEN}")
        return 0
    recorded = _recorded()
    differ = sorted(k for k, v in found.items() if recorded.get(k) != v)
    print(f"{len(found) - len(differ)} of {len(found)} scenarios match; differ: {differ}")
    return 1 if differ else 0


if __name__ == "__main__":
    sys.exit(main())
