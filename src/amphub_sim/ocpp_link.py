"""One simulated charger's connection to the central system: connect with HTTP Basic auth,
boot, report, keep sending, and reconnect when the connection drops or after a reset.

What is sent is taken from :attr:`SimCharger.outbox` in order and removed only once the
central system has answered, so events that happen while the charger is offline are sent
after it reconnects, with their original timestamps (as real chargers queue them).
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import logging
import random
from collections import deque
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any, Protocol, TypeVar, cast

import websockets
from ocpp.exceptions import OCPPError
from ocpp.routing import after as ocpp_after
from ocpp.routing import on as ocpp_on
from websockets.asyncio.client import ClientConnection

from amphub_sim.charger import Connector, Event, SimCharger

LOGGER = logging.getLogger(__name__)


F = TypeVar("F", bound=Callable[..., Any])


def utc_now() -> datetime:
    return datetime.now(UTC)


def on(action: str) -> Callable[[F], F]:
    """The ``ocpp`` library's ``@on`` route decorator, typed."""
    return cast(Callable[[F], F], ocpp_on(action))


def after(action: str) -> Callable[[F], F]:
    """``@after``: runs once the reply has been sent (e.g. to send a triggered message)."""
    return cast(Callable[[F], F], ocpp_after(action))


class Messenger(Protocol):
    """The version-specific half: an ``ocpp`` ChargePoint that knows the messages."""

    async def start(self) -> None: ...

    async def boot(self, reason: str) -> float:
        """BootNotification; returns the heartbeat interval (s). Raises if not Accepted."""
        ...

    async def heartbeat(self) -> None: ...

    async def statuses(self) -> None:
        """Every connector's status, as after a boot."""
        ...

    async def deliver(self, event: Event) -> None: ...

    async def meter_values(self, connector: Connector) -> None: ...

    async def triggered(self, message: str, connector_id: int | None) -> None: ...


MessengerFactory = Callable[["ChargerLink", ClientConnection], Messenger]


class BootRefused(RuntimeError):
    pass


def basic_auth(identity: str, password: str) -> dict[str, str]:
    token = base64.b64encode(f"{identity}:{password}".encode()).decode()
    return {"Authorization": f"Basic {token}"}


class ChargerLink:
    def __init__(
        self,
        charger: SimCharger,
        endpoint: str,
        password: str,
        factory: MessengerFactory,
        *,
        clock: Callable[[], datetime] = utc_now,
        response_timeout_s: float = 15.0,
    ) -> None:
        self.charger = charger
        self.url = f"{endpoint.rstrip('/')}/{charger.identity}"
        charger.password = password
        self._factory = factory
        self.clock = clock
        self.response_timeout_s = response_timeout_s
        self.connected = False
        self.connected_at: datetime | None = None
        """When the current connection was booted: older events were queued offline."""
        self.connections = 0
        self.last_error = ""
        self.reset_kind: str | None = None
        self.triggers: deque[tuple[str, int | None]] = deque()
        self._wake = asyncio.Event()
        self._stopped = False

    @property
    def subprotocol(self) -> str:
        return f"ocpp{self.charger.config.version}"

    def wake(self) -> None:
        self._wake.set()

    def stop(self) -> None:
        """Leave the loops at their next turn (besides cancelling the task: a cancellation
        that meets a finishing ``wait_for`` inside a library can be lost on Python 3.11)."""
        self._stopped = True
        self.wake()

    def request_reset(self, kind: str) -> None:
        self.reset_kind = kind
        self.wake()

    def trigger(self, message: str, connector_id: int | None) -> None:
        self.triggers.append((message, connector_id))
        self.wake()

    # -- the loop -------------------------------------------------------------------------

    async def run(self) -> None:
        """Stay connected until cancelled."""
        backoff = 0.5
        while not self._stopped:
            try:
                await self._session()
                backoff = 0.5
            except asyncio.CancelledError:
                raise
            except (
                OSError,
                TimeoutError,
                websockets.WebSocketException,
                OCPPError,
                BootRefused,
            ) as error:
                self.last_error = f"{type(error).__name__}: {error}"
                LOGGER.warning("%s: %s", self.charger.identity, self.last_error)
            finally:
                self.connected = False
            await asyncio.sleep(backoff * random.uniform(0.9, 1.1))
            backoff = min(backoff * 2, 10.0)

    async def _session(self) -> None:
        charger = self.charger
        async with websockets.connect(
            self.url,
            subprotocols=[self.subprotocol],  # type: ignore[list-item]
            additional_headers=basic_auth(charger.identity, charger.password),
            open_timeout=10,
            close_timeout=2,
        ) as connection:
            messenger = self._factory(self, connection)
            receiver = asyncio.create_task(messenger.start(), name=f"{charger.identity}-recv")
            try:
                await self._talk(messenger, receiver)
            finally:
                receiver.cancel()
                await asyncio.gather(receiver, return_exceptions=True)

    async def _talk(self, messenger: Messenger, receiver: asyncio.Task[None]) -> None:
        charger = self.charger
        reason = "RemoteReset" if charger.reboots else "PowerUp"
        self.connected_at = self.clock()
        heartbeat_s = await messenger.boot(reason)
        charger.heartbeat_s = heartbeat_s
        self.connected = True
        self.connections += 1
        self.last_error = ""
        await messenger.statuses()
        charger.resume_after_boot(self.clock())
        loop = asyncio.get_running_loop()
        next_heartbeat = loop.time() + heartbeat_s
        next_values = loop.time() + charger.meter_values_s
        while not receiver.done() and not self._stopped:
            while charger.outbox:
                await messenger.deliver(charger.outbox[0])
                charger.outbox.popleft()
            while self.triggers:
                message, connector_id = self.triggers.popleft()
                await messenger.triggered(message, connector_id)
            if self.reset_kind is not None:
                kind, self.reset_kind = self.reset_kind, None
                charger.reboot(
                    self.clock(), "HardReset" if kind in ("Hard", "Immediate") else "SoftReset"
                )
                while charger.outbox:
                    await messenger.deliver(charger.outbox[0])
                    charger.outbox.popleft()
                return  # closing the socket; run() reconnects and boots again
            now = loop.time()
            if now >= next_values:
                next_values = now + charger.meter_values_s
                for connector in charger.connectors.values():
                    if connector.charging_ready:
                        await messenger.meter_values(connector)
            if now >= next_heartbeat:
                next_heartbeat = now + charger.heartbeat_s
                await messenger.heartbeat()
            timeout = max(min(next_values, next_heartbeat) - loop.time(), 0.01)
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(timeout):
                    await self._wake.wait()
            self._wake.clear()
        if receiver.done():
            receiver.result()  # the connection closed: raise what ended it
