"""A real amphub server on an ephemeral port, in a thread with its own event loop, so tests
talk to it over a socket exactly as clients do."""

from __future__ import annotations

import asyncio
import contextlib
import socket
import threading
from collections.abc import Awaitable, Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from amphub.adapters.store.database import migrate
from amphub.application.ports import Clock
from amphub.bootstrap import Container
from amphub.entrypoints.server import serve
from amphub.settings import Settings

TEST_SECRET = "test-secret-key-0123456789abcdef-0123456789"


def bound_socket() -> socket.socket:
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    sock.listen(128)
    return sock


def make_settings(database: Path, **overrides: Any) -> Settings:
    values: dict[str, Any] = {
        "database_url": f"sqlite+aiosqlite:///{database}",
        "secret_key": TEST_SECRET,
        "fast_hashing": True,
        "log_level": "WARNING",
        "ocpp_port": 0,
        "fetch_prices": False,  # tests talk to 127.0.0.1 only
    }
    values.update(overrides)
    return Settings(**values)


@dataclass
class LiveServer:
    base_url: str
    settings: Settings
    container: Container
    loop: asyncio.AbstractEventLoop
    stop: Callable[[], None]
    """Stop the server now (as if killed between two cycles); idempotent."""

    def call(self, work: Callable[[Container], Awaitable[Any]]) -> Any:
        """Run a coroutine on the server's own loop (e.g. to seed through its services)."""
        return asyncio.run_coroutine_threadsafe(work(self.container), self.loop).result(30)


@contextlib.contextmanager
def live_server(
    settings: Settings, *, migrate_first: bool = True, clock: Clock | None = None
) -> Iterator[LiveServer]:
    if migrate_first:
        migrate(settings.database_url)
    sock = bound_socket()
    port = sock.getsockname()[1]
    ready = threading.Event()
    holder: dict[str, Any] = {}

    async def on_ready(container: Container) -> None:
        holder["container"] = container
        holder["loop"] = asyncio.get_running_loop()
        ready.set()

    async def main() -> None:
        holder["task"] = asyncio.current_task()
        await serve(settings, on_ready=on_ready, sockets=[sock], clock=clock)

    def run() -> None:
        with contextlib.suppress(asyncio.CancelledError):
            asyncio.run(main())

    thread = threading.Thread(target=run, name="amphub-live", daemon=True)
    thread.start()
    if not ready.wait(30):
        raise RuntimeError("amphub did not start within 30 s")
    loop: asyncio.AbstractEventLoop = holder["loop"]

    def stop() -> None:
        if thread.is_alive():
            loop.call_soon_threadsafe(holder["task"].cancel)
            thread.join(30)

    try:
        yield LiveServer(f"http://127.0.0.1:{port}", settings, holder["container"], loop, stop)
    finally:
        stop()
        sock.close()
