"""A full disk or a read-only database: said once, nothing lost, resumed by itself.

SQLite's own limits stand in for the machine's: ``PRAGMA max_page_count`` makes every
write that needs a new page fail with SQLITE_FULL, exactly as a full disk does, and
``PRAGMA query_only`` makes every write fail with SQLITE_READONLY, as a read-only file
does. Both go through the real connection, so the whole stack sees the real errors.
"""

from __future__ import annotations

import logging
import sqlite3
from datetime import timedelta

import pytest
from simcord import assert_error

from bot.core.errors import StorageUnavailable
from tests.helpers import create_cohort, private_channel, refuse_writes, tick_at
from tests.test_reflections import FIRST_SLOT, fresh, has_ack, posts, words

NO_LIMIT = 1_073_741_823  # SQLite's default max_page_count


async def fill_disk(world) -> None:
    """No new pages from now on: what a full disk means to SQLite."""
    used = await world.db.fetch_value("PRAGMA page_count")
    await world.db.fetch_value(f"PRAGMA max_page_count = {used}")


async def free_disk(world) -> None:
    await world.db.fetch_value(f"PRAGMA max_page_count = {NO_LIMIT}")


async def cohort_with_digest_channel(world):
    staff_room = private_channel(world)  # digests name members: learners must not read them
    await create_cohort(world, "Autumn", min_words=50)
    await world.admin.slash(world.channel, "cohort edit", name="Autumn", digest_channel=staff_room)
    return staff_room


def notices(channel) -> list[str]:
    return [m.embeds[0].title for m in channel.history() if m.embeds]


@pytest.mark.sqlite_only("SQLite's max_page_count stands in for a full disk")
async def test_full_disk_is_told_once_and_thread_messages_are_read_back(world, caplog):
    staff_room = await cohort_with_digest_channel(world)
    await tick_at(world, FIRST_SLOT)
    [thread] = world.channel.threads
    caplog.set_level(logging.INFO)

    await fill_disk(world)
    # Like a real full disk, a write that fits in space already allocated still works;
    # three long reflections can't all fit.
    long_reflection = words(190, "unhurried")
    sent = [await member.send(thread, long_reflection) for member in world.members[:3]]
    acked = [has_ack(fresh(thread, message.id)) for message in sent]
    assert not all(acked)
    refused = [m.id for m, ok in zip(sent, acked, strict=True) if not ok]
    assert not set(refused) & set(await posts(world)), "no ✅ without a stored row"

    await tick_at(world, FIRST_SLOT + timedelta(minutes=5))
    assert notices(staff_room) == ["Praxis can't save right now"]
    said = [r.getMessage() for r in caplog.records if r.levelno >= logging.ERROR]
    assert any("the disk is full" in line for line in said)
    assert not any("unhurried" in r.getMessage() for r in caplog.records), "no text in logs"

    await tick_at(world, FIRST_SLOT + timedelta(minutes=10))  # still full: said only once
    assert notices(staff_room) == ["Praxis can't save right now"]
    assert not set(refused) & set(await posts(world))

    await free_disk(world)
    await tick_at(world, FIRST_SLOT + timedelta(minutes=15))
    assert notices(staff_room) == ["Praxis can't save right now", "Praxis is saving again"]
    stored = await posts(world)
    assert set(stored) == {m.id for m in sent}, "every message stored, once"
    assert all(stored[m.id]["text"] == long_reflection for m in sent)
    assert all(has_ack(fresh(thread, m.id)) for m in sent)
    assert await world.db.integrity_ok()


async def test_read_only_database_holds_the_round_and_posts_it_once_writable(world):
    staff_room = await cohort_with_digest_channel(world)
    await refuse_writes(world.db)

    report = await tick_at(world, FIRST_SLOT)
    assert report.storage_problem is not None
    assert report.next_due == FIRST_SLOT + timedelta(minutes=1), "retried soon, not in 5 min"
    assert world.channel.threads == [], "nothing posted that could not be recorded"
    assert notices(staff_room) == ["Praxis can't save right now"]
    card = next(m for m in staff_room.history() if m.embeds).embeds[0]
    assert "read-only" in card.description

    await tick_at(world, FIRST_SLOT + timedelta(minutes=1))
    assert notices(staff_room) == ["Praxis can't save right now"]

    answer = await world.admin.slash(world.channel, "cohort pause", name="Autumn")
    assert answer.ephemeral
    read_only = {"sqlite": "file", "postgresql": "server"}[world.db.dialect]
    assert f"can't save anything right now (the database {read_only} is read-only)" in (
        answer.response.content
    )
    assert_error(world.env, StorageUnavailable)
    assert await world.db.fetch_value("SELECT paused FROM cohorts") == 0
    shown = await world.admin.slash(world.channel, "cohort show", name="Autumn")
    [banner] = shown.followups
    assert banner.ephemeral and "can't save to its database" in banner.embeds[0].description

    await refuse_writes(world.db, False)
    await tick_at(world, FIRST_SLOT + timedelta(minutes=2))
    assert len(world.channel.threads) == 1, "the round is posted late, once"
    assert notices(staff_room) == ["Praxis can't save right now", "Praxis is saving again"]
    await tick_at(world, FIRST_SLOT + timedelta(minutes=3))
    assert len(world.channel.threads) == 1
    state = await world.db.fetch_value("SELECT state FROM rounds")
    assert state == "posted"


async def test_without_a_digest_channel_facilitators_are_told_by_dm(world):
    await create_cohort(world, "Autumn")
    await refuse_writes(world.db)
    await tick_at(world, FIRST_SLOT)
    dm = world.facilitator.user.dm_channel
    assert dm is not None
    [message] = [m for m in dm.history() if m.embeds]
    assert message.embeds[0].title == "Praxis can't save right now"
    for member in world.members:
        assert not (member.user.dm_channel and list(member.user.dm_channel.history()))
    await refuse_writes(world.db, False)
    await tick_at(world, FIRST_SLOT + timedelta(minutes=1))


async def test_a_form_the_database_refuses_is_taken_down_and_its_text_kept(world):
    await create_cohort(world, "Autumn", min_words=50)
    await tick_at(world, FIRST_SLOT)
    [thread] = world.channel.threads
    [prompt] = [m for m in world.channel.history() if m.author.bot and m.embeds]
    ada = world.members[0]
    text = words(60, "steady")

    await refuse_writes(world.db)
    shown = await ada.click(prompt, label="Write reflection")
    refused = await ada.submit_modal(shown, {"section_0": text})
    assert refused.ephemeral and "can't save anything right now" in refused.response.content
    assert not [m for m in thread.history() if m.author.bot and m.embeds], "taken down"

    await refuse_writes(world.db, False)
    reopened = await ada.click(refused.response, label="Open my text again")
    assert text in str(reopened.modal), "the form comes back with their text"
    done = await ada.submit_modal(reopened, {"section_0": text})
    assert "Your reflection is posted" in done.response.content
    assert [p["word_count"] for p in (await posts(world)).values()] == [60]


async def test_a_deletion_the_database_refused_still_reaches_the_stored_text(world):
    await create_cohort(world, "Autumn", min_words=50)
    await tick_at(world, FIRST_SLOT)
    [thread] = world.channel.threads
    ada = world.members[0]
    message = await ada.send(thread, words(60, "tender"))
    assert (await posts(world))[message.id]["text"]

    await refuse_writes(world.db)
    await ada.delete(message)
    assert (await posts(world))[message.id]["text"], "refused for now"
    await tick_at(world, FIRST_SLOT + timedelta(minutes=1))

    await refuse_writes(world.db, False)
    await tick_at(world, FIRST_SLOT + timedelta(minutes=2))
    stored = (await posts(world))[message.id]
    assert stored["text"] is None and stored["deleted_at"] is not None


class WakeUps:
    """Stands in for the scheduler (off in tests) to count the wake-ups asked of it."""

    def __init__(self) -> None:
        self.soon = 0

    def wake_soon(self) -> None:
        self.soon += 1

    def wake_at(self, moment) -> None:
        pass

    def shutdown(self) -> None:
        pass


async def test_refused_messages_wake_one_tick_not_one_each(world):
    """The first refusal wakes a tick to confirm the outage and tell facilitators; the
    rest wait for the ticks' own retries, or an outage with members writing would run a
    failing tick, and log it, every second."""
    await create_cohort(world, "Autumn", min_words=50)
    await tick_at(world, FIRST_SLOT)
    [thread] = world.channel.threads
    world.bot.scheduler = wake_ups = WakeUps()
    await refuse_writes(world.db)

    for member in world.members[:3]:
        await member.send(thread, words(60, "refused"))
    assert wake_ups.soon == 1
    await tick_at(world, FIRST_SLOT + timedelta(minutes=1))  # the outage is known now
    assert world.bot.storage.down_since is not None
    for member in world.members[3:5]:
        await member.send(thread, words(60, "refused"))
    assert wake_ups.soon == 1

    await refuse_writes(world.db, False)
    await tick_at(world, FIRST_SLOT + timedelta(minutes=2))
    assert world.bot.storage.down_since is None
    assert {m.author.id for m in thread.history() if has_ack(m)} == {
        m.member.id for m in world.members[:5]
    }, "every refused reflection was read back and acknowledged"


@pytest.mark.sqlite_only("another connection holding SQLite's write lock")
async def test_a_tick_that_finds_the_database_locked_is_skipped_kindly(world, caplog):
    """A lock held past the busy timeout (a backup, a second process) passes: the tick
    says so in one line, does nothing, and tries again in 30 s; it is not an outage."""
    staff_room = await cohort_with_digest_channel(world)
    await world.db.fetch_value("PRAGMA busy_timeout = 50")
    other = sqlite3.connect(world.db.path, isolation_level=None)
    other.execute("BEGIN IMMEDIATE")
    try:
        report = await tick_at(world, FIRST_SLOT)
    finally:
        other.execute("ROLLBACK")
        other.close()
    assert report.busy and report.next_due == FIRST_SLOT + timedelta(seconds=30)
    assert world.channel.threads == [] and notices(staff_room) == []
    assert "Skipping this tick: the database is busy" in caplog.text
    assert "Traceback" not in caplog.text

    report = await tick_at(world, FIRST_SLOT + timedelta(seconds=30))
    assert not report.busy and len(world.channel.threads) == 1
