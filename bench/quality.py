"""How good are amphub's limits? amphub's allocator against acnportal's reference
algorithms and the offline LP optimum, on the same congested sites and the same real data.

Sites (each played for 48 h so that late cars can finish; cars arrive in the first 24 h):

- ``100 EVSEs at 25 %`` and ``at 50 %``: 100 single-phase 32 A EVSEs spread over the three
  phases, the phase limit a quarter (half) of their nameplate; 250 real Trondheim sessions
  sampled (seeded) at their own time of day; cars of 3.7 or 7.4 kW as the data set's paper
  assumes; no building.
- ``demo 63 A site``: ``scenarios/demo.yaml`` — 63 A main fuse, 12 chargers (six 3-phase
  16 A, six 1-phase 32 A on three rotations), the real sessions of 2019-11-21 from 14:00,
  the real household load (4 households + 3 A, no noise), 5 A dynamic buffer, the demo's
  car fleet.

The period is 1 min (``--period``; acnsim's usual is 5 min).

amphub runs through its pure cores fed the same event stream, not through the running
server: the allocator alone (``amphub.domain.balancing.allocate``, what the balancing
controller calls every cycle), and the allocator with the price planner's caps (its LP, the
HiGHS adapter and its plans, re-planned on the application's triggers, with every session's
departure and need known: quality_planner.py). The allocator is asked every 5 s (its
controller's cycle: its damping and on/off times are real-time rules), the others once per
period. See quality_algorithms.py for how acnportal's algorithms are run, quality_model.py
for the shared physics and metrics, quality_lp.py for the optimum.

Run: ``python bench/quality.py`` (about 20 minutes on 2 cores; ``--quick`` for a smoke run).
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import platform
import subprocess
import sys
import time
from dataclasses import replace
from pathlib import Path

import numpy as np

from amphub.domain.units import PhaseRotation
from amphub_sim.building import BuildingLoad
from amphub_sim.data import building_for, default_data_dir
from amphub_sim.ev import EvSpec
from amphub_sim.scenario import load_scenario
from amphub_sim.sessions import (
    SESSIONS_FILE,
    FleetEntry,
    PlannedSession,
    draw_sessions,
    load_sessions,
)
from quality_algorithms import PLANNED, policies
from quality_lp import optimum
from quality_model import Evse, Metrics, Outcome, Site, assign, measure, simulate

ROOT = Path(__file__).resolve().parents[1]
HORIZON_H = 48
ROTATIONS = (PhaseRotation.L1L2L3, PhaseRotation.L2L3L1, PhaseRotation.L3L1L2)
PAPER_FLEET = (  # "3.6 kW or 7.2 kW charge points" (the data set's paper); 40 kWh batteries
    FleetEntry(0.5, EvSpec(battery_kwh=40, max_a=16, phases=1)),
    FleetEntry(0.5, EvSpec(battery_kwh=40, max_a=32, phases=1)),
)


def _arrivals(
    planned: list[PlannedSession], period_s: float, horizon: int
) -> list[tuple[str, int, int, float, float, int]]:
    found = []
    for p in planned:
        arrival = int(p.arrival_s // period_s)
        departure = min(int(p.departure_s // period_s), horizon)
        if departure > arrival and arrival < horizon:
            found.append((str(p.session_id), arrival, departure, p.energy_need_wh,
                          p.ev.max_a, p.ev.phases))  # fmt: skip
    return found


def hundred_evses(share: float, sessions: int, seed: int, data: Path, period_s: float) -> Site:
    periods = int(HORIZON_H * 3600 / period_s)
    evses = tuple(Evse(f"EVSE-{i:03d}", 1, ROTATIONS[i % 3], 32.0) for i in range(100))
    nameplate_per_phase = sum(e.max_a for e in evses) / 3
    planned = draw_sessions(
        load_sessions(data / SESSIONS_FILE), start=dt.time(0, 0), window_h=24, seed=seed,
        count=sessions, fleet=PAPER_FLEET,
    )  # fmt: skip
    assigned, turned_away = assign(
        evses, _arrivals(planned, period_s, periods), np.random.default_rng(seed)
    )
    return Site(
        name=f"100 EVSEs at {share:.0%} of nameplate",
        start=dt.datetime(2019, 11, 21, 0, 0, tzinfo=dt.UTC),
        period_s=period_s,
        evses=evses,
        sessions=assigned,
        fuse_a=share * nameplate_per_phase,
        buffer_a=0.0,
        building_a=np.zeros((periods, 3)),
        turned_away=turned_away,
    )


def demo_site(data: Path, period_s: float) -> Site:
    scenario = load_scenario(ROOT / "scenarios" / "demo.yaml")
    scenario = replace(scenario, building=replace(scenario.building, noise=0.0))
    periods = int(HORIZON_H * 3600 / period_s)
    evses = tuple(Evse(c.identity, c.phases, c.rotation, c.max_a) for c in scenario.chargers)
    recorded = load_sessions(data / SESSIONS_FILE)
    config = scenario.sessions
    planned = draw_sessions(
        recorded, start=scenario.start.replace(tzinfo=None).time(), window_h=24,
        seed=scenario.seed, on_date=config.on_date, fleet=config.fleet,
    )  # fmt: skip
    building: BuildingLoad | None = building_for(scenario, data)
    assert building is not None
    currents = np.array(
        [
            building.currents_at(scenario.start + dt.timedelta(seconds=t * period_s)).as_tuple()
            for t in range(periods)
        ]
    )
    assigned, turned_away = assign(
        evses, _arrivals(planned, period_s, periods), np.random.default_rng(scenario.seed)
    )
    return Site(
        name="demo 63 A site (real sessions and building)",
        start=scenario.start.astimezone(dt.UTC),
        period_s=period_s,
        evses=evses,
        sessions=assigned,
        fuse_a=scenario.group.total_a,
        buffer_a=scenario.group.dynamic_buffer_a,
        building_a=currents,
        turned_away=turned_away,
    )


COLOURS = {
    "LP optimum": "black", "amphub balancer alone": "tab:orange", PLANNED: "tab:blue",
    "amphub, full cars not reserved (what-if)": "tab:brown", "Uncontrolled": "tab:red",
    "RoundRobin": "tab:purple", "FCFS": "tab:olive", "EDF": "tab:cyan", "LLF": "tab:green",
}  # fmt: skip


def plot(site: Site, outcomes: dict[str, Outcome], path: Path) -> None:
    """The first day: the most loaded phase's current (building + charging) for the LP,
    amphub, LLF and uncontrolled charging; below, the energy delivered by every algorithm."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    day = int(24 * 3600 / site.period_s)
    hours = np.arange(day) * site.period_s / 3600
    fig, (top, bottom) = plt.subplots(2, 1, figsize=(10, 7), sharex=True)
    phase = int(np.argmax(site.building_a[:day].mean(axis=0)))
    top.axhline(site.fuse_a, color="tab:gray", linewidth=2.5, alpha=0.6, label="main fuse")
    if site.buffer_a:
        top.axhline(site.fuse_a - site.buffer_a, color="tab:gray", linewidth=1, linestyle="--",
                    label="fuse − dynamic buffer")  # fmt: skip
    if site.building_a.any():
        top.fill_between(hours, site.building_a[:day, phase], color="0.85", label="building")
    for name in ("Uncontrolled", "LLF", "LP optimum", "amphub balancer alone", PLANNED):
        total = site.building_a[:day, phase] + outcomes[name].charging_a[:day, phase]
        top.plot(hours, total, linewidth=0.9, color=COLOURS[name], label=name)
    top.set_ylabel(f"current on L{phase + 1} (A)")
    top.set_title(site.name)
    top.legend(loc="upper right", fontsize=8)
    for name, outcome in outcomes.items():
        energy = np.zeros(day)
        for s in site.sessions:
            draws = outcome.draws_a[s.session_id][:day]
            energy += np.cumsum(draws) * site.energy_per_amp_wh(s) / 1000
        bottom.plot(hours, energy, linewidth=1, color=COLOURS.get(name), label=name)
    bottom.set_ylabel("energy delivered (kWh)")
    bottom.set_xlabel("hours from the start")
    bottom.legend(loc="upper left", fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=90)
    plt.close(fig)


def run_site(site: Site, plots: Path | None) -> list[tuple[str, Metrics, float]]:
    started = time.perf_counter()
    best = optimum(site)
    lp_seconds = time.perf_counter() - started
    outcomes: dict[str, Outcome] = {"LP optimum": best}
    timings = {"LP optimum": lp_seconds}
    for name, (policy, substeps) in policies(site).items():
        started = time.perf_counter()
        outcomes[name] = simulate(site, name, policy, substeps)
        timings[name] = time.perf_counter() - started
    rows = [
        (name, measure(site, outcome, best.energy_wh()), timings[name])
        for name, outcome in outcomes.items()
    ]
    if plots is not None:
        slug = "".join(ch if ch.isalnum() else "_" for ch in site.name.split("(")[0]).strip("_")
        plot(site, outcomes, plots / f"quality_{slug.lower()}.png")
    return rows


def table(site: Site, rows: list[tuple[str, Metrics, float]]) -> list[str]:
    need = sum(s.need_wh for s in site.sessions) / 1000
    lines = [
        f"### {site.name}",
        "",
        f"{len(site.sessions)} sessions needing {need:.0f} kWh, {site.turned_away} turned "
        f"away (no free EVSE), phase limit {site.fuse_a:.0f} A, period "
        f"{site.period_s / 60:g} min",
        "",
        "| algorithm | energy kWh | % of LP optimum | demands met | overload A·s "
        "| Jain (rates) | pause/resume per car·h | peak phase A | run s |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for name, m, seconds in rows:
        lines.append(
            f"| {name} | {m.energy_kwh:.1f} | {m.of_optimum * 100:.2f} | {m.demands_met:.3f} "
            f"| {m.overload_as:.0f} | {m.jain:.3f} | {m.transitions_per_car_hour:.3f} "
            f"| {m.peak_a:.1f} | {seconds:.1f} |"
        )
    by_name = {name: m for name, m, _ in rows}
    safe = [by_name[n] for n in ("RoundRobin", "FCFS", "EDF", "LLF")]  # never overload
    best_met = max(m.demands_met for m in safe)
    # Uncontrolled charging ignores the fuse: every car at its maximum from arrival, so no
    # algorithm can meet more demands than it does.
    most_met = by_name["Uncontrolled"].demands_met
    lines += ["", f"Demands met: best acnportal {best_met:.3f}, at most {most_met:.3f} (no fuse)."]
    for name in ("amphub balancer alone", PLANNED):
        amphub = by_name[name]
        lines.append(
            f"Targets, {name}: ≥ 99.5 % of the optimum — {amphub.of_optimum * 100:.2f} % "
            f"({'met' if amphub.of_optimum >= 0.995 else 'MISSED'}); demands met ≥ "
            f"{best_met + 0.05:.3f} — {amphub.demands_met:.3f} "
            f"({'met' if amphub.demands_met >= best_met + 0.05 else 'MISSED'}); zero overload "
            f"— {amphub.overload_as:.0f} A·s ({'met' if amphub.overload_as == 0 else 'MISSED'})."
        )
    return [*lines, ""]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--data", type=Path, default=None, help="shared data folder")
    parser.add_argument("--sessions", type=int, default=250, help="sessions, 100-EVSE sites")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--plots", type=Path, default=Path(__file__).parent)
    parser.add_argument("--no-plots", action="store_true")
    parser.add_argument("--quick", action="store_true", help="one small site only")
    parser.add_argument("--period", type=float, default=60.0, help="seconds per period")
    parser.add_argument(
        "--only", choices=["25", "50", "demo"], action="append", help="run only these sites"
    )
    args = parser.parse_args()
    data = args.data or default_data_dir()
    plots = None if args.no_plots else args.plots
    commit = subprocess.run(
        ["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True, cwd=ROOT,
        check=False,
    ).stdout.strip()  # fmt: skip
    print(
        f"quality benchmark, {dt.date.today()}, commit {commit or '?'}, {os.cpu_count()} "
        f"cores, Python {platform.python_version()}, numpy {np.__version__}\n"
    )
    if args.quick:
        sites = [hundred_evses(0.25, 60, args.seed, data, args.period)]
    else:
        wanted = set(args.only or ["25", "50", "demo"])
        sites = [
            make()
            for name, make in (
                ("25", lambda: hundred_evses(0.25, args.sessions, args.seed, data, args.period)),
                ("50", lambda: hundred_evses(0.50, args.sessions, args.seed, data, args.period)),
                ("demo", lambda: demo_site(data, args.period)),
            )
            if name in wanted
        ]
    for site in sites:
        try:
            rows = run_site(site, plots)
        except RuntimeError as error:
            print(f"{site.name}: could not measure: {error}", file=sys.stderr)
            return 1
        print("\n".join(table(site, rows)), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
