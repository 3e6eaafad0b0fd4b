"""Pacing requests under a platform's rate limit: a token bucket.

Backfill after a start reads one history page per open thread, and there can be a
thousand of them. Discord allows a bot 50 requests per second in all (its global limit),
Slack's ``conversations.replies`` about 50 a minute per workspace; going over earns 429s
and, on Discord, repeated 429s a temporary ban. So backfill takes a token before each
request: at most ``burst`` at once, then ``rate`` per second, leaving the rest of the
limit to commands, reminders and ✅s, which are not paced.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable


class Pace:
    """At most ``burst`` takes at once and ``rate`` per second on average after that.

    In any window of ``t`` seconds there are at most ``burst + rate * t`` takes. A take
    reserves its token at once (the count may go below zero) and sleeps until that token
    is due, so waiters are served in order with no lock: each wait is a plain timer, which
    a simulated clock (SimCord's) can fire. ``clock`` and ``sleep`` are replaceable so
    tests need no real time.
    """

    def __init__(
        self,
        rate: float,
        burst: int,
        *,
        clock: Callable[[], float] | None = None,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
    ) -> None:
        if rate <= 0 or burst < 1:
            raise ValueError("a pace needs a positive rate and a burst of at least 1")
        self.rate, self.burst = rate, burst
        # time.monotonic looked up at each call, not bound now: a simulator (SimCord) that
        # replaces it with its virtual clock, which its timers follow, is then agreed with.
        self._clock = clock or (lambda: time.monotonic())
        self._sleep = sleep
        self._tokens = float(burst)
        self._at = self._clock()
        self.taken = 0  # how many requests were let through (benchmarks read it)

    async def take(self) -> None:
        """Wait until one more request fits, then count it."""
        now = self._clock()
        # Never less than nothing: a clock that steps back (SimCord's virtual monotonic is
        # in force only while it advances time) would otherwise owe days of tokens.
        elapsed = max(0.0, now - self._at)
        self._tokens = min(self.burst, self._tokens + elapsed * self.rate) - 1
        self._at = now
        self.taken += 1
        if self._tokens < 0:  # this token comes due once the ones reserved before it have
            await self._sleep(-self._tokens / self.rate)
