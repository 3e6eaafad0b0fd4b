"""Backfill after a restart runs in the background, paced; the tick waits for it per round.

A round whose thread hasn't been read back yet gets no reminders, notes, pairs or
closing: what members wrote while Praxis was away isn't stored yet. New rounds are
posted on time regardless. The backfill is held per thread here by wrapping the core
function it starts each thread with in a wait the test releases (SimCord's
``external_wait``); discord.py loads the cog's module afresh at each start, so the core's
functions are the place to hook.
"""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

import pytest

from bot.core import reflections as core_reflections
from bot.core.unread import Unread
from bot.pacing import Pace
from tests.helpers import create_cohort, restart, tick_at

FIRST_SLOT = datetime(2026, 1, 5, 9, 0, tzinfo=UTC)  # Monday; reflections due Thu 09:00
REFLECT_REMINDER = FIRST_SLOT + timedelta(hours=72 - 24)  # Wednesday 09:00
FEEDBACK_DUE = FIRST_SLOT + timedelta(hours=144)


def words(n: int) -> str:
    return " ".join(["practice"] * n)


def dm_titles(member) -> list[str]:
    channel = member.user.dm_channel
    return [m.embeds[0].title for m in channel.history() if m.embeds] if channel else []


async def go_down(world) -> None:
    """The bot stops receiving messages: what members post now is missed."""
    world.bot.message_handlers.clear()


def hold_backfill(monkeypatch, env, thread_id: int) -> asyncio.Event:
    """Backfill reads every thread but ``thread_id`` until the returned event is set."""
    release = asyncio.Event()
    original = core_reflections.last_seen_message

    async def held(db, ctx):
        if ctx.round.thread_id == thread_id and not release.is_set():
            await env.external_wait(release.wait(), reason="the test holds this thread")
        return await original(db, ctx)

    monkeypatch.setattr(core_reflections, "last_seen_message", held)
    return release


async def reflection_rows(world, author_id: int) -> int:
    return await world.db.fetch_value(
        "SELECT COUNT(*) FROM posts WHERE author_id = ? AND kind = 'reflection'", (author_id,)
    )


async def test_a_round_waits_for_its_thread_to_be_read_back(world, settings, bots, monkeypatch):
    await create_cohort(world, "Autumn", min_words=20)
    spring = world.guild.create_text_channel("spring")
    await create_cohort(world, "Spring", channel=spring, weekday="wednesday", min_words=20)
    await tick_at(world, FIRST_SLOT)
    [thread] = world.channel.threads
    ada, ben = world.members[:2]

    await go_down(world)
    written = await ada.send(thread, words(40))  # while Praxis is away
    release = hold_backfill(monkeypatch, world.env, thread.id)
    bot = await restart(world.env, settings, bots)
    assert await reflection_rows(world, ada.id) == 0, "not read back yet"

    report = await tick_at(world, REFLECT_REMINDER)
    assert dm_titles(ada) == [] and dm_titles(ben) == [], "the round waits for its thread"
    assert report.held and report.nudges.by_dm == []
    assert len(spring.threads) == 1, "a new round is posted on time all the same"
    answer = await ben.slash(world.channel, "me progress")  # commands answer meanwhile
    assert answer.ephemeral and "Autumn" in answer.response.embeds[0].description

    release.set()
    await world.env.settle()
    assert not bot.unread.pending
    await tick_at(world, REFLECT_REMINDER + timedelta(minutes=1))
    assert dm_titles(ada) == [], "her reflection was stored before anyone was nudged"
    assert dm_titles(ben) == ["A gentle reminder"]
    assert await reflection_rows(world, ada.id) == 1
    assert any(m.id == written.id and m.reactions for m in thread.history())


async def test_a_held_round_is_not_closed_until_read_back(world, settings, bots, monkeypatch):
    await create_cohort(world, "Autumn", min_words=20)
    await tick_at(world, FIRST_SLOT)
    [thread] = world.channel.threads
    await go_down(world)
    release = hold_backfill(monkeypatch, world.env, thread.id)
    bot = await restart(world.env, settings, bots)

    report = await tick_at(world, FEEDBACK_DUE + timedelta(minutes=1))
    assert report.rounds.closed == [] and report.assigned == []
    release.set()
    await world.env.settle()
    report = await bot.tick(world.env.now())
    assert report.rounds.closed and not report.held


async def test_shutdown_during_backfill_cancels_it_and_a_restart_reads_the_rest(
    world, settings, bots, monkeypatch
):
    await create_cohort(world, "Autumn", min_words=20)
    await tick_at(world, FIRST_SLOT)
    [thread] = world.channel.threads
    ada = world.members[0]
    await go_down(world)
    written = await ada.send(thread, words(40))
    with pytest.MonkeyPatch.context() as held:  # not `monkeypatch`: it also picks the database
        hold_backfill(held, world.env, thread.id)
        bot = await restart(world.env, settings, bots)
        cog = bot.get_cog("Reflections")
        task = cog.catching_up
        assert task is not None and not task.done()

        await bot.unload_extension("cogs.reflections")  # what close() does first
        assert task.cancelled()
        assert await reflection_rows(world, ada.id) == 0

    await restart(world.env, settings, bots)
    assert await reflection_rows(world, ada.id) == 1
    assert any(m.id == written.id and m.reactions for m in thread.history())


async def test_a_page_being_stored_is_finished_when_backfill_is_cancelled(
    world, settings, bots, monkeypatch
):
    await create_cohort(world, "Autumn", min_words=20)
    await tick_at(world, FIRST_SLOT)
    [thread] = world.channel.threads
    ada = world.members[0]
    await go_down(world)
    written = await ada.send(thread, words(40))
    release = asyncio.Event()
    original = core_reflections.ingest_batch

    async def slow_store(db, items):
        if not release.is_set():
            await world.env.external_wait(release.wait(), reason="the test holds the store")
        return await original(db, items)

    monkeypatch.setattr(core_reflections, "ingest_batch", slow_store)
    bot = await restart(world.env, settings, bots)
    cog = bot.get_cog("Reflections")
    await cog.stop_catch_up()  # cancelled while its page waits to be stored
    release.set()
    await cog.settle()
    assert await reflection_rows(world, ada.id) == 1, "the page was stored whole"
    assert any(m.id == written.id and m.reactions for m in thread.history())


async def test_backfill_keeps_to_its_pace():
    """Burst, then the rate: at most burst + rate × t requests in any t seconds."""
    clock = [0.0]
    waits = []

    async def sleep(seconds: float) -> None:
        waits.append(seconds)
        clock[0] += seconds

    pace = Pace(40.0, 5, clock=lambda: clock[0], sleep=sleep)
    times = []
    for _ in range(105):
        await pace.take()
        times.append(clock[0])
    assert waits[:1] == [pytest.approx(0.025)] and len(waits) == 100
    for i, start in enumerate(times):
        within_a_second = [t for t in times[i:] if t < start + 1.0]
        assert len(within_a_second) <= 45
    assert times[-1] == pytest.approx(2.5)


async def test_a_clock_that_steps_back_owes_no_tokens():
    """SimCord's virtual monotonic is in force only while it advances time; read outside,
    the real one can be days behind, and the pace must not make its caller wait them."""
    clock = [378_000.0]
    waits = []

    async def sleep(seconds: float) -> None:
        waits.append(seconds)

    pace = Pace(5.0, 20, clock=lambda: clock[0], sleep=sleep)
    await pace.take()
    clock[0] = 68_000.0
    for _ in range(19):
        await pace.take()
    assert waits == [], "the burst is still there"


async def test_unread_holds_a_platform_until_its_list_is_known():
    unread = Unread()
    assert not unread.pending
    unread.loading("discord")
    assert unread.pending
    unread.waiting("discord", [1, 2])
    unread.read(1)
    assert unread.pending
    unread.waiting("discord", [])  # started over or gave up: the new list replaces the old
    assert not unread.pending
