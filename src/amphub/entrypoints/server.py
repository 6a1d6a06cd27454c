"""Runs amphub's servers in one event loop until Ctrl-C or SIGTERM."""

from __future__ import annotations

import asyncio
import gc
import logging
import signal
import socket
import threading
from collections.abc import Awaitable, Callable
from types import FrameType
from typing import Any

import uvicorn

from amphub.application.ports import Clock
from amphub.bootstrap import Container, build
from amphub.entrypoints.api.app import API_PREFIX
from amphub.entrypoints.api.meter_push import unlog_successful_pushes
from amphub.entrypoints.app import create_app
from amphub.settings import Settings

log = logging.getLogger(__name__)


async def serve(
    settings: Settings,
    *,
    on_ready: Callable[[Container], Awaitable[None]] | None = None,
    sockets: list[socket.socket] | None = None,
    clock: Clock | None = None,
) -> None:
    """Serve until cancelled or signalled. ``sockets``: already bound listening sockets
    (tests bind port 0 and pass the socket, so there is no race for a free port).
    ``clock``: the system clock unless given (tests move time to a slot boundary)."""
    container = build(settings, clock=clock)
    await container.start()
    app = create_app(container)
    config = uvicorn.Config(
        app,
        host=settings.http_host,
        port=settings.http_port,
        log_level=settings.log_level.lower(),
        ssl_certfile=str(settings.ssl_cert) if settings.ssl_cert else None,
        ssl_keyfile=str(settings.ssl_key) if settings.ssl_key else None,
        lifespan="off",
    )
    unlog_successful_pushes(API_PREFIX)  # after uvicorn.Config: it sets up uvicorn's loggers
    server = uvicorn.Server(config)
    sigterm = _SigtermAfterClose(server)
    try:
        http = asyncio.create_task(server.serve(sockets=sockets), name="http")
        while not server.started and not http.done():  # noqa: ASYNC110 - uvicorn has no event
            await asyncio.sleep(0.05)
        if on_ready is not None and server.started:
            await on_ready(container)
        await http
    finally:
        await container.close()
        sigterm.release()


class _SigtermAfterClose:
    """Holds SIGTERM back until the container is closed.

    uvicorn catches SIGTERM to stop serving and then raises it again for the handler that was
    there before. Python's default handler ends the process on the spot, before ``serve``
    closes the container, so the meter readings and charger meter values still queued for
    the database were lost on every ``kill`` (SIGINT is spared: ``asyncio.Runner`` turns it
    into a cancellation). This handler takes the default's place while amphub serves: it
    notes the signal (and stops uvicorn, should the signal beat uvicorn's own handler), and
    ``release`` raises it again for the default once the container is closed. A second
    SIGTERM does not wait. Only the main thread can handle signals; elsewhere it does nothing.
    """

    def __init__(self, server: uvicorn.Server) -> None:
        self._server = server
        self._caught = False
        self._previous: Any = signal.SIG_DFL
        self._installed = threading.current_thread() is threading.main_thread()
        if self._installed:
            previous = signal.signal(signal.SIGTERM, self._note)
            # None: a handler not set from Python; the default is the nearest we can restore
            self._previous = signal.SIG_DFL if previous is None else previous

    def _note(self, _signum: int, _frame: FrameType | None) -> None:
        if self._caught:
            self.release()
            return
        self._caught = True
        self._server.should_exit = True

    def release(self) -> None:
        if not self._installed:
            return
        self._installed = False
        signal.signal(signal.SIGTERM, self._previous)
        if self._caught:
            signal.raise_signal(signal.SIGTERM)


def event_loop_runner() -> asyncio.Runner:
    """uvloop where it is installed (uvicorn[standard] brings it on Linux): the same
    asyncio API, with the socket and timer work in C."""
    try:
        import uvloop
    except ImportError:  # pragma: no cover - platforms without uvloop
        return asyncio.Runner()
    return asyncio.Runner(loop_factory=uvloop.new_event_loop)


GC_YOUNG_THRESHOLD = 20_000
"""Allocations between young collections (CPython's default is 700)."""


def tune_gc() -> None:
    """Collect young objects less often, for a server holding thousands of connections.

    With the default threshold a message's objects (frames, parsed payloads, readings,
    futures) are swept a few times while the message is in flight, survive into the
    oldest generation, and make CPython run full collections over every connection's
    objects: at 10,000 chargers that was ~0.8 s of stopped world each, 18 s of a 70 s run,
    and a quarter of the throughput (bench/RESULTS.md, ocpp_throughput). At 20,000 most
    of them die young, full collections are rare again, and the young generation stays a
    few megabytes. Objects built at start-up are frozen out of collection altogether."""
    gc.collect()
    gc.freeze()
    gc.set_threshold(GC_YOUNG_THRESHOLD, 10, 10)


def run_server(settings: Settings) -> None:
    tune_gc()
    with event_loop_runner() as runner:
        runner.run(serve(settings))
