"""Group concurrent work into one call, so one transaction can carry many messages.

No background worker: the first caller to find nothing in flight becomes the flusher,
yields once so that callers arriving at the same moment join its batch, and processes
batches until none are left. Every caller awaits its own result, so nothing downstream
(a ✅, a reply) happens before the batch that holds its item has committed.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Generic, TypeVar

T = TypeVar("T")
R = TypeVar("R")


class Batcher(Generic[T, R]):
    def __init__(self, process: Callable[[list[T]], Awaitable[list[R]]], max_batch: int = 500):
        self._process = process
        self._max_batch = max_batch
        self._pending: list[tuple[T, asyncio.Future[R]]] = []
        self._flushing = False

    async def submit(self, item: T) -> R:
        future: asyncio.Future[R] = asyncio.get_running_loop().create_future()
        self._pending.append((item, future))
        if not self._flushing:
            await self._flush()
        return await future

    async def _flush(self) -> None:
        self._flushing = True
        try:
            await asyncio.sleep(0)  # let callers arriving in the same moment join the batch
            while self._pending:
                batch = self._pending[: self._max_batch]
                del self._pending[: self._max_batch]
                await self._run(batch)
        finally:
            self._flushing = False
            if self._pending:  # the flusher was cancelled: hand the rest to a new flusher
                asyncio.get_running_loop().create_task(self._flush())

    async def _run(self, batch: list[tuple[T, asyncio.Future[R]]]) -> None:
        try:
            results = await self._process([item for item, _ in batch])
        except BaseException as error:
            for _, future in batch:
                if not future.done():
                    future.set_exception(error)
            if not isinstance(error, Exception):
                raise
            return
        for (_, future), result in zip(batch, results, strict=True):
            if not future.done():
                future.set_result(result)
