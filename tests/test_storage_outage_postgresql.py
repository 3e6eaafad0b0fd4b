"""PostgreSQL's outages: a server that stops, and a lock held too long.

The counterparts of tests/test_storage_outage.py's full disk (an SQLite file's limit): a
stopped server is :class:`StorageUnavailable` (said once, kind replies, nothing lost,
resumed by itself once it is back); a row another session keeps locked past
``lock_timeout`` is :class:`StorageBusy` (try again). These tests stop their own server,
so they start one of their own beside the session's.
"""

from __future__ import annotations

import asyncio
import logging
from datetime import timedelta

import asyncpg
import pytest
from simcord import assert_error

from bot.config import Settings
from bot.core.errors import StorageBusy, StorageUnavailable
from tests.helpers import create_cohort, tick_at
from tests.pg_server import TEMPLATE, PgServer
from tests.test_reflections import FIRST_SLOT, fresh, has_ack, posts, words
from tests.test_storage_outage import cohort_with_digest_channel, notices

pytestmark = pytest.mark.postgresql_only


@pytest.fixture
def own_server(request, backend):
    server = PgServer.start(request.config.praxis_pg_bin)
    try:
        asyncio.run(server.create_template())
        yield server
    finally:
        server.stop()


@pytest.fixture
def settings(own_server, db_path, monkeypatch) -> Settings:
    monkeypatch.setattr("bot.storage.postgres.BUSY_TIMEOUT_MS", 300)  # a short lock wait
    return Settings(
        database_path=db_path, database_url=own_server.url(TEMPLATE), scheduler_enabled=False
    )


async def test_a_stopped_server_is_told_once_and_thread_messages_are_read_back(
    world, own_server, caplog
):
    staff_room = await cohort_with_digest_channel(world)
    await tick_at(world, FIRST_SLOT)
    [thread] = world.channel.threads
    caplog.set_level(logging.INFO)

    own_server.pause()
    reflection = words(60, "unhurried")
    sent = await world.members[0].send(thread, reflection)
    assert not has_ack(fresh(thread, sent.id)), "no ✅ without a stored row"

    await tick_at(world, FIRST_SLOT + timedelta(minutes=5))
    said = [r.getMessage() for r in caplog.records if r.levelno >= logging.ERROR]
    assert sum("the database server can't be reached" in line for line in said) == 1, said
    assert not any("unhurried" in r.getMessage() for r in caplog.records), "no text in logs"
    # Unlike a full disk, a stopped server can't even say which cohorts to tell: the log
    # is all there is until it is back (see docs/ARCHITECTURE.md, Storage outages).
    assert notices(staff_room) == []

    answer = await world.admin.slash(world.channel, "cohort pause", name="Autumn")
    assert answer.ephemeral and "can't save anything right now" in answer.response.content
    assert_error(world.env, StorageUnavailable)

    await tick_at(world, FIRST_SLOT + timedelta(minutes=10))  # still down: said only once
    said = [r.getMessage() for r in caplog.records if r.levelno >= logging.ERROR]
    assert sum("the database server can't be reached" in line for line in said) == 1

    own_server.resume()
    await tick_at(world, FIRST_SLOT + timedelta(minutes=15))
    assert notices(staff_room) == ["Praxis is saving again"]
    stored = await posts(world)
    assert stored[sent.id]["text"] == reflection, "read back from the thread, once"
    assert has_ack(fresh(thread, sent.id))
    assert await world.db.fetch_value("SELECT paused FROM cohorts") == 0, "refused, not half-done"


async def test_a_row_locked_past_the_lock_timeout_is_busy_and_nothing_changes(
    world, own_server, settings
):
    await create_cohort(world, "Autumn")
    holder = await asyncpg.connect(settings.database_url)
    try:
        await holder.execute("BEGIN; SELECT * FROM cohorts FOR UPDATE; SET lock_timeout = 0")
        answer = await world.admin.slash(world.channel, "cohort pause", name="Autumn")
    finally:
        await holder.close()

    assert answer.ephemeral and "busy" in answer.response.content
    assert_error(world.env, StorageBusy)
    assert await world.db.fetch_value("SELECT paused FROM cohorts") == 0
