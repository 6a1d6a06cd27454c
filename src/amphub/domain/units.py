"""Electrical quantities with their unit in the name: phases, per-phase currents, rotation.

A site's grid has three phases L1, L2, L3. A charge point's connector is wired to one phase
(1-phase) or all three (3-phase), and the installer may rotate the wiring so that the
charger's own L1 sits on grid L2 or L3 (to spread 1-phase loads). Everything the balancer
adds up is expressed on *grid* phases.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from enum import IntEnum, StrEnum


class Phase(IntEnum):
    """A grid phase."""

    L1 = 1
    L2 = 2
    L3 = 3


PHASES: tuple[Phase, Phase, Phase] = (Phase.L1, Phase.L2, Phase.L3)


@dataclass(frozen=True, slots=True)
class PhaseCurrents:
    """A current per grid phase, in amperes. Negative means export (e.g. solar)."""

    l1_a: float
    l2_a: float
    l3_a: float

    @classmethod
    def zero(cls) -> PhaseCurrents:
        return cls(0.0, 0.0, 0.0)

    @classmethod
    def uniform(cls, current_a: float) -> PhaseCurrents:
        return cls(current_a, current_a, current_a)

    @classmethod
    def from_mapping(cls, currents_a: dict[Phase, float]) -> PhaseCurrents:
        return cls(
            currents_a.get(Phase.L1, 0.0),
            currents_a.get(Phase.L2, 0.0),
            currents_a.get(Phase.L3, 0.0),
        )

    def on(self, phase: Phase) -> float:
        """The current on one phase."""
        if phase is Phase.L1:
            return self.l1_a
        if phase is Phase.L2:
            return self.l2_a
        return self.l3_a

    def with_phase(self, phase: Phase, current_a: float) -> PhaseCurrents:
        values = [self.l1_a, self.l2_a, self.l3_a]
        values[phase - 1] = current_a
        return PhaseCurrents(*values)

    def as_tuple(self) -> tuple[float, float, float]:
        return (self.l1_a, self.l2_a, self.l3_a)

    def __iter__(self) -> Iterator[float]:
        return iter(self.as_tuple())

    def __add__(self, other: PhaseCurrents) -> PhaseCurrents:
        return PhaseCurrents(self.l1_a + other.l1_a, self.l2_a + other.l2_a, self.l3_a + other.l3_a)

    def __sub__(self, other: PhaseCurrents) -> PhaseCurrents:
        return PhaseCurrents(self.l1_a - other.l1_a, self.l2_a - other.l2_a, self.l3_a - other.l3_a)

    def minus_uniform(self, current_a: float) -> PhaseCurrents:
        return PhaseCurrents(self.l1_a - current_a, self.l2_a - current_a, self.l3_a - current_a)

    def elementwise_min(self, other: PhaseCurrents) -> PhaseCurrents:
        return PhaseCurrents(
            min(self.l1_a, other.l1_a), min(self.l2_a, other.l2_a), min(self.l3_a, other.l3_a)
        )

    def clamped_at_zero(self) -> PhaseCurrents:
        return PhaseCurrents(max(self.l1_a, 0.0), max(self.l2_a, 0.0), max(self.l3_a, 0.0))

    def max_a(self) -> float:
        return max(self.l1_a, self.l2_a, self.l3_a)

    def min_a(self) -> float:
        return min(self.l1_a, self.l2_a, self.l3_a)


class PhaseRotation(StrEnum):
    """Which grid phase each of the charger's phases (its L1, L2, L3) is wired to.

    ``L2L3L1`` means the charger's L1 is on grid L2, its L2 on grid L3, its L3 on grid L1.
    All six permutations occur in real installations; the three odd ones (``L1L3L2``,
    ``L2L1L3``, ``L3L2L1``) reverse the field's direction, which matters to motors, not to
    chargers.
    """

    L1L2L3 = "L1L2L3"
    L1L3L2 = "L1L3L2"
    L2L1L3 = "L2L1L3"
    L2L3L1 = "L2L3L1"
    L3L1L2 = "L3L1L2"
    L3L2L1 = "L3L2L1"

    def grid_phases(self) -> tuple[Phase, Phase, Phase]:
        """The grid phases of the charger's L1, L2 and L3, in that order."""
        value = str(self.value)
        return (
            Phase(int(value[1])),
            Phase(int(value[3])),
            Phase(int(value[5])),
        )

    def grid_phase_of_charger_l1(self) -> Phase:
        """The grid phase a 1-phase connector (wired on its own L1) draws from."""
        return self.grid_phases()[0]

    def charger_to_grid(self, charger_currents: PhaseCurrents) -> PhaseCurrents:
        """Re-express currents measured on the charger's phases on grid phases."""
        grid: dict[Phase, float] = {}
        for charger_phase, grid_phase in zip(PHASES, self.grid_phases(), strict=True):
            grid[grid_phase] = charger_currents.on(charger_phase)
        return PhaseCurrents.from_mapping(grid)


NOMINAL_VOLTAGE_V = 230.0
"""Nominal phase-to-neutral voltage used to convert between W and A when a charger or
meter does not say otherwise (EN 50160, Europe)."""


def power_w_from_current_a(
    current_a: float, phases: int, voltage_v: float = NOMINAL_VOLTAGE_V
) -> float:
    """Active power drawn by ``phases`` phases at ``current_a`` each (unity power factor)."""
    return current_a * phases * voltage_v


def current_a_from_power_w(
    power_w: float, phases: int, voltage_v: float = NOMINAL_VOLTAGE_V
) -> float:
    """Per-phase current that ``power_w`` spread over ``phases`` phases draws."""
    return power_w / (phases * voltage_v)
