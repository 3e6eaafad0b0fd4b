"""The real TickScheduler: APScheduler on the running loop, with real (short) waits."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Callable
from datetime import UTC, datetime, timedelta

import pytest_asyncio
import simcord

from bot.app import create_bot
from bot.config import Settings
from bot.core import rounds
from bot.scheduler import RECONCILE_JOB, WAKE_JOB, TickScheduler
from tests.helpers import create_cohort, tick_at
from tests.test_reflections import FIRST_SLOT

RECONCILE_SECONDS = 3600  # long enough that only the immediate first reconcile runs in a test


async def wait_until(condition: Callable[[], bool], within: float = 1.5) -> None:
    """Poll ``condition`` on the running loop; fail the test if it stays false."""
    deadline = asyncio.get_running_loop().time() + within
    while not condition():
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError(f"condition not met within {within} s")
        await asyncio.sleep(0.01)


class Recorder:
    def __init__(self, fail_first: int = 0) -> None:
        self.calls: list[datetime] = []
        self.fail_first = fail_first

    async def __call__(self, now: datetime) -> None:
        self.calls.append(now)
        if len(self.calls) <= self.fail_first:
            raise RuntimeError("tick blew up")


@pytest_asyncio.fixture
async def recorder() -> Recorder:
    return Recorder()


@pytest_asyncio.fixture
async def scheduler(recorder: Recorder) -> AsyncIterator[TickScheduler]:
    sched = TickScheduler(recorder, RECONCILE_SECONDS)
    try:
        yield sched
    finally:
        sched.shutdown()
        await asyncio.sleep(0)  # AsyncIOScheduler shuts down on the next loop iteration


async def test_reconcile_runs_at_once_with_utc_now(scheduler: TickScheduler, recorder: Recorder):
    before = datetime.now(UTC)
    scheduler.start()

    await wait_until(lambda: len(recorder.calls) >= 1)

    now = recorder.calls[0]
    assert now.tzinfo is not None
    assert now.utcoffset() == timedelta(0)
    assert before - timedelta(seconds=0.5) <= now <= datetime.now(UTC)
    jobs = scheduler.jobs()
    assert set(jobs) == {RECONCILE_JOB}
    next_reconcile = jobs[RECONCILE_JOB]
    assert next_reconcile is not None
    expected = before + timedelta(seconds=RECONCILE_SECONDS)
    assert abs(next_reconcile - expected) < timedelta(seconds=5)
    await asyncio.sleep(0.1)
    assert len(recorder.calls) == 1  # once, not once per loop iteration


async def test_wake_at_runs_the_tick_again(scheduler: TickScheduler, recorder: Recorder):
    scheduler.start()
    await wait_until(lambda: len(recorder.calls) == 1)

    moment = datetime.now(UTC) + timedelta(seconds=0.3)
    scheduler.wake_at(moment)

    assert scheduler.jobs()[WAKE_JOB] == moment
    await asyncio.sleep(0.1)
    assert len(recorder.calls) == 1  # not before it is due
    await wait_until(lambda: len(recorder.calls) == 2)
    assert recorder.calls[1] >= moment
    assert recorder.calls[1] - moment < timedelta(seconds=1)
    assert WAKE_JOB not in scheduler.jobs()  # a one-shot job is gone once it ran
    assert RECONCILE_JOB in scheduler.jobs()


async def test_wake_at_replaces_and_none_removes(scheduler: TickScheduler, recorder: Recorder):
    scheduler.start()
    first = datetime.now(UTC) + timedelta(hours=1)
    second = datetime.now(UTC) + timedelta(hours=2)

    scheduler.wake_at(first)
    scheduler.wake_at(second)
    assert scheduler.jobs()[WAKE_JOB] == second

    scheduler.wake_at(None)
    assert set(scheduler.jobs()) == {RECONCILE_JOB}
    scheduler.wake_at(None)  # nothing planned: still fine
    assert set(scheduler.jobs()) == {RECONCILE_JOB}


async def test_shutdown_stops_pending_wake_ups_and_is_idempotent(
    scheduler: TickScheduler, recorder: Recorder
):
    scheduler.start()
    await wait_until(lambda: len(recorder.calls) == 1)
    scheduler.wake_at(datetime.now(UTC) + timedelta(seconds=0.15))

    scheduler.shutdown()
    await asyncio.sleep(0.3)

    assert len(recorder.calls) == 1
    scheduler.shutdown()
    scheduler.shutdown()
    scheduler.wake_at(datetime.now(UTC) + timedelta(seconds=0.05))  # ignored once stopped
    await asyncio.sleep(0.1)
    assert len(recorder.calls) == 1


async def test_shutdown_twice_in_a_row_raises_nothing_in_the_loop(recorder: Recorder):
    errors: list[dict] = []
    loop = asyncio.get_running_loop()
    previous = loop.get_exception_handler()
    loop.set_exception_handler(lambda _loop, context: errors.append(context))
    try:
        sched = TickScheduler(recorder, RECONCILE_SECONDS)
        sched.start()
        sched.shutdown()
        sched.shutdown()
        await asyncio.sleep(0.05)
    finally:
        loop.set_exception_handler(previous)

    assert errors == []


async def test_failing_tick_is_logged_and_later_runs_still_happen(caplog):
    recorder = Recorder(fail_first=1)
    sched = TickScheduler(recorder, RECONCILE_SECONDS)
    try:
        with caplog.at_level(logging.ERROR, logger="bot.scheduler"):
            sched.start()
            await wait_until(lambda: len(recorder.calls) == 1)
            await wait_until(
                lambda: any(r.name == "bot.scheduler" for r in caplog.records), within=0.5
            )

            sched.wake_at(datetime.now(UTC) + timedelta(seconds=0.1))
            await wait_until(lambda: len(recorder.calls) == 2)
    finally:
        sched.shutdown()
        await asyncio.sleep(0)

    failures = [r for r in caplog.records if r.name == "bot.scheduler"]
    assert len(failures) == 1
    assert failures[0].levelno == logging.ERROR
    assert "tick failed" in failures[0].getMessage()
    assert failures[0].exc_info is not None
    assert isinstance(failures[0].exc_info[1], RuntimeError)


async def test_the_bot_starts_its_scheduler_once_ready_and_stops_it_on_close(tmp_path):
    bot = create_bot(Settings(database_path=tmp_path / "praxis.db", reconcile_seconds=60))
    async with simcord.run(bot):
        assert bot.scheduler is not None, "started at ready, when the servers are cached"
        assert RECONCILE_JOB in bot.scheduler.jobs()
    await bot.close()
    assert bot.scheduler is None and bot._db is None


async def test_a_wake_up_planned_in_the_past_from_inside_a_tick_is_dropped(
    scheduler: TickScheduler, recorder: Recorder
):
    """Why the tick never plans one (``run_tick`` puts work due but left 30 s ahead):
    APScheduler skips a wake-up that is due while its own job still runs, and then
    nothing is planned until the reconcile."""
    scheduler.start()
    await wait_until(lambda: len(recorder.calls) == 1)

    async def plans_the_past(now: datetime) -> None:
        recorder.calls.append(now)
        scheduler.wake_at(now - timedelta(seconds=5))

    scheduler._tick = plans_the_past
    scheduler.wake_at(datetime.now(UTC) + timedelta(seconds=0.1))
    await wait_until(lambda: len(recorder.calls) == 2)
    await asyncio.sleep(0.3)
    assert len(recorder.calls) == 2 and set(scheduler.jobs()) == {RECONCILE_JOB}


async def test_work_due_but_left_by_a_tick_is_looked_at_again_in_30_s(world, monkeypatch):
    """A tick whose closing step failed leaves an open round past its deadline; its next
    wake-up goes 30 s ahead, not to that deadline in the past."""
    await create_cohort(world, "Autumn", min_words=50)
    await tick_at(world, FIRST_SLOT)

    async def cannot_close(*args, **kwargs):
        raise RuntimeError("closing failed")

    monkeypatch.setattr(rounds, "close_finished", cannot_close)
    later = FIRST_SLOT + timedelta(days=8)  # round 1's deadlines are long past
    report = await tick_at(world, later)
    assert report.failed_steps == ["close rounds"]
    assert report.next_due == later + timedelta(seconds=30)
