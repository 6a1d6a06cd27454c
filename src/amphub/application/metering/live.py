"""The latest valid reading of every meter, in memory, for the balancer.

Ingestion writes here synchronously as soon as a reading is accepted (before it is stored),
so a balancing controller sees it within microseconds. Controllers either poll
``latest()`` on their own cycle or subscribe and run on every reading.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from amphub.application.metering.ports import Clock, utc_now
from amphub.domain.metering import MeterReading, MeterStatus, StatusTransition

_log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class LiveReading:
    meter_id: int
    site_id: int
    reading: MeterReading
    received_at: datetime


ReadingListener = Callable[[LiveReading], None]
StatusListener = Callable[[int, StatusTransition], None]


class Subscription:
    """Readings as they are accepted, for one meter or all; a bounded queue that drops the
    oldest reading when the consumer falls behind (only the newest matters to a balancer).

    Use as a context manager or call ``close()`` to unsubscribe.
    """

    def __init__(self, owner: LiveMeterState, meter_id: int | None, maxsize: int) -> None:
        self._owner = owner
        self.meter_id = meter_id
        self._queue: asyncio.Queue[LiveReading] = asyncio.Queue(maxsize)
        self.dropped = 0

    def _offer(self, live: LiveReading) -> None:
        if self._queue.full():
            self._queue.get_nowait()
            self.dropped += 1
        self._queue.put_nowait(live)

    async def get(self) -> LiveReading:
        return await self._queue.get()

    def get_nowait(self) -> LiveReading | None:
        return None if self._queue.empty() else self._queue.get_nowait()

    def __aiter__(self) -> Subscription:
        return self

    async def __anext__(self) -> LiveReading:
        return await self.get()

    def close(self) -> None:
        self._owner._unsubscribe(self)

    def __enter__(self) -> Subscription:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()


class LiveMeterState:
    def __init__(self, clock: Clock = utc_now) -> None:
        self._clock = clock
        self._latest: dict[int, LiveReading] = {}
        self._status: dict[int, MeterStatus] = {}
        self._subscriptions: list[Subscription] = []
        self._listeners: list[ReadingListener] = []
        self._status_listeners: list[StatusListener] = []

    def latest(self, meter_id: int) -> tuple[MeterReading, timedelta] | None:
        """The newest live reading and its age (time since we received it), or ``None``.

        The balancer compares the age with the meter timeout (or reads ``status``) and
        falls back to fail-safe amps when it is too old.
        """
        live = self._latest.get(meter_id)
        if live is None:
            return None
        return live.reading, self._clock() - live.received_at

    def latest_live(self, meter_id: int) -> LiveReading | None:
        return self._latest.get(meter_id)

    def status(self, meter_id: int) -> MeterStatus:
        return self._status.get(meter_id, MeterStatus.NEVER_SEEN)

    def subscribe(self, meter_id: int | None = None, *, maxsize: int = 16) -> Subscription:
        """Readings of ``meter_id`` (or of every meter) from now on."""
        subscription = Subscription(self, meter_id, maxsize)
        self._subscriptions.append(subscription)
        return subscription

    def add_listener(self, listener: ReadingListener) -> Callable[[], None]:
        """Call ``listener`` inline on every accepted reading; returns the remover. Keep it
        short: it runs inside ingestion."""
        self._listeners.append(listener)
        return lambda: self._listeners.remove(listener)

    def add_status_listener(self, listener: StatusListener) -> Callable[[], None]:
        self._status_listeners.append(listener)
        return lambda: self._status_listeners.remove(listener)

    def publish(self, live: LiveReading) -> None:
        """Make ``live`` the meter's latest reading and tell everyone listening."""
        self._latest[live.meter_id] = live
        for subscription in self._subscriptions:
            if subscription.meter_id is None or subscription.meter_id == live.meter_id:
                subscription._offer(live)
        for listener in tuple(self._listeners):
            try:
                listener(live)
            except Exception:  # a listener's bug must not stop ingestion
                _log.exception("meter reading listener %r failed", listener)

    def set_status(
        self, meter_id: int, status: MeterStatus, transition: StatusTransition | None
    ) -> None:
        self._status[meter_id] = status
        if transition is None:
            return
        for listener in tuple(self._status_listeners):
            try:
                listener(meter_id, transition)
            except Exception:
                _log.exception("meter status listener %r failed", listener)

    def forget(self, meter_id: int) -> None:
        """Drop a deleted meter."""
        self._latest.pop(meter_id, None)
        self._status.pop(meter_id, None)

    def _unsubscribe(self, subscription: Subscription) -> None:
        if subscription in self._subscriptions:
            self._subscriptions.remove(subscription)
