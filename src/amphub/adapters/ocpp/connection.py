"""One charger's WebSocket: incoming CALLs handled in order, outgoing CALLs one at a time.

Incoming CALLs are handled one after the other in the receive loop, so a charger's
messages reach the store in the order it sent them; a handler never makes an outgoing
call (that would wait for a reply the loop cannot read). Outgoing calls queue on a FIFO
lock: one CALL in flight, a timeout per call, and every waiter fails with ChargerOffline
as soon as the socket closes. Tasks the connection starts (reading the charger's
capabilities after boot) are owned here: cancelled and awaited when it closes, and a
failure is logged.
"""

from __future__ import annotations

import asyncio
import logging
import uuid
from collections.abc import Callable, Coroutine
from typing import Any, Protocol, TypeVar, cast

from ocpp.routing import on as ocpp_on
from websockets.asyncio.server import ServerConnection
from websockets.exceptions import ConnectionClosed

from amphub.adapters.ocpp.rpc import (
    Call,
    CallError,
    CallResult,
    ErrorKind,
    RpcError,
    Version,
    call_frame,
    call_result_frame,
    parse_frame,
    payload_text,
)
from amphub.adapters.ocpp.schemas import Schemas
from amphub.application.charging.errors import (
    ChargerOffline,
    CommandFailed,
    CommandNotSupported,
    CommandTimedOut,
    NotAccepted,
    StoreUnavailable,
)
from amphub.application.charging.service import ChargerSession
from amphub.domain.errors import InvalidValue

LOGGER = logging.getLogger(__name__)

BOOT_NOTIFICATION = "BootNotification"


HandlerMethod = TypeVar("HandlerMethod", bound=Callable[..., Any])


def on(action: str) -> Callable[[HandlerMethod], HandlerMethod]:
    """The ``ocpp`` library's ``@on`` route decorator, typed."""
    return cast(Callable[[HandlerMethod], HandlerMethod], ocpp_on(action))


_CHECKED_REQUESTS: set[tuple[Version, str, str]] = set()
"""Outgoing payloads already found valid, as written: a fan-out sends the same profile to
many chargers (an equal share), and validating it once is enough."""
_CHECKED_REQUESTS_MAX = 1024


def _expire(future: asyncio.Future[CallResult | CallError]) -> None:
    """A call's timeout: a timer per call (cheaper than a timeout scope per call)."""
    if not future.done():
        future.set_exception(TimeoutError())


class Handlers(Protocol):
    """A version's handlers: ``route_map`` as built by ``ocpp.routing.create_route_map``;
    each handler takes (session, validated payload) and returns the reply payload."""

    route_map: dict[str, dict[str, Any]]


class ChargerConnection:
    def __init__(
        self,
        websocket: ServerConnection,
        session: ChargerSession,
        version: Version,
        handlers: Handlers,
        schemas: Schemas,
        *,
        call_timeout_s: float,
        validate_replies: bool = False,
        on_ready: Callable[[ChargerConnection], Coroutine[Any, Any, None]] | None = None,
    ) -> None:
        self._ws = websocket
        self.session = session
        self.version = version
        self._handlers = handlers
        self._schemas = schemas
        self._call_timeout_s = call_timeout_s
        self._validate_replies = validate_replies
        self._on_ready = on_ready
        self._ready = False
        self._closed = False
        self._call_lock = asyncio.Lock()
        self._pending: tuple[str, asyncio.Future[CallResult | CallError]] | None = None
        self._tasks: set[asyncio.Task[None]] = set()

    @property
    def identity(self) -> str:
        return self.session.identity

    @property
    def charge_point_id(self) -> int | None:
        record = self.session.charge_point
        return None if record is None else record.charge_point_id

    @property
    def is_open(self) -> bool:
        return not self._closed

    # -- lifecycle ---------------------------------------------------------------------------

    async def run(self) -> None:
        """Serve the socket until it closes; then fail pending calls and stop owned tasks."""
        try:
            async for message in self._ws:
                await self._receive(message)
        except ConnectionClosed:
            pass
        finally:
            await self._shut_down()

    async def close(self, code: int, reason: str) -> None:
        await self._ws.close(code, reason)

    def spawn(self, work: Coroutine[Any, Any, None], name: str) -> None:
        task = asyncio.create_task(work, name=f"{self.identity}: {name}")
        self._tasks.add(task)
        task.add_done_callback(self._task_done)

    def _task_done(self, task: asyncio.Task[None]) -> None:
        self._tasks.discard(task)
        if not task.cancelled() and task.exception() is not None:
            LOGGER.error("%s failed", task.get_name(), exc_info=task.exception())

    async def _shut_down(self) -> None:
        self._closed = True
        if self._pending is not None and not self._pending[1].done():
            self._pending[1].set_exception(ChargerOffline(f"{self.identity} disconnected"))
        tasks = list(self._tasks)
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)

    # -- incoming ----------------------------------------------------------------------------

    async def _send(self, text: str) -> None:
        try:
            await self._ws.send(text)
        except ConnectionClosed:
            LOGGER.info("%s: closed before the reply could be sent", self.identity)

    async def _receive(self, message: str | bytes) -> None:
        try:
            frame = parse_frame(message)
        except RpcError as error:
            LOGGER.warning(
                "%s: bad frame (%s): %s", self.identity, error.kind.code(self.version), error.cause
            )
            if error.answerable:
                await self._send(error.frame(self.version))
            return
        if isinstance(frame, Call):
            await self._handle(frame)
        else:
            self._deliver(frame)

    async def _handle(self, call: Call) -> None:
        try:
            reply = await self._dispatch(call)
        except RpcError as error:
            self._log_refusal(call, error.kind, error.cause)
            await self._send(error.frame(self.version))
            return
        await self._send(call_result_frame(call.unique_id, reply))
        if not self._ready and self.session.is_accepted and self._on_ready is not None:
            self._ready = True
            self.spawn(self._on_ready(self), "ready")

    async def _dispatch(self, call: Call) -> dict[str, Any]:
        """Route, gate, validate, handle; every refusal becomes an :class:`RpcError`."""
        uid = call.unique_id
        route = self._handlers.route_map.get(call.action)
        if route is None or "_on_action" not in route:
            if call.action in self._schemas.actions:
                raise RpcError(ErrorKind.NOT_SUPPORTED, f"{call.action} is not handled", uid)
            raise RpcError(ErrorKind.NOT_IMPLEMENTED, f"{call.action} is not an action", uid)
        if call.action != BOOT_NOTIFICATION and not self.session.is_accepted:
            raise RpcError(ErrorKind.SECURITY, "BootNotification not accepted", uid)
        self._schemas.check_request(call.action, call.payload, uid)
        try:
            reply: dict[str, Any] = await route["_on_action"](self.session, call.payload)
        except NotAccepted as error:
            raise RpcError(ErrorKind.SECURITY, str(error), uid) from error
        except InvalidValue as error:
            raise RpcError(ErrorKind.PROPERTY_CONSTRAINT, str(error), uid) from error
        except StoreUnavailable as error:
            LOGGER.error(
                "%s: %s not stored, answered InternalError: %s", self.identity, call.action, error
            )
            raise RpcError(
                ErrorKind.INTERNAL, "the store is unavailable; retry later", uid
            ) from error
        except Exception as error:
            LOGGER.exception("%s: %s failed", self.identity, call.action)
            raise RpcError(ErrorKind.INTERNAL, "", uid) from error
        if self._validate_replies:
            self._schemas.check_response(call.action, reply, uid)
        return reply

    def _log_refusal(self, call: Call, kind: ErrorKind, cause: str) -> None:
        level = logging.ERROR if kind is ErrorKind.INTERNAL else logging.WARNING
        LOGGER.log(
            level,
            "%s: %s refused with %s: %s",
            self.identity,
            call.action,
            kind.code(self.version),
            cause,
        )

    def _deliver(self, frame: CallResult | CallError) -> None:
        pending = self._pending
        if pending is None or pending[0] != frame.unique_id or pending[1].done():
            LOGGER.warning(
                "%s: reply %s matches no call in flight, ignored", self.identity, frame.unique_id
            )
            return
        pending[1].set_result(frame)

    # -- outgoing ----------------------------------------------------------------------------

    async def call(self, action: str, payload: dict[str, Any]) -> dict[str, Any]:
        """Send one CALL and return the charger's validated reply payload."""
        unique_id = str(uuid.uuid4())
        text = payload_text(payload)
        checked = (self.version, action, text)
        if checked not in _CHECKED_REQUESTS:
            try:
                self._schemas.check_request(action, payload, unique_id)
            except RpcError as error:
                raise CommandNotSupported(f"{action}: {error.cause}") from error
            if len(_CHECKED_REQUESTS) >= _CHECKED_REQUESTS_MAX:
                _CHECKED_REQUESTS.clear()
            _CHECKED_REQUESTS.add(checked)
        frame = call_frame(unique_id, action, text)
        async with self._call_lock:
            # Calls made together (a balancing group's fan-out to its chargers) are each
            # prepared above in one pass of the event loop and written here in the next, one
            # right after the other: a burst of writes wakes the chargers' side once rather
            # than once per call (bench/RESULTS.md, dispatch latency). A lone call waits one
            # loop iteration.
            await asyncio.sleep(0)
            if self._closed:
                raise ChargerOffline(f"{self.identity} is not connected")
            loop = asyncio.get_running_loop()
            future: asyncio.Future[CallResult | CallError] = loop.create_future()
            self._pending = (unique_id, future)
            expiry: asyncio.TimerHandle | None = None
            try:
                await self._ws.send(frame)
                expiry = loop.call_later(self._call_timeout_s, _expire, future)
                reply = await future
            except ConnectionClosed as error:
                raise ChargerOffline(f"{self.identity} disconnected") from error
            except TimeoutError as error:
                raise CommandTimedOut(
                    f"{action}: no reply from {self.identity} within {self._call_timeout_s:g} s"
                ) from error
            finally:
                if expiry is not None:
                    expiry.cancel()
                self._pending = None
                if future.done() and not future.cancelled():
                    # A disconnect may fail the future while the send itself failed: mark
                    # its exception as seen, or asyncio logs it as never retrieved.
                    future.exception()
        if isinstance(reply, CallError):
            raise CommandFailed(action, reply.code, reply.description)
        try:
            self._schemas.check_response(action, reply.payload, unique_id)
        except RpcError as error:
            raise CommandFailed(
                action, error.kind.code(self.version), f"invalid reply: {error.cause}"
            ) from error
        return reply.payload
