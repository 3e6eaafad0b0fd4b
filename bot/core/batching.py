"""Group work arriving at the same moment into one call, so one transaction carries many items.

``put`` queues an item and returns at once with a future for its result; the first item
to arrive while nothing is queued starts one flush task, which yields to the event loop
for as long as the queue keeps growing (up to ``gather_turns`` turns: the gateway hands a
burst over one message per turn), so the burst joins its batch, then processes batches
until none are left. A lone item waits one turn, as before.
So a burst of messages costs one task and one commit per batch, not one per message,
and nothing downstream of a result (a ✅, a reply) can happen before its batch committed.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from typing import Generic, TypeVar

log = logging.getLogger(__name__)

T = TypeVar("T")
R = TypeVar("R")


class Batcher(Generic[T, R]):
    def __init__(
        self,
        process: Callable[[list[T]], Awaitable[list[R]]],
        max_batch: int = 500,
        gather_turns: int = 100,
    ):
        self._process = process
        self._max_batch = max_batch
        self._gather_turns = gather_turns
        self._pending: list[tuple[T, asyncio.Future[R] | None]] = []
        self._flusher: asyncio.Task | None = None

    def put(self, item: T) -> asyncio.Future[R]:
        """Queue ``item``; the future resolves once the batch holding it has been processed."""
        future: asyncio.Future[R] = asyncio.get_running_loop().create_future()
        self._queue(item, future)
        return future

    def push(self, item: T) -> None:
        """Queue ``item`` for a caller that never waits for its result: no future to make
        and resolve for each of a burst's thousands of items."""
        self._queue(item, None)

    def _queue(self, item: T, future: asyncio.Future[R] | None) -> None:
        self._pending.append((item, future))
        if self._flusher is None:
            self._flusher = asyncio.get_running_loop().create_task(self._flush())

    async def drain(self) -> None:
        """Wait until everything queued so far has been processed (shutdown, benchmarks)."""
        while self._flusher is not None:
            await asyncio.shield(self._flusher)

    async def _flush(self) -> None:
        try:
            await self._gather()
            while self._pending:
                batch = self._pending[: self._max_batch]
                del self._pending[: self._max_batch]
                await self._run(batch)
        except asyncio.CancelledError:  # shutting down: what is left was never processed
            for _, future in self._pending:
                if future is not None:
                    future.cancel()
            self._pending.clear()
            raise
        finally:
            self._flusher = None

    async def _gather(self) -> None:
        """Yield while items keep arriving, so a burst becomes one batch, one commit."""
        seen = 0
        for _ in range(self._gather_turns):
            if len(self._pending) == seen or len(self._pending) >= self._max_batch:
                return
            seen = len(self._pending)
            await asyncio.sleep(0)

    async def _run(self, batch: list[tuple[T, asyncio.Future[R] | None]]) -> None:
        futures = [future for _, future in batch]
        try:
            results = await self._process([item for item, _ in batch])
        except Exception as error:
            if None in futures:  # a pushed item: nobody else would hear of it
                log.exception("A batch of %d failed", len(batch))
            for future in futures:
                if future is not None and not future.done():
                    future.set_exception(error)
            return
        except BaseException:
            for future in futures:
                if future is not None:
                    future.cancel()
            raise
        for future, result in zip(futures, results, strict=True):
            if future is not None and not future.done():
                future.set_result(result)
