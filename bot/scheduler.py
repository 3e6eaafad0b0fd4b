"""APScheduler only wakes the bot; the database decides what is due.

Two jobs, both calling ``tick(now)``: a one-shot wake-up at the next instant the core
says something is due, and a periodic reconcile as a safety net. The job store is in
memory on purpose: on start-up the plan is derived from the database again, so a
restart can neither lose nor double anything.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta
from typing import Any

from apscheduler.schedulers.asyncio import AsyncIOScheduler

log = logging.getLogger(__name__)

MISFIRE_GRACE_SECONDS = 6 * 3600  # a late tick is still worth running; tick() decides what is due
WAKE_JOB = "praxis-wake"
RECONCILE_JOB = "praxis-reconcile"

TickFn = Callable[[datetime], Awaitable[Any]]


class TickScheduler:
    def __init__(self, tick: TickFn, reconcile_seconds: int) -> None:
        self._tick = tick
        self._reconcile_seconds = reconcile_seconds
        self._stopped = False
        self._scheduler = AsyncIOScheduler(
            timezone=UTC,
            job_defaults={"misfire_grace_time": MISFIRE_GRACE_SECONDS, "coalesce": True},
        )

    def start(self) -> None:
        """Start jobs; the first reconcile runs at once so start-up catches up straight away."""
        self._scheduler.start()
        self._scheduler.add_job(
            self._run,
            "interval",
            seconds=self._reconcile_seconds,
            id=RECONCILE_JOB,
            next_run_time=datetime.now(UTC),
            max_instances=1,
        )

    def wake_at(self, moment: datetime | None) -> None:
        """(Re)plan the one-shot wake-up; ``None`` leaves only the reconcile job."""
        if self._stopped or not self._scheduler.running:
            return
        if moment is None:
            if self._scheduler.get_job(WAKE_JOB):
                self._scheduler.remove_job(WAKE_JOB)
            return
        self._scheduler.add_job(
            self._run, "date", run_date=moment, id=WAKE_JOB, replace_existing=True
        )

    def wake_soon(self) -> None:
        self.wake_at(datetime.now(UTC) + timedelta(seconds=1))

    def jobs(self) -> dict[str, datetime | None]:
        return {job.id: job.next_run_time for job in self._scheduler.get_jobs()}

    def shutdown(self) -> None:
        """Idempotent: APScheduler's asyncio scheduler only stops on the next loop turn."""
        if not self._stopped and self._scheduler.running:
            self._scheduler.shutdown(wait=False)
        self._stopped = True

    async def _run(self) -> None:
        try:
            await self._tick(datetime.now(UTC))
        except Exception:
            log.exception("Scheduled tick failed; the next reconcile will try again")
