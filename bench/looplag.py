"""A loop-lag probe: how long the event loop was kept from running a ready task.

A probe task sleeps ``interval`` seconds over and over; each wake-up's lateness (how much
later than asked it ran) is one sample. A handler that holds the loop for 200 ms shows
as a 200 ms sample, whatever thread or process did the real work. Shared by the benches
and by the tests that guard the loop, so both measure the same thing::

    async with LoopLag() as lag:
        await work()
    lag.max, lag.p99  # seconds
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from types import TracebackType


class LoopLag:
    def __init__(self, interval: float = 0.002) -> None:
        self.interval = interval
        self.samples: list[float] = []
        self._task: asyncio.Task[None] | None = None
        self._asked = 0.0

    async def __aenter__(self) -> LoopLag:
        self._task = asyncio.create_task(self._probe())
        await asyncio.sleep(0)  # let the probe take its first step
        return self

    async def __aexit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        trace: TracebackType | None,
    ) -> None:
        assert self._task is not None
        # A stall still going on when the work ends (the probe hasn't woken yet) counts too.
        self.samples.append(max(0.0, time.perf_counter() - self._asked - self.interval))
        self._task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await self._task

    async def _probe(self) -> None:
        clock = time.perf_counter
        while True:
            self._asked = clock()
            await asyncio.sleep(self.interval)
            self.samples.append(max(0.0, clock() - self._asked - self.interval))

    @property
    def max(self) -> float:
        return max(self.samples, default=0.0)

    @property
    def p99(self) -> float:
        if not self.samples:
            return 0.0
        ordered = sorted(self.samples)
        return ordered[min(len(ordered) - 1, int(len(ordered) * 0.99))]

    def __str__(self) -> str:
        return f"max {self.max * 1000:.0f} ms, p99 {self.p99 * 1000:.0f} ms"
