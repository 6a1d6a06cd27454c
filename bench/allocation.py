"""How long does one balancing cycle take? ``allocate()`` for 10 to 10,000 connectors.

Each size gets a realistic, congested group: sub-groups of 10-20 connectors (under panels
of about twenty sub-groups once there are many), mixed single- and three-phase connectors
with every phase rotation (optionally some higher priorities), cars charging, lending, suspended or
absent, sub-group limits and a root tight enough that shares bind everywhere and some cars
pause. The controller's loop is reproduced: every call gets the memory of the previous one,
the clock moves 5 s and the meter moves a little.

The baseline, measured in the same run on the same connectors, is a naive equal share (one
pass over the connectors: the root's available current divided evenly, clamped to each
connector's [min, max]) - the least any allocator must do. The ratio to it is the figure that
holds on a shared, noisy machine.

Targets (issue 5): <= 1 ms at 100 connectors, <= 20 ms at 10,000.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import platform
import random
import statistics
import sys
import time
from dataclasses import dataclass

from amphub.domain.balancing import (
    PAUSED,
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
    check_invariant,
    out_of_range,
)
from amphub.domain.units import PhaseCurrents, PhaseRotation

T0 = dt.datetime(2025, 3, 1, 12, 0, tzinfo=dt.UTC)
STEP = dt.timedelta(seconds=5)
TARGETS_MS = {100: 1.0, 10_000: 20.0}


@dataclass(frozen=True)
class Scenario:
    group: BalancingGroup
    cars: dict[ConnectorKey, ConnectorLive]
    building_a: float


def build(size: int, rng: random.Random, priority_share: float = 0.0) -> Scenario:
    """A congested group of ``size`` connectors; ``priority_share`` of them get priority 1."""
    rotations = list(PhaseRotation)
    counter = 0
    cars: dict[ConnectorKey, ConnectorLive] = {}
    subgroups: list[GroupNode] = []
    long_ago = T0 - dt.timedelta(hours=1)
    while counter < size:
        width = min(rng.randint(10, 20), size - counter)
        connectors = []
        for _ in range(width):
            key = ConnectorKey(f"CP{counter:05d}", 1)
            counter += 1
            phases = 1 if rng.random() < 0.3 else 3
            config = ConnectorConfig(
                key=key,
                max_a=rng.choice((16.0, 32.0, 32.0)),
                phases=phases,
                rotation=rng.choice(rotations),
                priority=1 if rng.random() < priority_share else 0,
            )
            connectors.append(config)
            roll = rng.random()
            if roll < 0.1:
                continue  # no vehicle
            state = VehicleState.SUSPENDED_EV if roll < 0.2 else VehicleState.CHARGING
            draw = config.max_a if rng.random() < 0.7 else rng.uniform(2.0, 10.0)
            since = long_ago + dt.timedelta(seconds=rng.randint(0, 1800))
            cars[key] = ConnectorLive(state, since, PhaseCurrents.uniform(draw), since)
        per_connector = rng.uniform(5.0, 14.0)
        limit = PhaseCurrents.uniform(round(width * per_connector))
        subgroups.append(GroupNode(f"sub{len(subgroups)}", limit, tuple(connectors)))
    children: tuple[GroupNode, ...] = tuple(subgroups)
    if len(subgroups) > 25:
        panels: list[GroupNode] = []
        for start in range(0, len(subgroups), 20):
            part = subgroups[start : start + 20]
            total = sum(s.limit.l1_a for s in part)
            limit = PhaseCurrents.uniform(round(0.8 * total))
            panels.append(GroupNode(f"panel{len(panels)}", limit, children=tuple(part)))
        children = tuple(panels)
    total = sum(c.limit.l1_a for c in children)
    root = GroupNode("root", PhaseCurrents.uniform(round(0.7 * total) + 40.0), (), children)
    settings = GroupSettings(Placement.BUILDING_ONLY, 2.0, 0.3 * total, dt.timedelta(seconds=60))
    return Scenario(BalancingGroup(root, settings), cars, 40.0)


def snapshots(
    scenario: Scenario, count: int, rng: random.Random
) -> list[tuple[BalancingInput, dt.datetime]]:
    """The inputs of ``count`` consecutive cycles: the meter wanders by a few amperes."""
    out = []
    now = T0
    for _ in range(count):
        now += STEP
        load = scenario.building_a + rng.uniform(-3.0, 3.0)
        meter = MeterSnapshot(PhaseCurrents(load, load + 2.0, load - 1.5), now)
        out.append((BalancingInput(meter, scenario.cars), now))
    return out


def equal_share(scenario: Scenario, snapshot: BalancingInput) -> dict[ConnectorKey, float]:
    """The naive baseline: the root's headroom split evenly, clamped to [min, max]."""
    assert snapshot.meter is not None
    root = scenario.group.root.limit.l1_a - snapshot.meter.currents.max_a()
    configs = [c for c in scenario.group.connectors if c.key in snapshot.connectors]
    share = root / max(len(configs), 1)
    return {c.key: min(c.max_a, max(c.min_a, share)) for c in configs}


def _ms_since(start_ns: int) -> float:
    return (time.perf_counter_ns() - start_ns) / 1e6


@dataclass(frozen=True)
class Row:
    size: int
    nodes: int
    paused: int
    median_ms: float
    p90_ms: float
    min_ms: float
    max_ms: float
    baseline_ms: float

    @property
    def ratio(self) -> float:
        return self.median_ms / self.baseline_ms


def measure(size: int, warmup: int, repeats: int, seed: int, priority_share: float) -> Row:
    """Run the controller's loop on one scenario; time allocate() and the baseline."""
    rng = random.Random(seed + size)
    scenario = build(size, rng, priority_share)
    group = scenario.group
    memory = BalancerMemory()
    times: list[float] = []
    base: list[float] = []
    paused = 0
    for n, (snapshot, now) in enumerate(snapshots(scenario, warmup + repeats, rng)):
        start = time.perf_counter_ns()
        allocation = allocate(group, snapshot, memory, now)
        elapsed = _ms_since(start)
        start = time.perf_counter_ns()
        equal_share(scenario, snapshot)
        baseline = _ms_since(start)
        memory = allocation.memory
        if n < warmup:
            continue
        times.append(elapsed)
        base.append(baseline)
        limits = allocation.limits_a
        if check_invariant(group, allocation.available.per_node, limits) or out_of_range(
            group, limits
        ):
            raise RuntimeError(f"{size} connectors: the allocation broke the invariant")
        paused = sum(1 for d in allocation.decisions.values() if d.binding in PAUSED)
    times.sort()
    return Row(
        size=size,
        nodes=group.index.node_count,
        paused=paused,
        median_ms=statistics.median(times),
        p90_ms=times[min(len(times) - 1, int(0.9 * len(times)))],
        min_ms=times[0],
        max_ms=times[-1],
        baseline_ms=statistics.median(base),
    )


def table(rows: list[Row]) -> str:
    lines = [
        "| connectors | nodes | paused | median ms | p90 ms | min–max ms | equal share ms"
        " | ratio | target |",
        "|---:|---:|---:|---:|---:|---:|---:|---:|---|",
    ]
    for r in rows:
        target = TARGETS_MS.get(r.size)
        verdict = (
            ""
            if target is None
            else f"≤ {target:g} ms: {'met' if r.median_ms <= target else 'MISSED'}"
        )
        lines.append(
            f"| {r.size:,} | {r.nodes} | {r.paused} | {r.median_ms:.3f} | {r.p90_ms:.3f} "
            f"| {r.min_ms:.3f}–{r.max_ms:.3f} | {r.baseline_ms:.3f} | {r.ratio:.1f}× | {verdict} |"
        )
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--sizes", type=int, nargs="+", default=[10, 100, 1_000, 10_000])
    parser.add_argument("--warmup", type=int, default=5, help="untimed cycles per size")
    parser.add_argument("--repeats", type=int, default=30, help="timed cycles per size")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument(
        "--priority-share",
        type=float,
        default=0.0,
        help="fraction of connectors with a higher priority (adds a second fair-share pass)",
    )
    args = parser.parse_args(argv)
    if args.repeats < 3:
        parser.error("--repeats must be at least 3 to quote a spread")
    rows = []
    for size in args.sizes:
        try:
            rows.append(measure(size, args.warmup, args.repeats, args.seed, args.priority_share))
        except Exception as error:  # any failure means no figure: say so and fail
            print(f"could not measure {size} connectors: {error!r}", file=sys.stderr)
            return 1
        print(f"measured {size} connectors", file=sys.stderr)
    print(
        f"{platform.python_implementation()} {platform.python_version()}, "
        f"{len(os.sched_getaffinity(0))} cores, priority share {args.priority_share:g}, "
        f"{args.repeats} timed cycles after {args.warmup} warm-up, 5 s apart"
    )
    print(table(rows))
    return 0


if __name__ == "__main__":
    sys.exit(main())
