"""What does price planning save, and how long does it take? amphub's joint LP on real DK2
day-ahead prices and real Trondheim charging sessions.

One day of 96 quarter-hour slots from 12:00 local time (the evening arrivals and morning
departures of residential charging fit inside it). N sessions are drawn (seeded) from the
Trondheim data set with their plug-in time of day, stay and energy; they share a group whose
main fuse and sub-groups (25 connectors each) are tight enough to bind at night, beside a
building load; connectors are mixed three-phase 16 A and single-phase 32 A on every phase
rotation. Prices: DK2 spot plus an illustrative Danish time-of-use grid tariff, electricity
tax and 25 % VAT, in DKK.

Compared in the same run, on the same sessions and circuit:
- uncontrolled: at maximum from arrival, each slot clipped to the circuit;
- greedy: each car's cheapest slots alone (evcc's planner), clipped to the circuit;
- amphub online: re-planned with the joint LP at every slot in which a car arrives, knowing
  only the cars already there (prices known for the day), following the plan in between;
- optimum: the same LP over every session at once, knowing every arrival in advance
  (perfect foresight): the lower bound.

Solve time: the LP of N cars all plugged in over the 96 slots, median of repeats, model
build (domain formulation + sparse arrays) and HiGHS solve separately, and the process's
CPU time for the whole (the machine is shared: wall time above CPU time is waiting for a
core); then the two re-plans
a running group makes most, warm-started from the earlier optimum: one car more, and the
same cars a quarter hour later. From DECOMPOSE_FROM_SESSIONS cars the solver splits the
group along its sub-groups (adapters/solvers/decomposed.py) and has no warm start.

Targets (issue 9): <= 0.5 s at 1,000 sessions including model build; online cost within
0.5 % of the optimum.
"""

from __future__ import annotations

import argparse
import csv
import os
import platform
import random
import statistics
import sys
import time
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

from amphub.adapters.solvers.highs import DECOMPOSE_FROM_SESSIONS, HighsSolver
from amphub.domain.balancing.model import (
    BalancingGroup,
    ConnectorConfig,
    ConnectorKey,
    GroupNode,
    GroupSettings,
    Placement,
)
from amphub.domain.planning.baselines import Outcome, evaluate, greedy_cheapest, uncontrolled
from amphub.domain.planning.problem import (
    Basis,
    PlanningProblem,
    SessionToPlan,
    Solution,
    build_problem,
    group_circuits,
)
from amphub.domain.planning.tariffs import (
    PricePoint,
    SiteTariff,
    SlotGrid,
    TariffWindow,
    slot_prices,
)
from amphub.domain.planning.warm_start import WarmStart
from amphub.domain.units import PhaseCurrents, PhaseRotation

DATA = Path(__file__).resolve().parents[2] / "shared" / "data"
COPENHAGEN = ZoneInfo("Europe/Copenhagen")
TARIFF = SiteTariff(
    time_zone="Europe/Copenhagen",
    currency="DKK",
    eur_rate=7.46,
    vat_percent=25.0,
    fixed_per_kwh=0.761,
    grid_windows=(
        TariffWindow(0, 360, 0.15),
        TariffWindow(360, 1020, 0.45),
        TariffWindow(1020, 1260, 1.35),
        TariffWindow(1260, 1440, 0.45),
    ),
)
ROTATIONS = (PhaseRotation.L1L2L3, PhaseRotation.L2L3L1, PhaseRotation.L3L1L2)


@dataclass(frozen=True, slots=True)
class Trip:
    arrival_minute: int
    """Minutes after 12:00 local time."""
    stay_minutes: int
    energy_kwh: float


def load_prices(path: Path, zone: str) -> list[PricePoint]:
    points = []
    with path.open(newline="") as handle:
        for row in csv.DictReader(handle):
            if row["PriceArea"] != zone:
                continue
            start = datetime.fromisoformat(row.get("TimeUTC") or row["HourUTC"])
            step = timedelta(minutes=15) if "TimeUTC" in row else timedelta(hours=1)
            price = row.get("DayAheadPriceEUR") or row["SpotPriceEUR"]
            points.append(PricePoint(zone, start, start + step, float(price)))
    return points


def load_trips(path: Path) -> list[Trip]:
    trips = []
    with path.open(newline="") as handle:
        for row in csv.DictReader(handle):
            if not row["End_plugout_utc"] or not row["El_kWh"]:
                continue
            start = datetime.fromisoformat(row["Start_plugin"])
            end = datetime.fromisoformat(row["End_plugout"])
            stay = int((end - start).total_seconds() // 60)
            energy = float(row["El_kWh"])
            if stay < 30 or energy < 0.5:
                continue
            arrival = (start.hour * 60 + start.minute - 12 * 60) % (24 * 60)
            trips.append(Trip(arrival, stay, energy))
    return trips


@dataclass(frozen=True, slots=True)
class Wiring:
    sub_a: float = 160.0
    """Per sub-group of 25 connectors (a garage feeder), per phase."""
    root_a_per_connector: float = 6.0
    """The main fuse per phase, per connector."""


def scenario(
    n: int,
    trips: list[Trip],
    day: datetime,
    seed: int,
    *,
    all_present: bool,
    circuit: Wiring = Wiring(),
) -> tuple[list[SessionToPlan], BalancingGroup]:
    """``n`` sessions and their group. ``all_present``: every car plugged in at the start
    (the solve-time case) instead of at its own arrival."""
    rng = random.Random(seed)
    horizon_end = day + timedelta(hours=24)
    sessions = []
    configs = []
    for i in range(n):
        trip = rng.choice(trips)
        three_phase = i % 10 < 7
        key = ConnectorKey(str(i + 1), 1)
        config = ConnectorConfig(
            key=key,
            max_a=16.0 if three_phase else 32.0,
            phases=3 if three_phase else 1,
            rotation=ROTATIONS[i % 3],
        )
        arrival = day if all_present else day + timedelta(minutes=trip.arrival_minute)
        departure = min(horizon_end, arrival + timedelta(minutes=trip.stay_minutes))
        if all_present:
            departure = max(departure, day + timedelta(hours=12))
        sessions.append(
            SessionToPlan(
                key,
                config.phases,
                config.min_a,
                config.max_a,
                arrival,
                departure,
                trip.energy_kwh * 1000.0,
            )
        )
        configs.append(config)
    children = tuple(
        GroupNode(f"sub{j}", PhaseCurrents.uniform(circuit.sub_a), tuple(configs[j : j + 25]))
        for j in range(0, n, 25)
    )
    fuse = max(63.0, circuit.root_a_per_connector * n)
    root = GroupNode("group", PhaseCurrents.uniform(fuse), (), children)
    settings = GroupSettings(Placement.BUILDING_ONLY, 5.0, 0.0, timedelta(seconds=30))
    return sessions, BalancingGroup(root, settings)


def building_forecast(group: BalancingGroup, grid: SlotGrid) -> list[PhaseCurrents]:
    """A residential evening peak: 15 % of the main fuse at night, 35 % from 17 to 21."""
    fuse = group.root.limit.l1_a
    found = []
    for t in range(grid.count):
        hour = grid.at(t).astimezone(COPENHAGEN).hour
        share = 0.35 if 17 <= hour < 21 else 0.25 if 7 <= hour < 17 else 0.15
        found.append(PhaseCurrents(share * fuse, 0.9 * share * fuse, 1.1 * share * fuse))
    return found


def make_problem(
    sessions: list[SessionToPlan], group: BalancingGroup, grid: SlotGrid, prices: list[float]
) -> PlanningProblem:
    circuits = group_circuits(
        group, [s.key for s in sessions], grid, building_forecast(group, grid),
        group.settings.dynamic_buffer_a, {},
    )  # fmt: skip
    return build_problem(sessions, grid, prices, circuits)


def online(problem: PlanningProblem, solver: HighsSolver) -> list[float]:
    """Re-plan at each slot with arrivals, knowing only the cars already plugged in, each
    re-plan warm-started from the last; follow the plan in between. Returns the currents
    actually followed, per column."""
    offsets = problem.offsets()
    followed = [0.0] * offsets[-1]
    hours = problem.grid.hours()
    delivered = [0.0] * problem.n_sessions
    arrivals = sorted(set(problem.first_slot))
    previous: tuple[PlanningProblem, Basis, dict[int, int]] | None = None
    for k, slot in enumerate(arrivals):
        until = arrivals[k + 1] if k + 1 < len(arrivals) else problem.grid.count
        present = [
            s for s in range(problem.n_sessions)
            if problem.first_slot[s] <= slot < problem.end_slot[s]
        ]  # fmt: skip
        if not present:
            continue
        sub = replace(
            problem,
            first_slot=tuple(max(problem.first_slot[s], slot) for s in present),
            end_slot=tuple(problem.end_slot[s] for s in present),
            max_a=tuple(problem.max_a[s] for s in present),
            kw_per_a=tuple(problem.kw_per_a[s] for s in present),
            need_kwh=tuple(max(0.0, problem.need_kwh[s] - delivered[s]) for s in present),
            circuits=tuple(
                replace(c, members=tuple(present.index(s) for s in c.members if s in present))
                for c in problem.circuits
            ),
        )
        warm = None
        if previous is not None:
            before, basis, position = previous
            warm = WarmStart(before, basis, tuple(position.get(s, -1) for s in present))
        solution = solver.solve(sub, warm)
        if solution.basis is not None:
            previous = (sub, solution.basis, {s: i for i, s in enumerate(present)})
        sub_offsets = sub.offsets()
        for i, s in enumerate(present):
            for t in range(slot, min(until, problem.end_slot[s])):
                current = solution.currents_a[sub_offsets[i] + t - sub.first_slot[i]]
                followed[offsets[s] + t - problem.first_slot[s]] = current
                delivered[s] += current * problem.kw_per_a[s] * hours[t]
    return followed


def timed(n: int, trips: list[Trip], day: datetime, grid: SlotGrid, prices: list[float],
          repeats: int, circuit: Wiring) -> dict[str, list[float]]:  # fmt: skip
    """Cold: the N cars' LP from scratch. Warm, the two re-plans a running group makes most:
    one more car (the N-th arrives, from the optimum of the other N - 1) and a quarter hour
    later (the grid one slot on, each need less what the plan gave in the slot gone), each
    from the earlier optimum's basis."""
    keys = ("formulate", "arrays", "solve", "total", "cpu", "iterations", "arrival",
            "arrival_it", "later", "later_it")  # fmt: skip
    times: dict[str, list[float]] = {key: [] for key in keys}
    for r in range(repeats + 1):
        sessions, group = scenario(n, trips, day, seed=r, all_present=True, circuit=circuit)
        began = time.perf_counter()
        cpu_began = time.process_time()
        problem = make_problem(sessions, group, grid, prices)
        formulated = time.perf_counter()
        solver = HighsSolver(time_limit_s=1200)
        solution = checked(solver.solve(problem), n)
        cpu_s = time.process_time() - cpu_began
        cold = (formulated - began, solver.last_build_s, solver.last_solve_s)
        iterations = solver.last_iterations
        if r == 0:
            continue  # warm-up
        times["formulate"].append(cold[0])
        times["arrays"].append(cold[1])
        times["solve"].append(cold[2])
        times["total"].append(sum(cold))
        times["cpu"].append(cpu_s)
        if n >= DECOMPOSE_FROM_SESSIONS:
            continue  # split along its sub-groups: no simplex count, no warm start
        times["iterations"].append(iterations)

        fewer = make_problem(sessions[:-1], group, grid, prices)
        before = checked(solver.solve(fewer), n)
        assert before.basis is not None
        began = time.perf_counter()
        again = make_problem(sessions, group, grid, prices)
        arrival = WarmStart(fewer, before.basis, (*range(n - 1), -1))
        checked(solver.solve(again, arrival), n)
        arrival_s = time.perf_counter() - began + solver.last_build_s + solver.last_solve_s
        arrival_it = solver.last_iterations

        assert solution.basis is not None
        began = time.perf_counter()
        later = make_problem(
            quarter_hour_on(sessions, problem, solution), group,
            SlotGrid(grid.at(1), grid.count - 1), prices[1:],
        )  # fmt: skip
        checked(solver.solve(later, WarmStart(problem, solution.basis, tuple(range(n)))), n)
        later_s = time.perf_counter() - began + solver.last_build_s + solver.last_solve_s
        times["arrival"].append(arrival_s)
        times["arrival_it"].append(arrival_it)
        times["later"].append(later_s)
        times["later_it"].append(solver.last_iterations)
    return times


def checked(solution: Solution, n: int) -> Solution:
    if not solution.optimal:
        raise SystemExit(f"n={n}: HiGHS did not find the optimum: {solution.message}")
    return solution


def quarter_hour_on(
    sessions: list[SessionToPlan], problem: PlanningProblem, solution: Solution
) -> list[SessionToPlan]:
    """The sessions a quarter hour later, having charged what the plan gave them in it."""
    offsets = problem.offsets()
    hours = problem.grid.hours()[0]
    later = []
    for s, session in enumerate(sessions):
        given_kwh = 0.0
        if problem.first_slot[s] == 0 and problem.end_slot[s] > 0:
            given_kwh = solution.currents_a[offsets[s]] * problem.kw_per_a[s] * hours
        later.append(
            replace(
                session,
                arrival=problem.grid.at(1),
                need_wh=max(0.0, session.need_wh - 1000.0 * given_kwh),
            )
        )
    return later


def spread(values: list[float]) -> str:
    return f"{statistics.median(values):.3f} ({min(values):.3f}–{max(values):.3f})"


def costs(n: int, trips: list[Trip], day: datetime, grid: SlotGrid, prices: list[float],
          seed: int, circuit: Wiring) -> dict[str, Outcome]:  # fmt: skip
    sessions, group = scenario(n, trips, day, seed, all_present=False, circuit=circuit)
    problem = make_problem(sessions, group, grid, prices)
    solver = HighsSolver(time_limit_s=600)
    optimum = solver.solve(problem)
    return {
        "uncontrolled": evaluate(problem, uncontrolled(problem)),
        "greedy cheapest, clipped": evaluate(problem, greedy_cheapest(problem)),
        "amphub online LP": evaluate(problem, online(problem, solver)),
        "perfect-foresight optimum": evaluate(problem, list(optimum.currents_a)),
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--data", type=Path, default=DATA, help="the shared data folder")
    parser.add_argument("--day", default="2026-04-14", help="local date of the 12:00 start")
    parser.add_argument("--zone", default="DK2")
    parser.add_argument("--sizes", default="100,1000,10000")
    parser.add_argument("--cost-sizes", default="100,1000")
    parser.add_argument("--repeats", type=int, default=3, help="timed solves per size")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--sub-a", type=float, default=Wiring().sub_a,
                        help="limit per phase of each sub-group of 25 connectors")  # fmt: skip
    parser.add_argument("--root-a", type=float, default=Wiring().root_a_per_connector,
                        help="main fuse per phase, per connector")  # fmt: skip
    args = parser.parse_args()
    circuit = Wiring(args.sub_a, args.root_a)

    day = datetime.fromisoformat(args.day).replace(hour=12, tzinfo=COPENHAGEN).astimezone(UTC)
    price_file = (
        "dayaheadprices_2026-04_15min.csv" if day.year >= 2025 else "elspotprices_2024q4_hourly.csv"
    )
    points = load_prices(args.data / "spot_prices" / price_file, args.zone)
    trips = load_trips(args.data / "ev_sessions" / "norway_trondheim_residential_sessions.csv")
    grid = SlotGrid(day, 96)
    known = slot_prices(points, grid, TARIFF)
    if any(p is None for p in known):
        print(f"no {args.zone} price for every slot of {args.day}", file=sys.stderr)
        return 1
    prices = [p for p in known if p is not None]

    print(f"# planner — {platform.python_version()}, {os.cpu_count()} cores, {args.zone} "
          f"{args.day} 12:00 + 24 h ({price_file}), {len(trips)} Trondheim sessions to draw from, "
          f"sub-groups of 25 at {circuit.sub_a:g} A, main fuse {circuit.root_a_per_connector:g} A "
          "per connector")  # fmt: skip
    print("\n| sessions × 96 slots | columns | formulate s | sparse arrays s | HiGHS s | total s "
          "| CPU s | iterations | +1 car, warm: total s (iterations) | 15 min on, warm: total s "
          "(iterations) |")  # fmt: skip
    print("|---|---|---|---|---|---|---|---|---|---|")
    for n in (int(x) for x in args.sizes.split(",") if x):
        sessions, group = scenario(n, trips, day, 0, all_present=True, circuit=circuit)
        columns = make_problem(sessions, group, grid, prices).offsets()[-1]
        repeats = args.repeats if n <= 1000 else 1
        t = timed(n, trips, day, grid, prices, repeats, circuit)
        warm = "decomposed | — | —"
        if t["iterations"]:
            warm = (f"{statistics.median(t['iterations']):,.0f} | {spread(t['arrival'])} "
                    f"({statistics.median(t['arrival_it']):,.0f}) | {spread(t['later'])} "
                    f"({statistics.median(t['later_it']):,.0f})")  # fmt: skip
        print(f"| {n:,} | {columns:,} | {spread(t['formulate'])} | {spread(t['arrays'])} | "
              f"{spread(t['solve'])} | {spread(t['total'])} | {spread(t['cpu'])} | "
              f"{warm} |")  # fmt: skip

    for n in (int(x) for x in args.cost_sizes.split(",") if x):
        results = costs(n, trips, day, grid, prices, args.seed, circuit)
        best = results["perfect-foresight optimum"].cost
        print(f"\n{n} sessions arriving over the day (seed {args.seed}), cost in DKK:\n")
        print("| strategy | cost | kWh delivered | kWh short | DKK/kWh | vs optimum | overload A |")
        print("|---|---|---|---|---|---|---|")
        for name, o in results.items():
            print(f"| {name} | {o.cost:,.2f} | {o.energy_kwh:,.1f} | {o.shortfall_kwh:,.1f} | "
                  f"{o.cost / o.energy_kwh:.4f} | {100 * (o.cost / best - 1):+.2f} % | "
                  f"{max(0.0, o.overload_a):.3f} |")  # fmt: skip
    return 0


if __name__ == "__main__":
    sys.exit(main())
