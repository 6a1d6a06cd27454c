"""Stores accepted readings and status events in batches, off the ingestion path.

Ingestion must answer within milliseconds; a database insert per reading would not keep up
with thousands of readings a second. The writer drains a bounded queue in batches; when the
queue is full, ingestion waits (back-pressure) instead of losing readings silently. A failed
batch is logged and counted, and the writer carries on.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable

from amphub.application.metering._tasks import cancel_and_wait
from amphub.application.metering.ports import AcceptedReading, MeterStatusEvent, ReadingRecorder

_log = logging.getLogger(__name__)

Record = AcceptedReading | MeterStatusEvent


class RecordWriter:
    def __init__(
        self,
        recorder: ReadingRecorder,
        *,
        on_failure: Callable[[], None],
        max_queue: int = 10_000,
        max_batch: int = 500,
    ) -> None:
        self._recorder = recorder
        self._on_failure = on_failure
        self._queue: asyncio.Queue[Record] = asyncio.Queue(max_queue)
        self._max_batch = max_batch
        self._task: asyncio.Task[None] | None = None

    def start(self) -> None:
        if self._task is None:
            self._task = asyncio.create_task(self._run(), name="meter-record-writer")

    async def put(self, record: Record) -> None:
        await self._queue.put(record)

    def put_nowait(self, record: Record) -> bool:
        """Queue without waiting (for synchronous callers); ``False`` if the queue is full."""
        try:
            self._queue.put_nowait(record)
        except asyncio.QueueFull:
            return False
        return True

    async def flush(self) -> None:
        """Wait until everything queued so far has been handed to the recorder."""
        await self._queue.join()

    async def aclose(self, *, timeout_s: float = 10.0) -> None:
        """Write what is queued (waiting at most ``timeout_s``), then stop."""
        if self._task is None:
            return
        try:
            await asyncio.wait_for(self.flush(), timeout_s)
        except TimeoutError:
            _log.error("stopping with %d meter records not stored", self._queue.qsize())
        await cancel_and_wait(self._task)
        self._task = None

    async def _run(self) -> None:
        while True:
            batch = [await self._queue.get()]
            while len(batch) < self._max_batch and not self._queue.empty():
                batch.append(self._queue.get_nowait())
            try:
                await self._write(batch)
            finally:
                for _ in batch:
                    self._queue.task_done()

    async def _write(self, batch: list[Record]) -> None:
        readings = [r for r in batch if isinstance(r, AcceptedReading)]
        events = [r for r in batch if isinstance(r, MeterStatusEvent)]
        try:
            if readings:
                await self._recorder.record_readings(readings)
            if events:
                await self._recorder.record_status_events(events)
        except Exception:
            self._on_failure()
            _log.exception(
                "could not store %d meter readings and %d status events", len(readings), len(events)
            )
