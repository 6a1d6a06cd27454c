"""Meter reading → last changed SetChargingProfile at the chargers, for a 100-connector group.

End to end through the real system: ``amphub serve`` runs in its own process (a temp SQLite
file, AMPHUB_* settings) and is provisioned over its REST API: a site, 100 charge points
(``--charge-points`` × ``--connectors``), an HTTP meter and one cloud-managed group of all of
them (meter placement BUILDING_ONLY). The chargers run in separate load processes
(``bench/dispatch_load.py``: OCPP 1.6 on the ``ocpp`` library) that boot, report Charging,
send MeterValues drawing what they are allowed, answer every SetChargingProfile at once, and
note when each profile's bytes came off the socket (``time.time_ns``). This process pushes
the meter readings over HTTP and notes when each POST was sent (the same clock).

Steps: the building load ratchets up so that every connector's limit falls by 0.6 A per
reading (13.0 → 12.4 → … → 7.0 A, one reading per ``--step-s``), then resets to 13.0 A, at
most once per 11 s (increases are damped: one per 10 s per connector, +6 A at most). Every
decrease changes all connectors' limits; its latency is the arrival of the LAST dynamic
(stack level 1) profile carrying the new limit minus the reading's send time. The resets are
reported apart, as increases. ``startSchedule`` of the dynamic profiles is the controller's
clock at the start of its cycle (millisecond resolution, truncated), which splits the
latency into "reading → cycle start" and "cycle start → last profile received".

Baselines in the same run: the HTTP POST round trip of a reading that changes nothing,
``allocate()`` for the same group in this process, a bare OCPP CALL round trip between two
``ocpp``-library peers over loopback (Heartbeat, no amphub), and amphub's own Heartbeat round
trip (which includes a SQLite write). And, because the machine is shared: how long amphub's
event loop ran on a CPU and how long it was ready but waited for one, per step and per
step-long span without readings (``/proc/PID/schedstat`` of its main thread) - amphub's own
cost apart from the neighbours'.

Target (issue 5): p99 < 50 ms. Run: ``.venv/bin/python bench/dispatch_latency.py``;
``--py-spy FILE`` samples amphub during the steps (``pip install py-spy``) and prints where
its time went.
"""

from __future__ import annotations

import argparse
import bisect
import collections
import contextlib
import datetime as dt
import math
import os
import platform
import signal
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from dispatch_load import DYNAMIC_LEVEL, Entry, Load, echo_server
from dispatch_site import Amphub, Meter, hot_spots, provision, py_spy

HIGH_A, STEP_A, STEPS_PER_RAMP = 13.0, 0.6, 10  # 13.0, 12.4, ..., 7.0 A per connector
BUFFER_A, MARGIN_A, FAIL_SAFE_PER_CONNECTOR_A = 5.0, 0.05, 6.0
RAMP_MIN_S = 11.0  # a reset is an increase: at most one per 10 s per connector
TARGET_MS = 50.0


def levels() -> list[float]:
    return [round(HIGH_A - STEP_A * i, 1) for i in range(STEPS_PER_RAMP + 1)]


@dataclass(frozen=True)
class Scenario:
    connectors: int

    @property
    def total_a(self) -> float:
        return BUFFER_A + self.connectors * (HIGH_A + 2.0)

    def building_a(self, share_a: float) -> float:
        """The building load at which every connector's fair share rounds down to share_a
        (a twentieth of an ampere above it, so that float sums cannot round it lower)."""
        return self.total_a - BUFFER_A - self.connectors * (share_a + MARGIN_A)


def schedule(ramps: int, step_s: float) -> list[tuple[float, float, str, int]]:
    """(offset s, per-connector share, kind, ramp) for every reading of the run."""
    period = max(RAMP_MIN_S, (STEPS_PER_RAMP + 1) * step_s)
    return [
        (ramp * period + i * step_s, share, "increase" if i == 0 else "decrease", ramp)
        for ramp in range(ramps)
        for i, share in enumerate(levels())
    ]


def allocation_baseline(scenario: Scenario, ramps: int, step_s: float) -> list[float]:
    """allocate() on the same group and the same readings, in this process; it also checks
    that every step moves every connector to the share the live run expects."""
    from amphub.domain.balancing import (
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
    )
    from amphub.domain.units import PhaseCurrents

    configs = tuple(
        ConnectorConfig(ConnectorKey(str(n), 1), 32.0) for n in range(scenario.connectors)
    )
    settings = GroupSettings(
        Placement.BUILDING_ONLY,
        BUFFER_A,
        FAIL_SAFE_PER_CONNECTOR_A * scenario.connectors,
        dt.timedelta(seconds=30),
    )
    group = BalancingGroup(
        GroupNode("root", PhaseCurrents.uniform(scenario.total_a), configs), settings
    )
    t0 = dt.datetime(2025, 3, 1, 12, tzinfo=dt.UTC)
    memory, held = BalancerMemory(), dict.fromkeys(group.index.keys, FAIL_SAFE_PER_CONNECTOR_A)
    warm = [(float(s), HIGH_A, "warm-up", -1) for s in range(30)]
    times = []
    for offset, share, kind, ramp in warm + [
        (30 + o, s, k, r) for o, s, k, r in schedule(ramps, step_s)
    ]:
        now = t0 + dt.timedelta(seconds=offset)
        meter = MeterSnapshot(PhaseCurrents.uniform(scenario.building_a(share)), now)
        cars = {
            k: ConnectorLive(VehicleState.CHARGING, t0, PhaseCurrents.uniform(a))
            for k, a in held.items()
        }
        start = time.perf_counter_ns()
        allocation = allocate(group, BalancingInput(meter, cars), memory, now)
        elapsed_ms = (time.perf_counter_ns() - start) / 1e6
        memory, held = allocation.memory, dict(allocation.limits_a)
        if ramp >= 0:
            times.append(elapsed_ms)
            if any(abs(limit - share) > 1e-6 for limit in held.values()):
                raise RuntimeError(
                    f"the scenario is broken: {kind} to {share} A gave {set(held.values())}"
                )
    return times


@dataclass
class Step:
    sent_ns: int
    post_ms: float
    share_a: float
    kind: str
    measured: bool
    run_ms: float = math.nan
    """How long amphub's event loop ran on a CPU from this reading to the next."""
    wait_ms: float = math.nan
    """How long it was ready to run but waited for a CPU (a busy machine), same span."""
    last_ms: float = math.inf
    first_ms: float = math.inf
    cycle_ms: float = math.inf


def schedstat(pid: int) -> tuple[float, float]:
    """ms the process's main thread (amphub's event loop) has run, and waited to run."""
    run, wait, _ = Path(f"/proc/{pid}/schedstat").read_text().split()
    return int(run) / 1e6, int(wait) / 1e6


def run_steps(meter: Meter, scenario: Scenario, args: argparse.Namespace, pid: int) -> list[Step]:
    ramps = args.warmup_ramps + math.ceil(args.steps / STEPS_PER_RAMP)
    steps: list[Step] = []
    start = time.monotonic() + 0.5
    for offset, share, kind, ramp in schedule(ramps, args.step_s):
        time.sleep(max(0.0, start + offset - time.monotonic()))
        run, wait = schedstat(pid)
        if steps:
            steps[-1].run_ms, steps[-1].wait_ms = run - steps[-1].run_ms, wait - steps[-1].wait_ms
        sent, post_ms = meter.push(scenario.building_a(share))
        steps.append(Step(sent, post_ms, share, kind, ramp >= args.warmup_ramps, run, wait))
    time.sleep(args.step_s)
    run, wait = schedstat(pid)
    steps[-1].run_ms, steps[-1].wait_ms = run - steps[-1].run_ms, wait - steps[-1].wait_ms
    return steps


def match(steps: list[Step], log: list[Entry], keys: list[tuple[str, int]]) -> None:
    """Per step and connector, the first dynamic profile after the reading with the new
    limit (before the next reading); the step's latency is the last of them to arrive."""
    held: dict[tuple[str, int], list[tuple[int, float, str]]] = collections.defaultdict(list)
    for arrival, identity, connector, level, limit, start in sorted(log):
        if level == DYNAMIC_LEVEL:
            held[identity, connector].append((arrival, limit, start))
    for n, step in enumerate(steps):
        end = steps[n + 1].sent_ns if n + 1 < len(steps) else math.inf
        found = []
        for key in keys:
            entries = held[key]
            i = bisect.bisect_left(entries, (step.sent_ns,))
            while (
                i < len(entries)
                and entries[i][0] < end
                and abs(entries[i][1] - step.share_a) > 0.05
            ):
                i += 1
            if i == len(entries) or entries[i][0] >= end:
                break
            found.append(entries[i])
        else:
            last = max(found)
            step.last_ms = (last[0] - step.sent_ns) / 1e6
            step.first_ms = (min(found)[0] - step.sent_ns) / 1e6
            cycle = dt.datetime.fromisoformat(last[2].replace("Z", "+00:00"))
            step.cycle_ms = (cycle.timestamp() * 1e9 - step.sent_ns) / 1e6


def percentile(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[max(0, math.ceil(p / 100 * len(ordered)) - 1)]


def row(name: str, values: list[float]) -> str:
    cells = [percentile(values, p) for p in (50, 90, 99, 100)]
    text = " | ".join("missed" if math.isinf(c) else f"{c:.2f}" for c in cells)
    return f"| {name} | {len(values)} | {text} |"


def report(
    steps: list[Step], alloc: list[float], bare: list[float], beat: list[float],
    posts: list[float], quiet: list[tuple[float, float]],
) -> str:  # fmt: skip
    down = [s for s in steps if s.measured and s.kind == "decrease"]
    up = [s for s in steps if s.measured and s.kind == "increase"]
    latency = [s.last_ms for s in down]
    lines = [
        "| path (ms) | n | p50 | p90 | p99 | max |",
        "|---|---:|---:|---:|---:|---:|",
        row("**reading → last changed profile received (decrease)**", latency),
        row("reading → first changed profile received (decrease)", [s.first_ms for s in down]),
        row("reading → cycle start (`startSchedule`, ms, decrease)", [s.cycle_ms for s in down]),
        row("cycle start → last profile received (decrease)",
            [s.last_ms - s.cycle_ms if s.cycle_ms < math.inf else math.inf for s in down]),
        row("reading → last changed profile received (increase, reset)", [s.last_ms for s in up]),
        row("meter POST round trip during the decreases", [s.post_ms for s in down]),
        row("amphub's event loop on a CPU, per step", [s.run_ms for s in down]),
        row("amphub's event loop waiting for a CPU, per step", [s.wait_ms for s in down]),
        row("its event loop on a CPU, step-long span without readings", [q[0] for q in quiet]),
        row("its event loop waiting for a CPU, same spans", [q[1] for q in quiet]),
        row("baseline: meter POST round trip, nothing changes", posts),
        row("baseline: allocate(), same group, in-process", alloc),
        row("baseline: bare OCPP CALL round trip (ocpp ↔ ocpp)", bare),
        row("amphub Heartbeat round trip (incl. SQLite write)", beat),
    ]  # fmt: skip
    p99 = percentile(latency, 99)
    missed = sum(math.isinf(x) for x in latency)
    floor = percentile(posts, 50) + percentile(alloc, 50) + percentile(bare, 50)
    ratio = percentile(latency, 50) / floor
    verdict = "met" if p99 < TARGET_MS else "MISSED"
    lines.append(
        f"\np99 {p99:.1f} ms ({missed} of {len(latency)} steps not complete before the next "
        f"reading), target < {TARGET_MS:g} ms: {verdict}; median / (POST + allocate + OCPP "
        f"CALL medians = {floor:.2f} ms) = {ratio:.1f}×"
    )
    return "\n".join(lines)


def quiet_spans(pid: int, step_s: float, count: int = 5) -> list[tuple[float, float]]:
    """amphub's event loop over step-long spans without readings (MeterValues only)."""
    spans = []
    for _ in range(count):
        run, wait = schedstat(pid)
        time.sleep(step_s)
        after = schedstat(pid)
        spans.append((after[0] - run, after[1] - wait))
    return spans


def measure(args: argparse.Namespace, workdir: Path) -> tuple[str, int]:
    """The table, and how many measured decreases never completed."""
    began = time.monotonic()

    def progress(what: str) -> None:
        print(f"{time.monotonic() - began:6.1f} s  {what}", file=sys.stderr)

    scenario = Scenario(args.charge_points * args.connectors)
    ramps = args.warmup_ramps + math.ceil(args.steps / STEPS_PER_RAMP)
    alloc = allocation_baseline(scenario, ramps, args.step_s)
    hub = Amphub(workdir, args.cycle_s)
    load = None
    try:
        hub.start()
        setup = provision(
            hub, args.charge_points, args.connectors, scenario.total_a, BUFFER_A,
            FAIL_SAFE_PER_CONNECTOR_A * scenario.connectors,
        )  # fmt: skip
        assert hub.process is not None
        progress(f"amphub serves; {scenario.connectors} connectors provisioned")
        meter = Meter(hub.http_port, setup["serial"], setup["pin"])

        def top() -> object:
            return meter.push(scenario.building_a(HIGH_A))

        top()
        load = Load(
            f"ws://127.0.0.1:{hub.ocpp_port}/ocpp", setup["creds"], args.connectors,
            args.meter_values_s, args.load_processes,
        )  # fmt: skip
        load.wait_ready(top)
        progress("chargers booted")
        load.settle(top, HIGH_A)
        progress(f"every connector holds {HIGH_A} A; baselines")
        with echo_server() as echo_url:
            bare = load.ask_first("rtt_bare", echo_url, args.round_trips)
        beat = load.ask_first("rtt_amphub", args.round_trips)
        quiet = quiet_spans(hub.process.pid, args.step_s)
        posts = []
        for _ in range(args.round_trips):
            posts.append(meter.push(scenario.building_a(HIGH_A))[1])  # changes nothing
            time.sleep(0.02)
        progress(f"{ramps} ramps of readings")
        period = max(RAMP_MIN_S, (STEPS_PER_RAMP + 1) * args.step_s)
        spy = py_spy(hub.process.pid, ramps * period, args.py_spy) if args.py_spy else None
        steps = run_steps(meter, scenario, args, hub.process.pid)
        log = [entry for part in load.ask("log") for entry in part]
        if spy is not None:
            with contextlib.suppress(subprocess.TimeoutExpired):
                spy.wait(30)
            spy.kill()
    finally:
        if load is not None:
            load.stop()
        hub.stop()
    progress("stopped")
    keys = [(identity, n) for identity, _ in setup["creds"] for n in range(1, args.connectors + 1)]
    match(steps, log, keys)
    if args.py_spy and args.py_spy.exists():
        print(hot_spots(args.py_spy), file=sys.stderr)
    missed = sum(1 for s in steps if s.measured and s.kind == "decrease" and s.last_ms == math.inf)
    return report(steps, alloc, bare, beat, posts, quiet), missed


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    add = parser.add_argument
    add("--charge-points", type=int, default=100)
    add("--connectors", type=int, default=1, help="per charge point")
    add("--steps", type=int, default=60, help="measured decreases (10 per ramp of 11 s)")
    add("--warmup-ramps", type=int, default=1, help="unmeasured ramps first")
    add("--step-s", type=float, default=1.0, help="seconds between readings")
    add("--meter-values-s", type=float, default=10.0, help="each charger's MeterValues interval")
    add("--cycle-s", type=float, default=5.0, help="AMPHUB_BALANCING_CYCLE_S (the fallback)")
    add("--load-processes", type=int, default=2, help="processes the chargers are spread over")
    add("--round-trips", type=int, default=100, help="samples per round-trip baseline")
    add("--timeout-s", type=int, default=240, help="give up after this long")
    add("--py-spy", type=Path, help="sample amphub during the steps; raw stacks to this file")
    args = parser.parse_args(argv)
    if args.steps < 10 or args.step_s < 0.2 or args.load_processes < 1:
        parser.error("--steps must be at least 10, --step-s at least 0.2, --load-processes >= 1")

    def give_up(*_: Any) -> None:
        raise TimeoutError(f"no result within {args.timeout_s} s")

    signal.signal(signal.SIGALRM, give_up)
    signal.alarm(args.timeout_s)
    with tempfile.TemporaryDirectory(prefix="amphub-dispatch-") as tmp:
        try:
            table, missed = measure(args, Path(tmp))
        except Exception as error:  # any failure means no figure: say so and fail
            print(f"could not measure: {error!r}", file=sys.stderr)
            print("amphub's log, the end:\n" + Amphub(Path(tmp), 0).log_tail(), file=sys.stderr)
            return 1
        finally:
            signal.alarm(0)
    print(
        f"{platform.python_implementation()} {platform.python_version()}, "
        f"{len(os.sched_getaffinity(0))} cores; {args.charge_points} charge points × "
        f"{args.connectors} connector(s) in {args.load_processes} load process(es), a reading "
        f"every {args.step_s:g} s, MeterValues every {args.meter_values_s:g} s per charger"
    )
    print(table)
    if missed > args.steps // 2:
        print(f"could not measure: {missed} steps never completed", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
