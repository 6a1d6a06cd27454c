"""Adaptive charging as one object for the bootstrap: configuration, prices, schedule caps
and the price planner, wired to each other, with their background tasks owned here."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field

from amphub.application.charging.live import LiveChargerState
from amphub.application.planning.configuration import PlanningConfiguration
from amphub.application.planning.planner import BuildingLoad, PricePlanner, TransactionLookup
from amphub.application.planning.ports import (
    PlanningUnitOfWork,
    PriceProvider,
    PriceStore,
    Solver,
)
from amphub.application.planning.prices import PriceService
from amphub.application.planning.schedule_caps import ScheduleCaps
from amphub.application.ports import Clock

LOGGER = logging.getLogger(__name__)


@dataclass
class AdaptiveCharging:
    uow_factory: Callable[[], PlanningUnitOfWork]
    configuration: PlanningConfiguration
    prices: PriceService
    schedules: ScheduleCaps
    """A cap source for the balancer."""
    planner: PricePlanner
    """A cap source for the balancer."""
    _tasks: list[asyncio.Task[None]] = field(default_factory=list)

    @classmethod
    def build(
        cls,
        uow_factory: Callable[[], PlanningUnitOfWork],
        price_store: PriceStore,
        providers: Mapping[str, PriceProvider],
        solver: Solver,
        live: LiveChargerState,
        transactions: TransactionLookup,
        clock: Clock,
        building_load: BuildingLoad | None = None,
    ) -> AdaptiveCharging:
        def active_transaction(charge_point_id: int, connector_id: int) -> int | None:
            connector = live.connector(charge_point_id, connector_id)
            return None if connector is None else connector.transaction_id

        prices = PriceService(price_store, providers, clock)
        schedules = ScheduleCaps(uow_factory)
        planner = PricePlanner(
            uow_factory, prices, solver, live, transactions, clock, building_load
        )
        configuration = PlanningConfiguration(uow_factory, clock, active_transaction)
        configuration.add_listener(schedules)
        configuration.add_listener(planner)
        return cls(uow_factory, configuration, prices, schedules, planner)

    async def zones_in_use(self) -> dict[str, str]:
        """Bidding zone → price source of the sites that have a tariff (the first site's
        source wins where two sites of a zone name different ones)."""
        zones: dict[str, str] = {}
        async with self.uow_factory() as uow:
            for stored in await uow.planning.tariffs():
                site = await uow.sites.get(stored.site_id)
                if site is not None and stored.price_source != "none":
                    zones.setdefault(site.spec.bidding_zone, stored.price_source)
        return zones

    async def start(self) -> None:
        await self.schedules.load()
        for zone in await self.zones_in_use():
            await self.prices.load(zone)
        await self.planner.start()
        loop = asyncio.get_running_loop()
        self._tasks = [
            loop.create_task(self.prices.run(self.zones_in_use), name="price-refresh"),
            loop.create_task(self.planner.run(), name="replan"),
        ]
        for task in self._tasks:
            task.add_done_callback(_log_failure)

    async def stop(self) -> None:
        for task in self._tasks:
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        self._tasks = []
        await self.planner.stop()


def _log_failure(task: asyncio.Task[None]) -> None:
    if not task.cancelled() and task.exception() is not None:
        LOGGER.error("%s stopped", task.get_name(), exc_info=task.exception())
