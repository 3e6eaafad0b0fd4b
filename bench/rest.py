"""REST requests per job, counted from SimCord's request log, against Discord's minimum.

Three jobs, each on the real bot attached to SimCord (target: at most 1.1× the minimum):

1. weekly posting for 100 cohorts (4 servers × 25): one message and one thread each;
2. the last call to 300 members whose DM channels are already known: one request each
   (requests to the round thread are not counted);
3. start-up backfill of the 100 open threads from job 1, nothing missed: one each
   (the command sync every start-up does is not counted).

    python -m bench.rest
"""

from __future__ import annotations

import asyncio
import contextlib
import re
import tempfile
import time
from collections import Counter
from datetime import UTC, datetime, timedelta
from pathlib import Path

import simcord

from bot.app import create_bot
from bot.config import Settings
from bot.core.cohorts import create_cohort
from bot.core.limits import MAX_COHORTS_PER_GUILD
from bot.pacing import Pace

FIRST_SLOT = datetime(2026, 1, 5, 9, 0, tzinfo=UTC)  # Monday 09:00, the default slot
REFLECT_DUE = FIRST_SLOT + timedelta(hours=72)  # the default reflection window
REMINDER = REFLECT_DUE - timedelta(hours=24)
TARGET = 1.1
ID = re.compile(r"\d{5,}|@me")


def shape(entry) -> str:
    return f"{entry.method} {ID.sub('{id}', entry.path)}"


def in_thread(path: str, threads: set[int]) -> bool:
    parts = path.split("/")
    return len(parts) > 2 and parts[1] == "channels" and parts[2] in {str(t) for t in threads}


async def tick_at(env, bot, moment: datetime) -> None:
    seconds = (moment - env.now()).total_seconds()
    if seconds > 0:
        await env.advance_time(seconds)
    await bot.tick(env.now())


async def add_cohorts(env, bot, servers: int, per_server: int, members: int) -> None:
    """Cohorts straight into the database, each with its own channel and member role."""
    n = 0
    for s in range(servers):
        guild = env.create_guild(f"Bench {s}")
        for _ in range(per_server):
            channel = guild.create_text_channel(f"cohort-{n}")
            role = guild.create_role(f"Learners {n}")
            for m in range(members):
                guild.add_member(env.create_user(f"m{n}x{m}"), roles=[role])
            await create_cohort(
                bot.db, guild_id=guild.id, name=f"Cohort {n}", channel_id=channel.id,
                member_role_id=role.id, facilitator_role_id=None, options={},
                now=env.now(),
            )  # fmt: skip
            n += 1
    bot.forget_round_lookups()


@contextlib.contextmanager
def unpaced():
    """Backfill without its pace, for counting only: SimCord's start-up settle (5 s)
    waits for the background backfill, and under its virtual clock 100 paced requests
    don't finish in time. The pace changes when requests go, not how many
    (``bench.startup`` measures it under Discord's limits)."""
    take = Pace.take

    async def at_once(self) -> None:
        self.taken += 1

    Pace.take = at_once
    try:
        yield
    finally:
        Pace.take = take


async def posting_and_backfill(directory: Path) -> list[tuple]:
    settings = Settings(database_path=directory / "post.db", scheduler_enabled=False)
    bot = create_bot(settings)
    cohorts = 4 * MAX_COHORTS_PER_GUILD
    async with simcord.run(bot) as env:
        await add_cohorts(env, bot, 4, MAX_COHORTS_PER_GUILD, members=3)
        before = len(env.http_requests)
        await tick_at(env, bot, FIRST_SLOT)
        posting = env.http_requests[before:]

        new = create_bot(settings)
        before = len(env.http_requests)
        with unpaced():
            await env.restart_bot(new)
        await bot._db.close()
        bot._db = None
        startup = env.http_requests[before:]
        synced = [r for r in startup if "/commands" in r.path]
        backfill = [r for r in startup if r not in synced]
        open_threads = await new.db.fetch_value(
            "SELECT COUNT(*) FROM rounds WHERE state = 'posted'"
        )
        await new._db.close()
        new._db = None
    return [
        ("weekly posting, 100 cohorts", posting, 2 * cohorts, ""),
        (
            f"start-up backfill, {open_threads} open threads",
            backfill,
            cohorts,
            f"{len(synced)} command-sync request(s) not counted",
        ),
    ]


async def nudging(directory: Path, members: int = 300) -> tuple:
    settings = Settings(database_path=directory / "nudge.db", scheduler_enabled=False)
    bot = create_bot(settings)
    async with simcord.run(bot) as env:
        await add_cohorts(env, bot, 1, 1, members=members)
        await tick_at(env, bot, FIRST_SLOT)
        threads = {
            row["thread_id"] for row in await bot.db.fetch_all("SELECT thread_id FROM rounds")
        }
        await tick_at(env, bot, REMINDER)  # opens and stores every DM channel
        before = len(env.http_requests)
        await tick_at(env, bot, REFLECT_DUE)
        last_call = [r for r in env.http_requests[before:] if not in_thread(r.path, threads)]
        await bot._db.close()
        bot._db = None
    return (f"last call, {members} known DM channels", last_call, members, "")


async def run() -> list[tuple]:
    with tempfile.TemporaryDirectory() as tmp:
        directory = Path(tmp)
        jobs = await posting_and_backfill(directory)
        jobs.insert(1, await nudging(directory))
    return jobs


def main() -> None:
    started = time.perf_counter()
    jobs = asyncio.run(run())
    width = max(len(job[0]) for job in jobs)
    print(f"{'job':<{width}}  requests  minimum  ratio")
    for name, requests, minimum, _ in jobs:
        ratio = len(requests) / minimum
        flag = "" if ratio <= TARGET else "  over target"
        print(f"{name:<{width}}  {len(requests):>8}  {minimum:>7}  {ratio:>5.2f}{flag}")
    for name, requests, minimum, note in jobs:
        if note:
            print(f"  note ({name}): {note}")
        if len(requests) > minimum:
            print(f"\n{name}: requests by path")
            for path, count in Counter(shape(r) for r in requests).most_common():
                print(f"  {count:>5}  {path}")
    print(f"\n(target ≤ {TARGET}× the minimum; {time.perf_counter() - started:.0f}s)")


if __name__ == "__main__":
    main()
