"""Charging sessions drawn from real ones: when cars arrive, leave and how much they need.

Source: ``../shared/data/ev_sessions`` — Sørensen, Lindberg, Sartori, Andresen (2021),
"Residential electric vehicle charging datasets from apartment buildings", Mendeley Data,
doi:10.17632/jbks2rcwyj, described in *Data in Brief* 36 (2021) 107105; CC BY 4.0.
6,878 sessions in Trondheim garages, 2018-12..2020-01, local time (Europe/Oslo). Reformatted
by the project (see that folder's README). Arrival = plug-in, departure = plug-out, energy
need = the energy the session actually charged (El_kWh).

How a scenario's sessions are drawn (:func:`draw_sessions`):

- Sessions without a plug-out time (34 in the source), with no duration or with less than
  0.1 kWh are left out.
- With a ``date``: the real sessions that plugged in between that day at the scenario's
  start time and the end of its window, in their real order and spacing.
- Without one: sessions picked at random (seeded) from the whole set, placed at their own
  time of day on the scenario's day; those whose arrival falls outside the window are
  skipped. ``count`` stops the draw.
- ``time_mapping: compress`` squeezes 24 h of arrivals into a shorter window: arrival
  offsets, durations and energy needs are all multiplied by window / 24 h, so every car
  still needs the same share of its stay's worth of charging.
- Each car's battery, maximum current and phases come from a ``fleet`` (weighted, seeded):
  the data has no charging rate (the paper assumes 3.6 or 7.2 kW chargers).
"""

from __future__ import annotations

import csv
import random
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from enum import StrEnum
from pathlib import Path

from amphub_sim.ev import EvSpec

SESSIONS_FILE = "ev_sessions/norway_trondheim_residential_sessions.csv"
DAY = timedelta(days=1)


class TimeMapping(StrEnum):
    REAL = "real"
    COMPRESS = "compress"


@dataclass(frozen=True, slots=True)
class RecordedSession:
    session_id: int
    garage: str
    user: str
    arrival: datetime
    """Local wall-clock time (naive, Europe/Oslo), as in the file."""
    departure: datetime
    energy_kwh: float


@dataclass(frozen=True, slots=True)
class FleetEntry:
    weight: float
    ev: EvSpec


DEFAULT_FLEET: tuple[FleetEntry, ...] = (
    FleetEntry(0.35, EvSpec(battery_kwh=60, max_a=16, phases=3)),  # 11 kW, e.g. VW ID.3
    FleetEntry(0.20, EvSpec(battery_kwh=75, max_a=16, phases=3)),  # 11 kW, e.g. Tesla M3 LR
    FleetEntry(0.25, EvSpec(battery_kwh=40, max_a=32, phases=1)),  # 7.4 kW, e.g. Nissan Leaf
    FleetEntry(0.20, EvSpec(battery_kwh=30, max_a=16, phases=1)),  # 3.7 kW, older cars
)


@dataclass(frozen=True, slots=True)
class PlannedSession:
    """A session as the simulator plays it, in simulated seconds from the scenario start."""

    session_id: int
    id_tag: str
    arrival_s: float
    departure_s: float
    energy_need_wh: float
    ev: EvSpec

    @property
    def stay_s(self) -> float:
        return self.departure_s - self.arrival_s


def load_sessions(path: Path) -> list[RecordedSession]:
    sessions = []
    with path.open(newline="") as handle:
        for row in csv.DictReader(handle):
            if not row["End_plugout"] or not row["El_kWh"]:
                continue
            arrival = datetime.fromisoformat(row["Start_plugin"])
            departure = datetime.fromisoformat(row["End_plugout"])
            energy = float(row["El_kWh"])
            if departure <= arrival or energy < 0.1:
                continue
            sessions.append(
                RecordedSession(
                    int(row["session_ID"]),
                    row["Garage_ID"],
                    row["User_ID"],
                    arrival,
                    departure,
                    energy,
                )
            )
    sessions.sort(key=lambda s: (s.arrival, s.session_id))
    return sessions


def id_tag_of(user: str) -> str:
    """An OCPP 1.6 idTag (at most 20 characters) for a user of the data set."""
    return f"TRD-{user}".upper()[:20]


def _pick_ev(rng: random.Random, fleet: Sequence[FleetEntry]) -> EvSpec:
    return rng.choices([entry.ev for entry in fleet], [entry.weight for entry in fleet])[0]


def draw_sessions(
    recorded: Sequence[RecordedSession],
    *,
    start: time,
    window_h: float,
    seed: int,
    on_date: date | None = None,
    count: int | None = None,
    garages: frozenset[str] = frozenset(),
    time_mapping: TimeMapping = TimeMapping.REAL,
    fleet: Sequence[FleetEntry] = DEFAULT_FLEET,
) -> list[PlannedSession]:
    """Sessions for a window of ``window_h`` simulated hours starting at local time
    ``start``, sorted by arrival (see the module docstring)."""
    if window_h <= 0:
        raise ValueError("window_h must be positive")
    rng = random.Random(seed)
    factor = window_h / 24 if time_mapping is TimeMapping.COMPRESS else 1.0
    span = timedelta(hours=window_h / factor)
    pool = [s for s in recorded if not garages or s.garage in garages]
    if on_date is not None:
        origin = datetime.combine(on_date, start)
        chosen = [(s, s.arrival - origin) for s in pool if origin <= s.arrival < origin + span]
    else:
        rng.shuffle(pool)
        chosen = []
        for session in pool:
            offset = (
                datetime.combine(session.arrival.date(), session.arrival.time())
                - datetime.combine(session.arrival.date(), start)
            ) % DAY
            if offset < span:
                chosen.append((session, offset))
            if count is not None and len(chosen) >= count:
                break
        chosen.sort(key=lambda item: (item[1], item[0].session_id))
    if count is not None:
        chosen = chosen[:count]
    planned = []
    for session, offset in chosen:
        ev = _pick_ev(rng, fleet)
        arrival_s = offset.total_seconds() * factor
        stay_s = (session.departure - session.arrival).total_seconds() * factor
        need_wh = min(session.energy_kwh * 1000 * factor, ev.battery_kwh * 1000 * 0.95)
        planned.append(
            PlannedSession(
                session.session_id,
                id_tag_of(session.user),
                arrival_s,
                arrival_s + stay_s,
                need_wh,
                ev,
            )
        )
    return planned
