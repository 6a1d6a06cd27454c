"""Owning background tasks: stop them without swallowing our own cancellation."""

from __future__ import annotations

import asyncio
import logging

_log = logging.getLogger(__name__)


async def cancel_and_wait(task: asyncio.Task[None]) -> None:
    """Cancel ``task`` and wait for it to end; log it if it had failed meanwhile.

    ``asyncio.wait`` (unlike awaiting the task inside ``suppress(CancelledError)``) lets a
    cancellation of the caller itself propagate.
    """
    task.cancel()
    await asyncio.wait({task})
    if not task.cancelled() and task.exception() is not None:
        _log.error("task %s had failed", task.get_name(), exc_info=task.exception())
