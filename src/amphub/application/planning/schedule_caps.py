"""Weekly schedules as caps for the balancer: outside its windows a connector gets 0.

Schedules and the sites' time zones are held in memory (loaded at start, updated by the
configuration service's listener), so :meth:`caps` does no I/O on the balancing cycle.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from datetime import datetime

from amphub.application.planning.ports import PlanningUnitOfWork
from amphub.domain.balancing.model import ConnectorKey, ExternalCap
from amphub.domain.planning.schedule import Schedule

REASON = "schedule"


class ScheduleCaps:
    """A :class:`~amphub.application.balancing.ports.CapSource` and a
    :class:`~amphub.application.planning.configuration.PlanningListener`."""

    def __init__(self, uow_factory: Callable[[], PlanningUnitOfWork]) -> None:
        self._uow = uow_factory
        self._schedules: dict[int, Schedule] = {}
        self._zones: dict[int, str] = {}
        """Charge point → its site's time zone."""

    async def load(self) -> None:
        async with self._uow() as uow:
            schedules = await uow.planning.schedules()
            zones = {}
            for schedule in schedules:
                zone = await self._zone(uow, schedule.charge_point_id)
                if zone is not None:
                    zones[schedule.charge_point_id] = zone
        self._schedules = {s.charge_point_id: s for s in schedules if s.charge_point_id in zones}
        self._zones = zones

    @staticmethod
    async def _zone(uow: PlanningUnitOfWork, charge_point_id: int) -> str | None:
        charge_point = await uow.charge_points.get(charge_point_id)
        if charge_point is None:
            return None
        site = await uow.sites.get(charge_point.site_id)
        return None if site is None else site.spec.time_zone

    # -- CapSource ------------------------------------------------------------------------

    def caps(
        self, group_id: int, keys: Sequence[ConnectorKey], now: datetime
    ) -> Mapping[ConnectorKey, ExternalCap]:
        found: dict[ConnectorKey, ExternalCap] = {}
        for key in keys:
            charge_point_id = int(key.charge_point_id)
            schedule = self._schedules.get(charge_point_id)
            if schedule is None:
                continue
            cap = schedule.cap_a(key.connector_id, now, self._zones[charge_point_id])
            if cap is not None:
                found[key] = ExternalCap(cap, REASON)
        return found

    # -- PlanningListener -----------------------------------------------------------------

    def schedule_changed(
        self, charge_point_id: int, schedule: Schedule | None, time_zone: str
    ) -> None:
        if schedule is None:
            self._schedules.pop(charge_point_id, None)
            return
        self._zones[charge_point_id] = time_zone
        self._schedules[charge_point_id] = schedule

    def needs_changed(self, charge_point_id: int) -> None:
        """Schedules do not depend on needs."""

    def tariff_changed(self, site_id: int) -> None:
        """Schedules do not depend on tariffs."""
