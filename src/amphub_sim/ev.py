"""Electric vehicles: a battery that fills at what the charger offers, within the car's own
limits, and slower near full.

The model (per car):

- The car draws ``min(offered, its maximum at this state of charge)`` on each of the phases
  it uses: ``min(car phases, connector phases)``. A 1-phase car on a 3-phase connector
  draws on the charger's L1 only.
- IEC 61851-1: a pilot signal below 6 A does not allow charging, so an offer below
  :data:`PILOT_MIN_A` means the car draws nothing (the charger then says SuspendedEVSE).
- Constant current, then constant voltage: up to ``taper_from_soc`` (default 80 %) the car
  takes its full current; above it the current it accepts falls linearly to
  ``taper_floor`` × its maximum at 100 %. This is the usual simplification of a CC-CV
  charge curve (the charging current decays as the cell voltage nears its limit).
- The car stops by itself (SuspendedEV) once it has received the energy its driver needs
  (``energy_need_wh``) or its battery is full.
- Charging losses are ignored: energy into the battery equals energy through the meter.
"""

from __future__ import annotations

from dataclasses import dataclass

from amphub_sim.composite import NOMINAL_VOLTAGE_V

PILOT_MIN_A = 6.0
FULL_SOC = 1.0


@dataclass(frozen=True, slots=True)
class EvSpec:
    battery_kwh: float
    max_a: float
    phases: int
    taper_from_soc: float = 0.8
    taper_floor: float = 0.1

    def __post_init__(self) -> None:
        if self.battery_kwh <= 0:
            raise ValueError("battery_kwh must be positive")
        if self.max_a < PILOT_MIN_A:
            raise ValueError(f"max_a must be at least {PILOT_MIN_A} A")
        if self.phases not in (1, 2, 3):
            raise ValueError("phases must be 1, 2 or 3")
        if not 0 < self.taper_from_soc < 1:
            raise ValueError("taper_from_soc must lie in (0, 1)")
        if not 0 <= self.taper_floor <= 1:
            raise ValueError("taper_floor must lie in [0, 1]")


@dataclass(slots=True)
class Ev:
    """One car during one session. ``soc`` is 0..1."""

    spec: EvSpec
    soc: float
    energy_need_wh: float
    delivered_wh: float = 0.0

    @classmethod
    def arriving(cls, spec: EvSpec, energy_need_wh: float, target_soc: float = 0.9) -> Ev:
        """A car that needs ``energy_need_wh`` to reach ``target_soc`` (at least 5 % charged
        on arrival; a need larger than the battery allows is capped by a full battery)."""
        capacity_wh = spec.battery_kwh * 1000
        soc = max(0.05, target_soc - energy_need_wh / capacity_wh)
        return cls(spec, min(soc, FULL_SOC), max(energy_need_wh, 0.0))

    @property
    def remaining_wh(self) -> float:
        return max(self.energy_need_wh - self.delivered_wh, 0.0)

    def wants_current(self) -> bool:
        return self.remaining_wh > 0.5 and self.soc < FULL_SOC - 1e-6

    def acceptance_a(self) -> float:
        """The most the car takes per phase now (its CC-CV curve)."""
        spec = self.spec
        if not self.wants_current():
            return 0.0
        if self.soc <= spec.taper_from_soc:
            return spec.max_a
        fraction = (FULL_SOC - self.soc) / (FULL_SOC - spec.taper_from_soc)
        return spec.max_a * (spec.taper_floor + (1 - spec.taper_floor) * fraction)

    def phases_on(self, connector_phases: int) -> int:
        return min(self.spec.phases, connector_phases)

    def draw_a(self, offered_a: float) -> float:
        """Current per used phase at an offer of ``offered_a``."""
        if offered_a < PILOT_MIN_A:
            return 0.0
        return min(offered_a, self.acceptance_a())

    def charge(
        self, current_a: float, phases: int, seconds: float, voltage_v: float = NOMINAL_VOLTAGE_V
    ) -> float:
        """Take ``current_a`` on ``phases`` for ``seconds``; returns the energy in Wh (never
        more than the need or the room left in the battery)."""
        if current_a <= 0 or seconds <= 0:
            return 0.0
        energy_wh = current_a * phases * voltage_v * seconds / 3600
        room_wh = (FULL_SOC - self.soc) * self.spec.battery_kwh * 1000
        energy_wh = min(energy_wh, self.remaining_wh, max(room_wh, 0.0))
        self.delivered_wh += energy_wh
        self.soc = min(FULL_SOC, self.soc + energy_wh / (self.spec.battery_kwh * 1000))
        return energy_wh
