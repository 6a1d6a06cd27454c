"""Helpers for the portal's browser tests: Debian's chromium driven by Playwright (one browser
per test module), a page that fails the test on any script error, screenshots under
test-output/portal/, and an event loop in a thread for the simulated site's chargers and
meter while the browser is driven synchronously."""

from __future__ import annotations

import asyncio
import contextlib
import threading
from collections.abc import Callable, Coroutine, Iterator
from concurrent.futures import Future
from pathlib import Path
from typing import Any, TypeVar

import httpx
import pytest
from playwright.sync_api import Browser, BrowserContext, Page, sync_playwright

from tests.integration.api.conftest import PASSWORD, login
from tests.support.live import LiveServer

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
SCREENSHOTS = Path(__file__).parents[2] / "test-output" / "portal"
T = TypeVar("T")


@contextlib.contextmanager
def chromium() -> Iterator[Browser]:
    if not CHROMIUM.exists():
        pytest.fail("the portal tests drive Debian's chromium: apt-get install -y chromium")
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        try:
            yield browser
        finally:
            browser.close()


class Portal:
    """One person's browser tab on the portal."""

    def __init__(self, context: BrowserContext, base_url: str) -> None:
        self.context = context
        self.base_url = base_url
        self.page: Page = context.new_page()
        self.page.set_default_timeout(15_000)
        self.errors: list[str] = []
        self.page.on("pageerror", lambda error: self.errors.append(str(error)))
        self.page.on(
            "console",
            lambda message: self.errors.append(message.text) if message.type == "error" else None,
        )

    def goto(self, path: str) -> Page:
        self.page.goto(self.base_url + path)
        self.ready()
        return self.page

    def ready(self) -> None:
        """Wait until the page's script has loaded its data and wired its forms."""
        self.page.wait_for_selector("body[data-ready]", state="attached")

    def log_in(self, email: str, password: str = PASSWORD) -> None:
        self.page.goto(self.base_url + "/login")
        self.page.fill("input[name=email]", email)
        self.page.fill("input[name=password]", password)
        self.page.click("button[type=submit]")
        self.page.wait_for_url("**/sites")
        self.ready()

    def shot(self, name: str) -> Path:
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        path = SCREENSHOTS / f"{name}.png"
        self.page.screenshot(path=str(path), full_page=True)
        return path

    def expect_no_script_errors(self, *allowed: str) -> None:
        """Fail on any script error; ``allowed`` are expected failed requests (e.g. a 422)."""
        unexpected = [e for e in self.errors if not any(word in e for word in allowed)]
        assert not unexpected, unexpected
        self.errors.clear()


@contextlib.contextmanager
def portal(browser: Browser, server: LiveServer, email: str) -> Iterator[Portal]:
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    context.grant_permissions(["clipboard-read", "clipboard-write"], origin=server.base_url)
    try:
        tab = Portal(context, server.base_url)
        tab.log_in(email)
        yield tab
    finally:
        context.close()


class BackgroundLoop:
    """An asyncio loop in a thread: the chargers and the meter run there while the test
    drives the browser from the main thread."""

    def __init__(self) -> None:
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self.loop.run_forever, name="site", daemon=True)
        self.thread.start()

    def run(self, work: Coroutine[Any, Any, T], timeout_s: float = 30) -> T:
        return asyncio.run_coroutine_threadsafe(work, self.loop).result(timeout_s)

    def start(self, work: Coroutine[Any, Any, T]) -> Future[T]:
        return asyncio.run_coroutine_threadsafe(work, self.loop)

    def call(self, function: Callable[[], None]) -> None:
        self.loop.call_soon_threadsafe(function)

    def close(self) -> None:
        async def cancel_all() -> None:
            tasks = [t for t in asyncio.all_tasks() if t is not asyncio.current_task()]
            for task in tasks:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)

        self.run(cancel_all())
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(10)
        self.loop.close()


@contextlib.contextmanager
def api_client(server: LiveServer, email: str) -> Iterator[httpx.Client]:
    """A machine's view of the same server, to arrange and to check what the portal did."""
    with httpx.Client(base_url=server.base_url, timeout=30) as client:
        client.headers["Authorization"] = f"Bearer {login(client, email)}"
        yield client
