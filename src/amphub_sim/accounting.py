"""The simulator's own bookkeeping of what flowed: per phase at the grid connection, per
session, and the summary printed at the end of a run.

Everything here is in *simulated* time: ampere-seconds and seconds of overload are
simulated seconds (at ``--speed 60`` one real second counts as 60).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from amphub.domain.units import PhaseCurrents

OVERLOAD_TOLERANCE_A = 0.05
"""Below this a phase does not count as over its fuse (rounding of limits and draws)."""
MAX_EVENTS = 50


@dataclass(frozen=True, slots=True)
class Overload:
    """A phase went over its fuse: when (simulated s), which phase, by how much at first."""

    at_s: float
    phase: int
    excess_a: float


@dataclass(slots=True)
class SessionRecord:
    session_id: int
    charger: str
    arrival_s: float
    departure_s: float
    need_wh: float
    delivered_wh: float = 0.0
    finished: bool = False
    """The car left within the run."""

    @property
    def met(self) -> bool:
        return self.delivered_wh >= 0.99 * self.need_wh


@dataclass(slots=True)
class Accounts:
    fuse_a: float
    sim_seconds: float = 0.0
    overload_as: float = 0.0
    overload_s: float = 0.0
    peak_total_a: list[float] = field(default_factory=lambda: [0.0, 0.0, 0.0])
    peak_charging_a: list[float] = field(default_factory=lambda: [0.0, 0.0, 0.0])
    peak_building_a: list[float] = field(default_factory=lambda: [0.0, 0.0, 0.0])
    energy_wh: float = 0.0
    sessions: list[SessionRecord] = field(default_factory=list)
    turned_away: int = 0
    worst_overload_a: float = 0.0
    overloads: list[Overload] = field(default_factory=list)
    """The first :data:`MAX_EVENTS` times a phase went over its fuse."""
    _over: list[bool] = field(default_factory=lambda: [False, False, False])

    def add(self, building: PhaseCurrents, charging: PhaseCurrents, dt_s: float) -> None:
        """``dt_s`` simulated seconds at these currents (grid phases)."""
        if dt_s <= 0:
            return
        self.sim_seconds += dt_s
        over_any = False
        for i, (b, c) in enumerate(zip(building, charging, strict=True)):
            total = b + c
            self.peak_total_a[i] = max(self.peak_total_a[i], total)
            self.peak_charging_a[i] = max(self.peak_charging_a[i], c)
            self.peak_building_a[i] = max(self.peak_building_a[i], b)
            excess = total - self.fuse_a
            over = excess > OVERLOAD_TOLERANCE_A
            if over:
                self.overload_as += excess * dt_s
                self.worst_overload_a = max(self.worst_overload_a, excess)
                over_any = True
                if not self._over[i] and len(self.overloads) < MAX_EVENTS:
                    self.overloads.append(Overload(self.sim_seconds - dt_s, i + 1, excess))
            self._over[i] = over
        if over_any:
            self.overload_s += dt_s

    def add_energy(self, energy_wh: float) -> None:
        self.energy_wh += energy_wh

    @property
    def served(self) -> int:
        return sum(1 for s in self.sessions if s.delivered_wh > 0)

    @property
    def met(self) -> int:
        return sum(1 for s in self.sessions if s.met)

    def lines(self) -> list[str]:
        """The end-of-run summary, one fact per line."""
        peak = " / ".join(f"{v:.1f}" for v in self.peak_total_a)
        charging = " / ".join(f"{v:.1f}" for v in self.peak_charging_a)
        building = " / ".join(f"{v:.1f}" for v in self.peak_building_a)
        finished = sum(1 for s in self.sessions if s.finished)
        need = sum(s.need_wh for s in self.sessions)
        return [
            f"simulated time        {self.sim_seconds / 3600:.2f} h",
            f"energy delivered      {self.energy_wh / 1000:.1f} kWh"
            f" (sessions needed {need / 1000:.1f} kWh)",
            f"sessions              {len(self.sessions)} plugged in, {self.served} charged,"
            f" {self.met} got all they needed, {finished} left, {self.turned_away} turned away"
            " (no free charger)",
            f"peak phase current    {peak} A (L1 / L2 / L3) against a {self.fuse_a:g} A fuse",
            f"  of which charging   {charging} A;  building {building} A",
            f"overload              {self.overload_s:.0f} s, {self.overload_as:.0f} A·s"
            f" (worst {self.worst_overload_a:.1f} A over the fuse)",
            *(
                f"  from {o.at_s / 60:6.1f} min  L{o.phase} +{o.excess_a:.1f} A"
                for o in self.overloads[:5]
            ),
        ]
