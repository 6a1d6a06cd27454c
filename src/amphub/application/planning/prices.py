"""Day-ahead prices: fetched from each site's source, cached in the store and in memory.

The planner reads prices from memory only (no I/O while planning). ``refresh`` asks a
provider for yesterday to the day after tomorrow, upserts what it gets and tells listeners
when the zone's prices changed, so plans follow a new publication (Nordic day-ahead results
come out around 13:00 CET). A failing source is logged and retried at the next refresh; what
is cached keeps serving. ``run`` refreshes every zone in use on a fixed interval.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Mapping
from datetime import datetime, timedelta

from amphub.application.planning.ports import PriceProvider, PriceStore, PriceUnavailable
from amphub.application.ports import Clock
from amphub.domain.planning.tariffs import PricePoint

LOGGER = logging.getLogger(__name__)
BEHIND = timedelta(days=1)
AHEAD = timedelta(days=2)

ZonesInUse = Callable[[], Awaitable[Mapping[str, str]]]
"""Bidding zone → the price source its sites use."""


class PriceService:
    def __init__(
        self, store: PriceStore, providers: Mapping[str, PriceProvider], clock: Clock
    ) -> None:
        self._store = store
        self._providers = providers
        self._clock = clock
        self._memory: dict[str, dict[datetime, PricePoint]] = {}
        self._listeners: list[Callable[[str], None]] = []

    def add_listener(self, listener: Callable[[str], None]) -> None:
        """Told the zone whose prices changed."""
        self._listeners.append(listener)

    def known(self, zone: str, start: datetime, end: datetime) -> list[PricePoint]:
        """From memory: the zone's prices for delivery in [start, end)."""
        points = self._memory.get(zone, {})
        return sorted((p for at, p in points.items() if start <= at < end), key=lambda p: p.start)

    async def load(self, zone: str) -> None:
        """Fill memory from the store (at start-up: a restart needs no source to plan)."""
        now = self._clock.now()
        points = await self._store.prices(zone, now - BEHIND, now + AHEAD)
        self._remember(zone, points)

    async def refresh(self, zone: str, source: str) -> bool:
        """Fetch, store, remember; True if the zone's prices changed."""
        provider = self._providers.get(source)
        if provider is None:
            LOGGER.warning("no price provider %r (zone %s)", source, zone)
            return False
        now = self._clock.now()
        day = now.replace(hour=0, minute=0, second=0, microsecond=0)
        try:
            points = await provider.day_ahead(zone, day - BEHIND, day + AHEAD + BEHIND)
        except PriceUnavailable as error:
            LOGGER.warning("prices for %s from %s: %s", zone, source, error)
            return False
        await self._store.put_prices(points, source, now)
        changed = self._remember(zone, points)
        if changed:
            for listener in self._listeners:
                try:
                    listener(zone)
                except Exception:
                    LOGGER.exception("price listener failed")
        return changed

    def _remember(self, zone: str, points: list[PricePoint]) -> bool:
        memory = self._memory.setdefault(zone, {})
        changed = False
        for point in points:
            if memory.get(point.start) != point:
                memory[point.start] = point
                changed = True
        horizon = self._clock.now() - BEHIND
        for at in [at for at, p in memory.items() if p.end < horizon]:
            del memory[at]
        return changed

    async def run(self, zones: ZonesInUse, every: timedelta = timedelta(minutes=30)) -> None:
        """Refresh every zone in use, forever (cancel to stop)."""
        loaded: set[str] = set()
        while True:
            try:
                for zone, source in (await zones()).items():
                    if zone not in loaded:
                        await self.load(zone)
                        loaded.add(zone)
                    if source != "none":
                        await self.refresh(zone, source)
            except asyncio.CancelledError:
                raise
            except Exception:
                LOGGER.exception("price refresh failed")
            await asyncio.sleep(every.total_seconds())
