"""Waiting for a condition with a deadline: how tests synchronise, never with fixed sleeps."""

from __future__ import annotations

import asyncio
import inspect
from collections.abc import Awaitable, Callable


async def eventually(
    predicate: Callable[[], bool | Awaitable[bool]], timeout_s: float = 10.0, poll_s: float = 0.02
) -> None:
    """Return as soon as ``predicate()`` holds; fail after ``timeout_s``."""
    async with asyncio.timeout(timeout_s):
        while True:
            result = predicate()
            if inspect.isawaitable(result):
                result = await result
            if result:
                return
            await asyncio.sleep(poll_s)
