"""Runs amphub's servers in one event loop until Ctrl-C or SIGTERM."""

from __future__ import annotations

import asyncio
import logging
import socket
from collections.abc import Awaitable, Callable

import uvicorn

from amphub.application.ports import Clock
from amphub.bootstrap import Container, build
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
    server = uvicorn.Server(config)
    try:
        http = asyncio.create_task(server.serve(sockets=sockets), name="http")
        while not server.started and not http.done():  # noqa: ASYNC110 - uvicorn has no event
            await asyncio.sleep(0.05)
        if on_ready is not None and server.started:
            await on_ready(container)
        await http
    finally:
        await container.close()


def event_loop_runner() -> asyncio.Runner:
    """uvloop where it is installed (uvicorn[standard] brings it on Linux): the same
    asyncio API, with the socket and timer work in C."""
    try:
        import uvloop
    except ImportError:  # pragma: no cover - platforms without uvloop
        return asyncio.Runner()
    return asyncio.Runner(loop_factory=uvloop.new_event_loop)


def run_server(settings: Settings) -> None:
    with event_loop_runner() as runner:
        runner.run(serve(settings))
