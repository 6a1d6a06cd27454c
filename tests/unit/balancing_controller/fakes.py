"""Hand-written fakes for the controller's ports: a charger fleet that remembers the
profiles it accepted and can be told to reject or stay silent."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from amphub.application.balancing.ports import DecisionRecord
from amphub.application.charging.errors import ChargerOffline, CommandRejected, CommandTimedOut
from amphub.application.charging.ports import ProfileCriteria
from amphub.domain.smart_charging import ChargingProfile, ChargingProfilePurpose, CompositeSchedule


class FakeClock:
    def __init__(self, start: datetime = datetime(2026, 11, 21, 12, 0, tzinfo=UTC)) -> None:
        self.at = start

    def now(self) -> datetime:
        return self.at

    def advance(self, seconds: float) -> None:
        self.at += timedelta(seconds=seconds)


@dataclass
class FakeFleet:
    """Implements the part of ChargerCommander the balancer uses."""

    clock: FakeClock
    profiles: dict[tuple[int, int, int], ChargingProfile] = field(default_factory=dict)
    """(charge point, connector, stack level) → the profile it holds."""
    sent: list[tuple[int, int, ChargingProfile]] = field(default_factory=list)
    rejecting: set[int] = field(default_factory=set)
    silent: set[int] = field(default_factory=set)
    offline: set[int] = field(default_factory=set)

    def ocpp_version(self, charge_point_id: int) -> str | None:
        return None if charge_point_id in self.offline else "1.6"

    async def set_charging_profile(
        self, charge_point_id: int, connector_id: int, profile: ChargingProfile
    ) -> None:
        if charge_point_id in self.offline:
            raise ChargerOffline(str(charge_point_id))
        self.sent.append((charge_point_id, connector_id, profile))
        if charge_point_id in self.silent:
            raise CommandTimedOut("no answer")
        if charge_point_id in self.rejecting:
            raise CommandRejected("SetChargingProfile", "Rejected")
        self.profiles[(charge_point_id, connector_id, profile.stack_level)] = profile

    async def clear_charging_profile(self, charge_point_id: int, criteria: ProfileCriteria) -> bool:
        return False

    async def get_composite_schedule(
        self, *args: object, **kwargs: object
    ) -> CompositeSchedule | None:
        return None

    def limit_in_force(self, charge_point_id: int, connector_id: int) -> float | None:
        """What the charger would run on now: the highest stack level whose schedule is in
        force (a dynamic one lapses after its duration)."""
        now = self.clock.now()
        best: tuple[int, float] | None = None
        for (cp, conn, level), profile in self.profiles.items():
            if (cp, conn) != (charge_point_id, connector_id):
                continue
            schedule = profile.schedule
            lapsed = (
                schedule.start_at is not None
                and schedule.duration_s is not None
                and now >= schedule.start_at + timedelta(seconds=schedule.duration_s)
            )
            if lapsed:
                continue
            if best is None or level > best[0]:
                best = (level, schedule.periods[0].limit)
        return None if best is None else best[1]

    def purposes(self, charge_point_id: int) -> set[ChargingProfilePurpose]:
        return {p.purpose for (cp, _, _), p in self.profiles.items() if cp == charge_point_id}


@dataclass
class MemoryRecorder:
    records: list[DecisionRecord] = field(default_factory=list)

    async def record(self, record: DecisionRecord) -> None:
        self.records.append(record)

    async def history(
        self, group_id: int, since: datetime, until: datetime, max_points: int
    ) -> Sequence[DecisionRecord]:
        return [r for r in self.records if r.group_id == group_id and since <= r.at <= until]
