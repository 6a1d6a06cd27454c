"""Runs exactly one controller per load balancing group in this process, and wakes it.

Wiring: meter readings wake the controllers whose group uses that meter; charger events
(connected, status, meter values) wake the controller of that charger's group; a group's
configuration change reloads (or starts, or stops) its controller. Every task is owned here
and cancelled by :meth:`stop`.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Sequence

from amphub.application.balancing.config import all_group_ids, load_group
from amphub.application.balancing.controller import (
    ControllerSettings,
    CycleView,
    GroupController,
)
from amphub.application.balancing.ports import CapSource, DecisionRecorder
from amphub.application.charging.live import LiveChargerState, LiveEvent, LiveEventKind
from amphub.application.charging.ports import ChargerCommander
from amphub.application.metering import LiveMeterState, LiveReading
from amphub.application.ports import Clock
from amphub.application.uow import UnitOfWorkFactory

LOGGER = logging.getLogger(__name__)


class BalancingService:
    def __init__(
        self,
        uow_factory: UnitOfWorkFactory,
        meters: LiveMeterState,
        chargers: LiveChargerState,
        commander: ChargerCommander,
        recorder: DecisionRecorder,
        clock: Clock,
        settings: ControllerSettings | None = None,
        cap_sources: Sequence[CapSource] = (),
    ) -> None:
        self._cap_sources = list(cap_sources)
        self._uow = uow_factory
        self._meters = meters
        self._chargers = chargers
        self._commander = commander
        self.recorder = recorder
        self._clock = clock
        self._settings = settings or ControllerSettings()
        self._controllers: dict[int, GroupController] = {}
        # Who hears what: a site with many groups gets a reading or a charger's event per
        # message, so these are looked up, not scanned; rebuilt when a group is (re)loaded.
        self._by_meter: dict[int, list[GroupController]] = {}
        self._by_charge_point: dict[int, list[GroupController]] = {}
        self._tasks: dict[int, asyncio.Task[None]] = {}
        self._reloads: set[asyncio.Task[None]] = set()
        self._unsubscribe: list[Callable[[], None]] = []
        self._running = False

    def add_cap_source(self, source: CapSource) -> None:
        """Before start(): schedules, plans and curtailment register here."""
        self._cap_sources.append(source)

    # -- lifecycle ------------------------------------------------------------------------

    async def start(self) -> None:
        self._running = True
        for group_id in await all_group_ids(self._uow):
            await self.reload(group_id)
        self._unsubscribe.append(self._meters.add_listener(self._on_reading))
        self._unsubscribe.append(self._chargers.subscribe(self._on_charger))

    async def stop(self) -> None:
        self._running = False
        for unsubscribe in self._unsubscribe:
            unsubscribe()
        self._unsubscribe.clear()
        tasks = [*self._tasks.values(), *self._reloads]
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        self._tasks.clear()
        self._controllers.clear()
        self._reindex()

    # -- configuration ----------------------------------------------------------------------

    def group_changed(self, group_id: int) -> None:
        """A GroupService listener: reload soon, from a task of our own. Outside a running
        server (the CLI) there are no controllers to tell."""
        if not self._running:
            return
        task = asyncio.get_running_loop().create_task(
            self.reload(group_id), name=f"reload-{group_id}"
        )
        self._reloads.add(task)
        task.add_done_callback(self._reload_done)

    def _reload_done(self, task: asyncio.Task[None]) -> None:
        self._reloads.discard(task)
        if not task.cancelled() and task.exception() is not None:
            LOGGER.error("reloading a group failed", exc_info=task.exception())

    async def reload(self, group_id: int) -> None:
        loaded = await load_group(self._uow, group_id)
        controller = self._controllers.get(group_id)
        if loaded is None:
            if controller is not None:
                await self._stop_controller(group_id)
            return
        if controller is not None:
            controller.reconfigure(loaded)
            self._reindex()
            return
        controller = GroupController(
            loaded, self._meters, self._chargers, self._commander, self.recorder, self._clock,
            self._settings, self._cap_sources,
        )  # fmt: skip
        self._controllers[group_id] = controller
        self._reindex()
        self._tasks[group_id] = asyncio.get_running_loop().create_task(
            controller.run(), name=f"balancing-group-{group_id}"
        )
        controller.wake()

    async def _stop_controller(self, group_id: int) -> None:
        self._controllers.pop(group_id, None)
        self._reindex()
        task = self._tasks.pop(group_id, None)
        if task is not None:
            task.cancel()
            await asyncio.gather(task, return_exceptions=True)

    # -- events -----------------------------------------------------------------------------

    def _reindex(self) -> None:
        self._by_meter.clear()
        self._by_charge_point.clear()
        for controller in self._controllers.values():
            if controller.meter_id is not None:
                self._by_meter.setdefault(controller.meter_id, []).append(controller)
            for charge_point_id in controller.charge_point_ids:
                self._by_charge_point.setdefault(charge_point_id, []).append(controller)

    def _on_reading(self, live: LiveReading) -> None:
        for controller in self._by_meter.get(live.meter_id, ()):
            controller.wake()

    def _on_charger(self, event: LiveEvent) -> None:
        for controller in self._by_charge_point.get(event.charge_point_id, ()):
            if event.kind is LiveEventKind.CONNECTED:
                controller.charger_connected(event.charge_point_id)
            elif event.kind is LiveEventKind.DISCONNECTED:
                controller.charger_disconnected(event.charge_point_id)
            elif event.kind is LiveEventKind.METER:
                controller.wake_soon()
            elif event.kind in (
                LiveEventKind.STATUS, LiveEventKind.TRANSACTION, LiveEventKind.BOOTED,
                LiveEventKind.CAPABILITIES,
            ):  # fmt: skip
                controller.wake()

    # -- reading --------------------------------------------------------------------------

    def view(self, group_id: int) -> CycleView | None:
        controller = self._controllers.get(group_id)
        return None if controller is None else controller.view

    def controller(self, group_id: int) -> GroupController | None:
        return self._controllers.get(group_id)
