"""Building load per grid phase, from real data.

Source: ``../shared/data/household_load`` — Hébrail & Bérard (EDF R&D), "Individual
Household Electric Power Consumption", UCI Machine Learning Repository,
doi:10.24432/C58K54, CC BY 4.0; one household near Paris, 1-minute averages,
2006-12-18..31 (see that folder's README for the copy used and its cleaning).

The data is one household's total, not per phase. A site is made of it like this
(:class:`HouseholdBuilding`):

1. **Scaling.** ``households`` copies of the 14-day trace are summed, copy *k* shifted by
   *k* days and *k* × 37 minutes (wrapping around the 14 days), so that the copies are not
   in step (real flats do not all cook at the same minute); the sum is multiplied by
   ``scale`` and a constant ``base_a`` per phase (lifts, ventilation, lighting) is added.
2. **Current.** Each minute's apparent power S = √(P² + Q²) (active and reactive columns)
   is split over the phases with fixed ``weights`` (default 0.40 / 0.33 / 0.27: a common
   unbalance, L1 carrying the most single-phase circuits), and I_p = w_p · S / 230 V.
3. **Between minutes** the current is interpolated linearly; the 4 missing minutes of the
   source are interpolated from their neighbours.
4. **Noise.** Each phase gets its own noise, deterministic in (seed, phase, second):
   Gaussian with a standard deviation of ``noise`` (default 3 %) of the current plus
   0.1 A, so a meter never repeats itself exactly and the phases do not move in lockstep.

Alternatively :class:`PhaseCsvBuilding` replays a per-phase CSV (``timestamp,l1_a,l2_a,l3_a``)
as it is, interpolated and wrapped around at its end.
"""

from __future__ import annotations

import bisect
import csv
import itertools
import math
import random
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Protocol

from amphub.domain.units import PhaseCurrents

VOLTAGE_V = 230.0
DEFAULT_WEIGHTS = (0.40, 0.33, 0.27)
_COPY_SHIFT_MIN = 24 * 60 + 37
HOUSEHOLD_FILE = "household_load/uci_household_power_1min_2006-12-18_2006-12-31.csv"


class BuildingLoad(Protocol):
    def currents_at(self, at: datetime) -> PhaseCurrents:
        """The building's current per grid phase (A) at simulated time ``at``."""
        ...


def _interpolate_gaps(values: list[float | None]) -> list[float]:
    """Missing values linearly between their known neighbours (the nearest at the ends)."""
    known = [i for i, v in enumerate(values) if v is not None]
    if not known:
        raise ValueError("no values at all")
    result: list[float] = []
    for i, value in enumerate(values):
        if value is not None:
            result.append(value)
            continue
        right = bisect.bisect_left(known, i)
        before = known[max(right - 1, 0)]
        after = known[min(right, len(known) - 1)]
        a, b = values[before], values[after]
        assert a is not None and b is not None
        fraction = 0.0 if after == before else (i - before) / (after - before)
        result.append(a + (b - a) * min(max(fraction, 0.0), 1.0))
    return result


@dataclass(frozen=True, slots=True)
class HouseholdTrace:
    """The household's apparent power per minute (kVA), gaps filled."""

    start: datetime
    """The local time of the first minute (naive, as in the file)."""
    kva: tuple[float, ...]

    @classmethod
    def load(cls, path: Path) -> HouseholdTrace:
        values: list[float | None] = []
        start: datetime | None = None
        with path.open(newline="") as handle:
            for row in csv.DictReader(handle):
                if start is None:
                    start = datetime.fromisoformat(row["timestamp_local"])
                p, q = row["Global_active_power"], row["Global_reactive_power"]
                values.append(math.hypot(float(p), float(q)) if p and q else None)
        if start is None:
            raise ValueError(f"{path}: no rows")
        return cls(start, tuple(_interpolate_gaps(values)))

    def kva_at(self, minute: float) -> float:
        """Linear between minutes; ``minute`` counts from the trace start, wrapping."""
        n = len(self.kva)
        low = math.floor(minute)
        fraction = minute - low
        a, b = self.kva[low % n], self.kva[(low + 1) % n]
        return a + (b - a) * fraction


def _noise(seed: int, phase: int, second: int) -> float:
    return random.Random(f"{seed}:{phase}:{second}").gauss(0.0, 1.0)


@dataclass(frozen=True, slots=True)
class HouseholdBuilding:
    trace: HouseholdTrace
    sim_start: datetime
    """The simulated instant that maps to ``data_start`` in the trace."""
    data_start: datetime
    households: int = 1
    scale: float = 1.0
    base_a: float = 0.0
    weights: tuple[float, float, float] = DEFAULT_WEIGHTS
    noise: float = 0.03
    seed: int = 0

    def __post_init__(self) -> None:
        if self.households < 1:
            raise ValueError("households must be at least 1")
        if self.scale < 0 or self.base_a < 0 or self.noise < 0:
            raise ValueError("scale, base_a and noise must not be negative")
        if len(self.weights) != 3 or min(self.weights) < 0 or sum(self.weights) <= 0:
            raise ValueError("weights: three non-negative numbers")

    def total_kva_at(self, at: datetime) -> float:
        offset_min = (self.data_start - self.trace.start).total_seconds() / 60
        minute = offset_min + (at - self.sim_start).total_seconds() / 60
        return self.scale * sum(
            self.trace.kva_at(minute + k * _COPY_SHIFT_MIN) for k in range(self.households)
        )

    def currents_at(self, at: datetime) -> PhaseCurrents:
        kva = self.total_kva_at(at)
        total_weight = sum(self.weights)
        second = math.floor((at - self.sim_start).total_seconds())
        currents = []
        for phase, weight in enumerate(self.weights, start=1):
            mean = self.base_a + kva * 1000 * weight / total_weight / VOLTAGE_V
            jitter = (self.noise * mean + 0.1) * _noise(self.seed, phase, second)
            currents.append(max(mean + jitter, 0.0))
        return PhaseCurrents(*currents)


@dataclass(frozen=True, slots=True)
class PhaseCsvBuilding:
    """A recorded per-phase current, replayed from the simulated start."""

    times_s: Sequence[float]
    currents: Sequence[tuple[float, float, float]]
    sim_start: datetime
    scale: float = 1.0

    @classmethod
    def load(cls, path: Path, sim_start: datetime, scale: float = 1.0) -> PhaseCsvBuilding:
        times: list[float] = []
        rows: list[tuple[float, float, float]] = []
        first: datetime | None = None
        with path.open(newline="") as handle:
            for row in csv.DictReader(handle):
                moment = datetime.fromisoformat(row["timestamp"])
                first = first or moment
                times.append((moment - first).total_seconds())
                rows.append((float(row["l1_a"]), float(row["l2_a"]), float(row["l3_a"])))
        if len(rows) < 2:
            raise ValueError(f"{path}: at least two rows are needed")
        if any(b <= a for a, b in itertools.pairwise(times)):
            raise ValueError(f"{path}: timestamps must increase")
        return cls(tuple(times), tuple(rows), sim_start, scale)

    def currents_at(self, at: datetime) -> PhaseCurrents:
        span = self.times_s[-1]
        t = (at - self.sim_start).total_seconds() % span
        i = max(bisect.bisect_right(self.times_s, t) - 1, 0)
        j = min(i + 1, len(self.times_s) - 1)
        t0, t1 = self.times_s[i], self.times_s[j]
        fraction = 0.0 if t1 == t0 else (t - t0) / (t1 - t0)
        values = [
            self.scale * (a + (b - a) * fraction)
            for a, b in zip(self.currents[i], self.currents[j], strict=True)
        ]
        return PhaseCurrents(*values)


def peak_of(load: BuildingLoad, start: datetime, hours: float, step_s: int = 60) -> float:
    """The highest phase current over a window (for reports and sanity checks)."""
    steps = int(hours * 3600 / step_s)
    return max(
        load.currents_at(start + timedelta(seconds=i * step_s)).max_a() for i in range(steps)
    )
