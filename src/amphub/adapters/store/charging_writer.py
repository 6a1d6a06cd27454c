"""Group commit for meter values: many chargers' MeterValues in one database transaction.

MeterValues is by far the most frequent OCPP message. Committing each one alone costs
about a millisecond on SQLite, which caps a gateway near 800 messages/s. Here every caller
still waits until *its* rows are committed (write before you answer), but the rows of all
callers that arrive while a commit is running go into the next commit together. Under
light load a batch is one message and nothing waits longer than before; under heavy load
the commit cost is shared.

A batch that fails is retried message by message, so one bad message (say, for a charge
point deleted a moment ago) fails alone, and an unreachable database fails every caller
with :class:`StoreUnavailable` as before. The writer task is owned by this object:
:meth:`close` stops it and fails whatever still waits.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Sequence
from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from amphub.application.charging.errors import StoreUnavailable
from amphub.domain.charging import MeterReading

LOGGER = logging.getLogger(__name__)


@dataclass
class MeterValuesWrite:
    charge_point_id: int
    connector_id: int
    transaction_ref: str | None
    readings: Sequence[MeterReading]
    received_at: datetime
    done: asyncio.Future[int | None] = field(
        default_factory=lambda: asyncio.get_running_loop().create_future()
    )


WriteBatch = Callable[[AsyncSession, Sequence[MeterValuesWrite]], Awaitable[list[int | None]]]
"""Writes a batch in the given session (without committing); returns each write's
transaction id."""


class MeterValuesWriter:
    def __init__(
        self,
        session: Callable[[], AbstractAsyncContextManager[AsyncSession]],
        write_batch: WriteBatch,
        max_batch: int = 500,
    ) -> None:
        self._session = session
        self._write_batch = write_batch
        self._max_batch = max_batch
        self._queue: asyncio.Queue[MeterValuesWrite] = asyncio.Queue()
        self._task: asyncio.Task[None] | None = None

    async def write(self, request: MeterValuesWrite) -> int | None:
        if self._task is None or self._task.done():
            self._task = asyncio.create_task(self._run(), name="meter values writer")
        self._queue.put_nowait(request)
        return await request.done

    async def close(self) -> None:
        if self._task is not None:
            self._task.cancel()
            await asyncio.gather(self._task, return_exceptions=True)
            self._task = None
        while not self._queue.empty():
            self._fail(self._queue.get_nowait(), StoreUnavailable("the store is closing"))

    @staticmethod
    def _fail(request: MeterValuesWrite, error: BaseException) -> None:
        if not request.done.done():
            request.done.set_exception(error)

    async def _run(self) -> None:
        while True:
            batch = [await self._queue.get()]
            while len(batch) < self._max_batch and not self._queue.empty():
                batch.append(self._queue.get_nowait())
            try:
                await self._commit(batch)
            except asyncio.CancelledError:
                for request in batch:
                    self._fail(request, StoreUnavailable("the store is closing"))
                raise
            except Exception as error:
                if len(batch) == 1:
                    self._fail(batch[0], error)
                    continue
                LOGGER.warning(
                    "a batch of %d meter values failed (%s): one by one", len(batch), error
                )
                for request in batch:
                    await self._commit_alone(request)

    async def _commit(self, batch: Sequence[MeterValuesWrite]) -> None:
        async with self._session() as session:
            transaction_ids = await self._write_batch(session, batch)
            await session.commit()
        for request, transaction_id in zip(batch, transaction_ids, strict=True):
            if not request.done.done():
                request.done.set_result(transaction_id)

    async def _commit_alone(self, request: MeterValuesWrite) -> None:
        try:
            await self._commit([request])
        except Exception as error:
            self._fail(request, error)
