"""What PowerBank does by itself: the DK2 rule, and the seam for flexibility dispatch.

The DK2 rule (:func:`amphub.domain.powerbank.enrolment.after_placement`) is looked at again
whenever a charge point may newly qualify or stop qualifying: it was registered or edited,
its site's country or bidding zone changed, the operator added a model to the compatibility
list, or the charger booted (brand, model and firmware are stored from BootNotification
before the live state says "booted"). Each charge point is decided in a transaction of its
own, holding its lock, so that a user's stop and the system's enrolment never interleave.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Iterable

from amphub.application.audit import record_change
from amphub.application.charging.live import LiveChargerState, LiveEvent, LiveEventKind
from amphub.application.ports import Clock
from amphub.application.powerbank.common import (
    SYSTEM,
    PowerBankUnitOfWorkFactory,
    end_enrolment,
    enrolment_snapshot,
    load_statuses,
    rules_of,
    scope_of,
    start_enrolment,
)
from amphub.application.powerbank.ports import EnrolledChargePoint
from amphub.application.tenancy import ChargePointsChanged
from amphub.domain.powerbank.eligibility import AUTO_ENROL_ZONES
from amphub.domain.powerbank.enrolment import (
    EnrolmentBasis,
    EnrolmentStart,
    PlacementAction,
    after_placement,
)

LOGGER = logging.getLogger(__name__)


class PowerBankProgramme:
    def __init__(
        self,
        uow_factory: PowerBankUnitOfWorkFactory,
        clock: Clock,
        live: LiveChargerState | None = None,
    ) -> None:
        self._uow = uow_factory
        self._clock = clock
        self._live = live
        self._tasks: set[asyncio.Task[None]] = set()

    # -- the DK2 rule ------------------------------------------------------------------------

    async def charge_points_changed(self, changed: ChargePointsChanged) -> None:
        """A :class:`TenancyService` change listener."""
        ids = list(changed.charge_point_ids)
        if changed.site_ids:
            async with self._uow() as uow:
                ids += await uow.powerbank.charge_point_ids_at_sites(changed.site_ids)
        await self.reconsider(ids)

    async def compatibility_added(self, operator_id: int) -> None:
        """A model joined the list: the operator's DK2 charge points of it may now join."""
        async with self._uow() as uow:
            ids = await uow.powerbank.not_enrolled_in_zones(operator_id, sorted(AUTO_ENROL_ZONES))
        await self.reconsider(ids)

    def live_event(self, event: LiveEvent) -> None:
        """A :class:`LiveChargerState` listener: after a boot, look again from a task of our
        own (listeners must return at once)."""
        if event.kind is not LiveEventKind.BOOTED:
            return
        task = asyncio.get_running_loop().create_task(
            self.reconsider([event.charge_point_id]), name=f"powerbank-{event.charge_point_id}"
        )
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def aclose(self) -> None:
        """Let the look-ups started by boots finish (each is one short transaction)."""
        if self._tasks:
            await asyncio.gather(*self._tasks, return_exceptions=True)

    async def reconsider(self, charge_point_ids: Iterable[int]) -> None:
        """Apply the DK2 rule to each charge point; one failure does not stop the others."""
        for charge_point_id in dict.fromkeys(charge_point_ids):
            try:
                await self._reconsider(charge_point_id)
            except Exception:
                LOGGER.exception("PowerBank: applying the DK2 rule to %s failed", charge_point_id)

    async def _reconsider(self, charge_point_id: int) -> None:
        async with self._uow() as uow:
            await uow.powerbank.lock([charge_point_id])
            charge_point = await uow.charge_points.get(charge_point_id)
            if charge_point is None:
                return
            status = (await load_statuses(uow, SYSTEM, [charge_point]))[0]
            decision = after_placement(status.facts, await rules_of(uow, charge_point.operator_id))
            scope = scope_of(charge_point)
            now = self._clock.now()
            if decision.action is PlacementAction.ENROL:
                terms = await uow.powerbank.current_terms(charge_point.operator_id)
                start = EnrolmentStart(
                    charge_point_id=charge_point_id,
                    basis=EnrolmentBasis.AUTOMATIC,
                    at=now,
                    by_user_id=None,
                    by=SYSTEM.name,
                    terms_version=terms.version if terms else None,
                    terms_accepted_at=None,
                    facility_id=status.facts.facility_id,
                    note=decision.reason,
                )
                await start_enrolment(uow, SYSTEM, scope, start, withdraws_opt_out=False)
            elif decision.action is PlacementAction.END and status.enrolment is not None:
                await end_enrolment(uow, SYSTEM, status.enrolment, now, decision.reason)
                await record_change(
                    uow,
                    now,
                    SYSTEM,
                    scope=scope,
                    action="powerbank.end",
                    object_type="charge_point",
                    object_id=charge_point_id,
                    old=enrolment_snapshot(status.enrolment),
                    new={"reason": decision.reason},
                )
            else:
                return
            await uow.commit()

    # -- the dispatch seam ---------------------------------------------------------------------

    async def enrolled_by_bidding_zone(self, bidding_zone: str) -> list[EnrolledChargePoint]:
        """Every charge point enrolled now at a site in the zone, with its connectors and the
        power it draws now (from the live state of connected chargers), for the flexibility
        dispatch to aggregate."""
        async with self._uow() as uow:
            placements = await uow.powerbank.enrolled_in_zone(bidding_zone.strip().upper())
        result = []
        for placement in placements:
            live = self._live.charge_point(placement.charge_point_id) if self._live else None
            readings = (
                [c for c in live.connectors if c.connector_id in placement.connector_ids]
                if live is not None and live.connected
                else []
            )
            powers = [c.power_w for c in readings if c.power_w is not None]
            times = [c.measured_at for c in readings if c.measured_at is not None]
            result.append(
                EnrolledChargePoint(
                    charge_point_id=placement.charge_point_id,
                    operator_id=placement.operator_id,
                    site_id=placement.site_id,
                    connector_ids=placement.connector_ids,
                    power_w=sum(powers) if powers else None,
                    measured_at=max(times) if times else None,
                )
            )
        return result
