"""A load balancing group as configured by people (seed 000, SPEC §4), and its rules.

This is the configuration: what the portal's General settings, Add or remove charge points
and Meter settings pages edit. ``amphub.domain.balancing`` turns it, with live data, into
limits.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from datetime import timedelta
from enum import StrEnum

from amphub.domain.balancing.model import Placement
from amphub.domain.errors import InvalidValue

MAX_GROUP_A = 6300.0
MIN_METER_TIMEOUT_S = 5.0
MAX_METER_TIMEOUT_S = 3600.0


class PowerDistribution(StrEnum):
    CLOUD = "cloud"
    """amphub computes a limit for every connector."""
    LOCAL = "local"
    """amphub sends the group's available current to the master charge point, which shares
    it out itself (e.g. an Easee site); no sub-groups."""


def _amps(field_name: str, value: float, *, upper: float = MAX_GROUP_A) -> float:
    if not math.isfinite(value) or not 0 <= value <= upper:
        raise InvalidValue(field_name, f"must be between 0 and {upper:g} A")
    return value


@dataclass(frozen=True, slots=True)
class SubGroupSpec:
    """A sub-panel or cable inside the group, with its own limit per phase."""

    name: str
    limit_a: float
    children: tuple[SubGroupSpec, ...] = ()
    charge_point_ids: tuple[int, ...] = ()

    def __post_init__(self) -> None:
        if not self.name.strip():
            raise InvalidValue("sub_groups.name", "must not be empty")
        _amps("sub_groups.limit_a", self.limit_a)

    def walk(self) -> tuple[SubGroupSpec, ...]:
        found: list[SubGroupSpec] = [self]
        for child in self.children:
            found.extend(child.walk())
        return tuple(found)


@dataclass(frozen=True, slots=True)
class GroupSettingsSpec:
    """General settings and meter settings of a group."""

    name: str
    total_a: float
    """Total amps available per phase, for charging and the building together."""
    power_distribution: PowerDistribution = PowerDistribution.CLOUD
    master_charge_point_id: int | None = None
    meter_id: int | None = None
    placement: Placement = Placement.BUILDING_ONLY
    dynamic_buffer_a: float = 0.0
    fail_safe_a: float = 0.0
    """The charge points' total per phase while the meter is silent."""
    meter_timeout_s: float = 30.0

    def __post_init__(self) -> None:
        name = self.name.strip()
        if not name or len(name) > 200:
            raise InvalidValue("name", "must be 1–200 characters")
        object.__setattr__(self, "name", name)
        _amps("total_a", self.total_a)
        if self.total_a <= 0:
            raise InvalidValue("total_a", "must be above 0 A")
        _amps("dynamic_buffer_a", self.dynamic_buffer_a)
        if self.dynamic_buffer_a >= self.total_a:
            raise InvalidValue("dynamic_buffer_a", "must be below the total amps available")
        _amps("fail_safe_a", self.fail_safe_a)
        if self.fail_safe_a > self.total_a:
            raise InvalidValue("fail_safe_a", "cannot exceed the total amps available")
        if not (
            math.isfinite(self.meter_timeout_s)
            and MIN_METER_TIMEOUT_S <= self.meter_timeout_s <= MAX_METER_TIMEOUT_S
        ):
            raise InvalidValue(
                "meter_timeout_s",
                f"must be between {MIN_METER_TIMEOUT_S:g} and {MAX_METER_TIMEOUT_S:g} s",
            )
        if self.power_distribution is PowerDistribution.CLOUD and self.master_charge_point_id:
            raise InvalidValue(
                "master_charge_point_id", "a master charge point is for locally managed groups"
            )

    @property
    def meter_timeout(self) -> timedelta:
        return timedelta(seconds=self.meter_timeout_s)


@dataclass(frozen=True, slots=True)
class GroupLayout:
    """Which charge points are in the group, and the sub-group tree they hang in."""

    charge_point_ids: tuple[int, ...] = ()
    """Charge points directly under the group (not in a sub-group)."""
    sub_groups: tuple[SubGroupSpec, ...] = field(default_factory=tuple)

    def all_charge_point_ids(self) -> tuple[int, ...]:
        found = list(self.charge_point_ids)
        for sub_group in self.sub_groups:
            for node in sub_group.walk():
                found.extend(node.charge_point_ids)
        return tuple(found)


def validate_group(settings: GroupSettingsSpec, layout: GroupLayout) -> None:
    """The rules that span settings and layout (seed 000)."""
    _check_sibling_names(layout.sub_groups)
    members = layout.all_charge_point_ids()
    if len(set(members)) != len(members):
        raise InvalidValue("charge_point_ids", "a charge point can be in the group only once")
    if settings.power_distribution is PowerDistribution.LOCAL:
        if layout.sub_groups:
            raise InvalidValue(
                "sub_groups",
                "sub-groups are not available for locally managed groups: the master charge "
                "point distributes the current itself",
            )
        # Without a master (chosen once its charge points are added) nothing is sent.
        master = settings.master_charge_point_id
        if master is not None and master not in members:
            raise InvalidValue(
                "master_charge_point_id", "the master charge point must be a member of the group"
            )


def _check_sibling_names(siblings: tuple[SubGroupSpec, ...]) -> None:
    names = [sub.name.strip().lower() for sub in siblings]
    if len(set(names)) != len(names):
        raise InvalidValue("sub_groups.name", "sub-groups side by side need different names")
    for sub in siblings:
        _check_sibling_names(sub.children)
