"""A meter's reading: what a measurement device reports at one instant, in its own time.

Field names match the JSON shape meters send (see docs/meters.md), so an error can name the
field the way the meter spelled it: ``currents_a.l2``, ``power_w_per_phase.l1``.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime

from amphub.domain.errors import InvalidValue
from amphub.domain.units import PhaseCurrents


@dataclass(frozen=True, slots=True)
class PhaseVoltages:
    """Phase-to-neutral voltage per grid phase, in volts."""

    l1_v: float
    l2_v: float
    l3_v: float

    def as_tuple(self) -> tuple[float, float, float]:
        return (self.l1_v, self.l2_v, self.l3_v)


@dataclass(frozen=True, slots=True)
class PhasePowers:
    """Active power per grid phase, in watts. Negative means export."""

    l1_w: float
    l2_w: float
    l3_w: float

    def as_tuple(self) -> tuple[float, float, float]:
        return (self.l1_w, self.l2_w, self.l3_w)


_PHASE_KEYS = ("l1", "l2", "l3")
# built once: every reading of every meter goes through numeric_fields
_CURRENT_FIELDS = tuple(f"currents_a.{key}" for key in _PHASE_KEYS)
_VOLTAGE_FIELDS = tuple(f"voltages_v.{key}" for key in _PHASE_KEYS)
_POWER_FIELDS = tuple(f"power_w_per_phase.{key}" for key in _PHASE_KEYS)


@dataclass(frozen=True, slots=True)
class MeterReading:
    """One reading. ``measured_at`` is the meter's own clock, normalised to UTC.

    Currents are signed: negative is export (e.g. solar). Everything but the currents is
    optional because many meters report only currents.
    """

    measured_at: datetime
    currents_a: PhaseCurrents
    voltages_v: PhaseVoltages | None = None
    power_w: float | None = None
    power_w_per_phase: PhasePowers | None = None
    energy_import_wh: float | None = None
    energy_export_wh: float | None = None

    def __post_init__(self) -> None:
        offset = self.measured_at.utcoffset()
        if offset is None:
            raise InvalidValue("measured_at", "must carry a UTC offset (e.g. end in Z)")
        object.__setattr__(self, "measured_at", self.measured_at.astimezone(UTC))

    def values_key(self) -> tuple[object, ...]:
        """Everything the meter measured, without the timestamp.

        Two readings with equal keys report the same values; that is how duplicates and
        frozen meters are recognised.
        """
        return (
            self.currents_a.as_tuple(),
            None if self.voltages_v is None else self.voltages_v.as_tuple(),
            self.power_w,
            None if self.power_w_per_phase is None else self.power_w_per_phase.as_tuple(),
            self.energy_import_wh,
            self.energy_export_wh,
        )

    def numeric_fields(self) -> Iterator[tuple[str, float]]:
        """Each measured number with the field name a meter uses for it."""
        yield from zip(_CURRENT_FIELDS, self.currents_a.as_tuple(), strict=True)
        if self.voltages_v is not None:
            yield from zip(_VOLTAGE_FIELDS, self.voltages_v.as_tuple(), strict=True)
        if self.power_w is not None:
            yield "power_w", self.power_w
        if self.power_w_per_phase is not None:
            yield from zip(_POWER_FIELDS, self.power_w_per_phase.as_tuple(), strict=True)
        if self.energy_import_wh is not None:
            yield "energy_import_wh", self.energy_import_wh
        if self.energy_export_wh is not None:
            yield "energy_export_wh", self.energy_export_wh
