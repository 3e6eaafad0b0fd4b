"""Several Praxis processes on one database: each does its own servers' scheduled work,
nothing twice, and a killed process's servers are taken up once its leases expire.

Each "process" here is a bot of its own (its own database connection, its own leases),
attached in turn to one simulated Discord sharded in two; ``tests/test_process_faults.py``
does the same with real processes.
"""

from __future__ import annotations

import asyncio
import dataclasses
from datetime import UTC, datetime, timedelta

import pytest

from bot.app import PraxisBot, ShardedPraxisBot, create_bot
from bot.config import Settings
from bot.core import health
from bot.core.cohorts import create_cohort as core_create_cohort
from bot.core.errors import ConfigError
from bot.core.leases import MAINTENANCE, Leases
from bot.storage import db as storage_db
from bot.storage.pending import PendingFile
from cogs.reflections import BACKFILL_RATE, Reflections
from tests.helpers import advance_to, bot_posts, build_world, create_cohort

FIRST_SLOT = datetime(2026, 1, 5, 9, 0, tzinfo=UTC)
LEASE = 30


@pytest.fixture
def settings(db_path) -> Settings:
    """Process A of two: shard 0 of 2."""
    return Settings(
        database_path=db_path, scheduler_enabled=False, shard_count=2, shard_ids=(0,),
        lease_seconds=LEASE,
    )  # fmt: skip


def other_shard(settings: Settings) -> Settings:
    return dataclasses.replace(settings, shard_ids=(1,))


class Clock:
    """The leases' wall clock, moved by hand (the tick's ``now`` is SimCord's)."""

    def __init__(self) -> None:
        self.now = datetime(2026, 1, 1, tzinfo=UTC)

    def __call__(self) -> datetime:
        return self.now


async def attach(env, settings: Settings, bots: list, clock: Clock) -> PraxisBot:
    """Another process on the same database, now the one the simulated Discord talks to.
    The previous one keeps its connection and its leases, as a killed process would."""
    bot = create_bot(settings)
    bot.leases.clock = clock
    bots.append(bot)
    await env.restart_bot(bot)
    return bot


def prompts_in(world) -> list:
    """Round prompts in the world's channel (whichever process posted them)."""
    return [m for m in bot_posts(world) if m.embeds]


async def two_servers(env, bots):
    north = build_world(env, guild_name="North", shard_id=0)
    south = build_world(env, guild_name="South", shard_id=1)
    return north, south


async def test_each_process_posts_only_its_own_servers_rounds_and_none_twice(env, settings, bots):
    clock = Clock()
    north, south = await two_servers(env, bots)
    await attach(env, settings, bots, clock)
    await create_cohort(north, "North cohort")
    b = await attach(env, other_shard(settings), bots, clock)
    await create_cohort(south, "South cohort")

    now = await advance_to(env, FIRST_SLOT)
    by_b = await b.tick(now)
    a = await attach(env, settings, bots, clock)  # shard 0 again, as a new process
    by_a = await a.tick(now)
    again = [await a.tick(now), await a.tick(now + timedelta(minutes=1))]

    assert len(by_a.rounds.posted) == len(by_b.rounds.posted) == 1
    assert all(not r.rounds.posted and not r.rounds.claimed for r in again)
    assert len(prompts_in(north)) == 1 and len(prompts_in(south)) == 1
    rounds = await a.db.fetch_all("SELECT cohort_id, number FROM rounds ORDER BY cohort_id")
    assert [tuple(r) for r in rounds] == [(1, 1), (2, 1)]
    assert by_b.ownership.cohorts == frozenset({2}) and by_a.ownership.cohorts == frozenset({1})
    assert by_b.ownership.maintenance and not by_a.ownership.maintenance  # B took it first


async def test_a_killed_process_s_servers_wait_for_its_lease_then_are_caught_up(
    env, settings, bots
):
    clock = Clock()
    north, _ = await two_servers(env, bots)
    killed = await attach(env, settings, bots, clock)
    await create_cohort(north, "North cohort")
    await killed.tick(await advance_to(env, FIRST_SLOT - timedelta(hours=1)))  # holds North

    restarted = await attach(env, settings, bots, clock)  # the same shard, a new process
    clock.now += timedelta(seconds=LEASE - 1)
    waiting = await restarted.tick(await advance_to(env, FIRST_SLOT))
    assert waiting.ownership.cohorts == frozenset() and not waiting.rounds.claimed
    assert prompts_in(north) == []

    clock.now += timedelta(seconds=2)  # the killed process's lease has run out
    caught_up = await restarted.tick(await advance_to(env, FIRST_SLOT + timedelta(minutes=5)))
    assert caught_up.ownership.cohorts == frozenset({1}) and len(caught_up.rounds.posted) == 1
    assert len(prompts_in(north)) == 1


async def test_a_clean_stop_hands_its_servers_over_at_once(env, settings, bots):
    clock = Clock()
    north, _ = await two_servers(env, bots)
    first = await attach(env, settings, bots, clock)
    await create_cohort(north, "North cohort")
    await first.tick(await advance_to(env, FIRST_SLOT - timedelta(hours=1)))
    await first.leases.release(first.db)  # what close() does before the database closes

    second = await attach(env, settings, bots, clock)
    report = await second.tick(await advance_to(env, FIRST_SLOT))
    assert len(report.rounds.posted) == 1 and report.ownership.maintenance


async def test_racing_processes_never_both_hold_a_server(settings, bots):
    """Two processes that both want every server (Slack workspaces, or shards given to two
    processes by mistake) take their leases at the same instant, twenty times over."""
    dbs = [await storage_db.open_database(settings) for _ in range(2)]
    try:
        await dbs[0].migrate()
        for n in range(6):
            await core_create_cohort(
                dbs[0], guild_id=n << 22, name=f"C{n}", channel_id=1000 + n, member_role_id=1,
                facilitator_role_id=None, options={}, now=FIRST_SLOT,
            )  # fmt: skip
        clock = Clock()
        for _ in range(20):
            rivals = [Leases(lambda p, g: True, LEASE, clock=clock) for _ in dbs]
            racing = [rival.refresh(db) for rival, db in zip(rivals, dbs, strict=True)]
            owned = await asyncio.gather(*racing)
            mine = [set(o.cohorts) for o in owned]
            assert not mine[0] & mine[1] and mine[0] | mine[1] == set(range(1, 7))
            assert [o.maintenance for o in owned].count(True) == 1
            clock.now += timedelta(seconds=LEASE)  # all expire: the next round starts free
    finally:
        for db in dbs:
            await db.close()


def test_a_process_s_servers_follow_discord_s_shard_rule():
    settings = Settings(database_path=":memory:", shard_count=4, shard_ids=(1, 3))
    bot = create_bot(settings)
    assert isinstance(bot, ShardedPraxisBot) and bot.shard_ids == [1, 3] and bot.shard_count == 4
    assert [bot.serves("discord", shard << 22) for shard in range(8)] == [
        False, True, False, True, False, True, False, True,
    ]  # fmt: skip
    assert not bot.serves("slack", 1)  # no Slack tokens: no Slack workspace
    alone = create_bot(Settings(database_path=":memory:"))
    assert type(alone) is PraxisBot and alone.leases is None
    every_shard = create_bot(Settings(database_path=":memory:", shard_count=2))
    assert every_shard.leases is None and every_shard.shard_ids == [0, 1]


@pytest.mark.parametrize(
    ("environ", "problem"),
    [
        ({"SHARD_IDS": "0"}, "SHARD_IDS needs SHARD_COUNT"),
        ({"SHARD_COUNT": "2", "SHARD_IDS": "0,2"}, "from 0 to 1"),
        ({"SHARD_COUNT": "0"}, "SHARD_COUNT must be 1 or more"),
        ({"SHARD_COUNT": "2", "SHARD_IDS": "zero"}, "separated by commas"),
        ({"SHARD_COUNT": "2", "SHARD_IDS": "1"}, "that needs PostgreSQL"),
        ({"LEASE_SECONDS": "1"}, "LEASE_SECONDS must be between"),
    ],
)
def test_shard_settings_that_can_t_work_are_refused_in_a_sentence(environ, problem):
    with pytest.raises(ConfigError, match=problem):
        Settings.from_env(environ, env_file=None)


def test_shard_settings_from_the_environment():
    settings = Settings.from_env(
        {"SHARD_COUNT": "4", "SHARD_IDS": "3, 1", "DATABASE_URL": "postgresql://db/praxis",
         "LEASE_SECONDS": "20"},
        env_file=None,
    )  # fmt: skip
    assert settings.shard_ids == (1, 3) and settings.shard_count == 4
    assert settings.several_processes and settings.lease_seconds == 20
    assert MAINTENANCE == "maintenance"


def test_each_process_keeps_its_own_journal_and_its_share_of_the_rate_limit(tmp_path):
    """Each process rewrites its journal of refused changes with only its own entries, so
    two sharing one file would erase each other's; and Discord's global rate limit is the
    bot's, so backfill paces each process to its share."""
    path = tmp_path / "praxis.db"
    url = "postgresql://db/praxis"
    one, other = (
        Settings(database_path=path, database_url=url, shard_count=4, shard_ids=ids)
        for ids in ((0, 1), (2,))
    )
    journals = {
        PendingFile.beside(s.database_path, platform, s.process_tag).path
        for s in (one, other, Settings(database_path=path))
        for platform in (None, "slack")
    }
    assert len(journals) == 6
    assert PendingFile.beside(path, None, one.process_tag).path.name == (
        "praxis.db.shards-0-1.pending.jsonl"
    )
    assert (one.shard_share, other.shard_share, Settings(database_path=path).shard_share) == (
        0.5, 0.25, 1.0,
    )  # fmt: skip
    cog = Reflections(create_bot(other))
    assert cog.pace.rate == BACKFILL_RATE / 4
    assert cog.backlog.file.path.name == "praxis.db.shards-2.pending.jsonl"


async def test_a_storage_outage_is_told_to_this_process_s_own_cohorts_only(settings):
    """Every process notices an outage; each tells only the facilitators of the cohorts
    whose work it does, so nobody hears it from every process."""
    db = await storage_db.open_database(settings)
    try:
        await db.migrate()
        for n in range(3):
            await core_create_cohort(
                db, guild_id=n << 22, name=f"C{n}", channel_id=1000 + n, member_role_id=1,
                facilitator_role_id=None, options={}, now=FIRST_SLOT,
            )  # fmt: skip
        told = []

        class Chat:
            async def tell_facilitators(self, cohort, title, text):
                told.append(cohort.id)

        reached = await health.tell_facilitators(db, Chat(), "Down", "…", frozenset({1, 3}))
        assert sorted(told) == [1, 3] and reached == 2
        told.clear()
        await health.tell_facilitators(db, Chat(), "Down", "…")  # a lone process: all
        assert sorted(told) == [1, 2, 3]
    finally:
        await db.close()


async def test_two_attempts_at_one_round_post_it_once(world):
    """Beneath the leases: a process that stalled past its lease and one that took over
    may both find the same round due. Each attempt is claimed first (compare-and-set on
    the attempt count), so only one posts it."""
    from bot.core import rounds

    await create_cohort(world, "Autumn")
    now = await advance_to(world.env, FIRST_SLOT)
    outcome = rounds.RoundsOutcome([], [], [], [], [])
    await rounds.claim_due_rounds(world.db, now, outcome)
    first, second = (rounds.RoundsOutcome([], [], [], [], []) for _ in range(2))
    await asyncio.gather(
        rounds.deliver_pending(world.db, world.bot.chat, now, first),
        rounds.deliver_pending(world.db, world.bot.chat, now, second),
    )
    assert sorted(first.posted + second.posted) == outcome.claimed
    assert first.failed == second.failed == []
    assert len(prompts_in(world)) == 1


async def test_a_round_late_because_its_server_s_process_was_down_says_offline(env, settings, bots):
    """Another process ticking meanwhile (the shared heartbeat moving on) doesn't make a
    slot that this server's process slept through look "put back"."""
    clock = Clock()
    north, south = await two_servers(env, bots)
    await attach(env, settings, bots, clock)
    await create_cohort(north, "North cohort", weekday="tuesday")
    south_process = await attach(env, other_shard(settings), bots, clock)
    await create_cohort(south, "South cohort")
    await south_process.tick(await advance_to(env, FIRST_SLOT - timedelta(hours=1)))
    # South's process dies; North's keeps ticking past South's Monday slot.
    north_process = await attach(env, settings, bots, clock)
    for hours in (1, 2, 3):
        await north_process.tick(await advance_to(env, FIRST_SLOT + timedelta(hours=hours)))

    clock.now += timedelta(seconds=LEASE + 1)  # the dead process's lease has run out
    restarted = await attach(env, other_shard(settings), bots, clock)
    report = await restarted.tick(await advance_to(env, FIRST_SLOT + timedelta(hours=4)))
    assert len(report.rounds.posted) == 1
    [prompt] = prompts_in(south)
    text = prompt.embeds[0].description
    assert "Posted late: Praxis was offline" in text
    assert "put back" not in text

    again = await restarted.tick(await advance_to(env, FIRST_SLOT + timedelta(hours=5)))
    assert again.ownership.ticked_before == {2: FIRST_SLOT + timedelta(hours=4)}
