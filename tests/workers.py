"""Praxis in a process of its own, for the fault tests that kill or signal it.

python -m tests.workers ingest DIR [DATABASE_URL [PROCESS PROCESSES]]
    The real bot and its real reflections listener, fed a stream of gateway
    MESSAGE_CREATE payloads through discord.py's parser (as ``bench.ingest`` does).
    Every ✅ the bot sends is printed as ``ack <message id>`` the moment it is sent,
    so the parent knows exactly what was acknowledged before it kills the process.
    With PROCESS and PROCESSES, only that share of the servers (bench.ingest's split),
    into a database already migrated, beside the other processes.

python -m tests.workers tick DB SECONDS_PER_POST
    ``praxis run``'s own runner (signals, shutdown) with SimCord in place of Discord:
    25 cohorts due at once, posted by a slow Discord (each post takes the given
    seconds). Prints ``posting`` once the first prompt is out, then waits for a signal.

python -m tests.workers shard DATABASE_URL SHARD [BLOCK_AT]
    One of two Praxis processes sharing a PostgreSQL database: shard SHARD of 2, its
    own server (SHARD_SERVER_COHORTS cohorts) on a simulated Discord of its own, made the
    same way at every start so a restart finds the same ids. Reads commands from stdin:
    ``tick ISO`` moves its clock there and runs a tick, then prints ``ticked``. Prints
    ``post ROUND``, ``nudge ROUND MEMBER KIND`` and ``digest ROUND`` for everything it
    sends; with BLOCK_AT, its BLOCK_AT-th prompt never goes out: it prints ``blocked
    ROUND`` and waits there (to be killed mid-tick).
"""

from __future__ import annotations

import asyncio
import json
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

from bot.config import Settings

FIRST_SLOT = datetime(2026, 1, 5, 9, 0, tzinfo=UTC)
COHORTS = 25
SHARD_SERVER_COHORTS = 4
WORLD_AT = datetime(2026, 1, 1, 0, 1, tzinfo=UTC)
LEASE_SECONDS = 5


def say(line: str) -> None:
    sys.stdout.write(line + "\n")
    sys.stdout.flush()


async def ingest(
    directory: Path, url: str | None = None, process: int = 0, processes: int = 1
) -> None:
    from bench.ingest import build, feed, ids, message_payloads, share_of, stub_rest

    threads, members = 100, 50
    cohorts = share_of(process, processes, threads)
    bot, _ = await build(directory, threads, members, url, cohorts, fresh=processes == 1)

    async def add_reaction(channel_id, message_id, emoji):
        say(f"ack {message_id}")

    stub_rest(bot, add_reaction)
    payloads = [
        json.dumps(p)
        for p in message_payloads(threads, members, 40_000)
        if int(p["channel_id"]) - ids(0)[2] in cohorts  # this process's servers only
    ]
    say(f"ready {len(payloads)}")
    await feed(bot, payloads)  # parses as the gateway reader would, then waits for the ✅s
    say("done")


async def tick(db_path: Path, seconds_per_post: float) -> int:
    import simcord

    from bot.runner import run_until_stopped
    from tests.helpers import build_world

    async def on_simcord(bot) -> None:
        async with simcord.run(bot, check_errors=False) as env:
            world = build_world(env, n_members=2)
            for n in range(COHORTS):
                channel = world.guild.create_text_channel(f"cohort-{n}")
                await world.admin.slash(
                    channel, "cohort create", name=f"Cohort {n}", channel=channel,
                    members=world.learners, facilitators=world.facilitators,
                )  # fmt: skip
            slow_discord(bot, seconds_per_post)
            await env.advance_time((FIRST_SLOT - env.now()).total_seconds())
            await bot.tick(env.now())
            await asyncio.Event().wait()  # until the signal

    settings = Settings(database_path=db_path, scheduler_enabled=False)
    return await run_until_stopped(settings, connect=on_simcord)


def slow_discord(bot, seconds: float) -> None:
    """Each prompt takes ``seconds`` to post, so a signal lands in the middle of a tick."""
    real_post = bot.chat.post_round
    posted = 0

    async def post_round(channel_id, post):
        nonlocal posted
        await asyncio.sleep(seconds)
        message_id = await real_post(channel_id, post)
        posted += 1
        if posted == 1:
            say("posting")
        return message_id

    bot.chat.post_round = post_round


async def shard(url: str, shard_id: int, block_at: int | None) -> None:
    import simcord

    from bot.app import create_bot
    from tests.helpers import build_world, create_cohort

    settings = Settings(
        database_path=Path("unused.db"), database_url=url, scheduler_enabled=False,
        shard_count=2, shard_ids=(shard_id,), lease_seconds=LEASE_SECONDS,
    )  # fmt: skip
    bot = create_bot(settings)
    async with simcord.run(bot, check_errors=False) as env:
        # Simulated ids come from the simulated clock, which start-up may have moved (a
        # restart's backfill waits its pace): make the world at one instant every time.
        await env.advance_time((WORLD_AT - env.now()).total_seconds())
        for _ in range(shard_id * 1000):  # the other shard's ids stay clear of this one's
            env.create_user("spacer")
        world = build_world(env, n_members=3, guild_name=f"Server {shard_id}", shard_id=shard_id)
        channels = [world.channel] + [
            world.guild.create_text_channel(f"cohort-{n}") for n in range(1, SHARD_SERVER_COHORTS)
        ]
        known = await bot.db.fetch_value(
            "SELECT COUNT(*) FROM cohorts WHERE guild_id = ?", (world.guild.id,)
        )
        if not known:
            for n, channel in enumerate(channels):
                await create_cohort(world, f"Cohort {shard_id}-{n}", channel=channel)
        report_sends(bot, block_at)
        say(f"ready {world.guild.id} {known}")
        loop = asyncio.get_running_loop()
        while line := await loop.run_in_executor(None, sys.stdin.readline):
            command, _, argument = line.strip().partition(" ")
            if command == "tick":
                # Each shard's clock runs a second apart: two simulated Discords made the
                # same way would otherwise give the same ids to messages made at the same
                # instant, where the real Discord's ids are unique everywhere.
                moment = datetime.fromisoformat(argument) + timedelta(seconds=shard_id)
                if moment > env.now():
                    await env.advance_time((moment - env.now()).total_seconds())
                report = await bot.tick(env.now())
                say(f"ticked {len(report.rounds.posted)} {sorted(report.ownership.cohorts)}")


def report_sends(bot, block_at: int | None) -> None:
    """Print every prompt, nudge and digest as it goes out; block the ``block_at``-th prompt."""
    chat, prompts = bot.chat, 0
    post_round, send_nudge, send_digest = chat.post_round, chat.send_nudge, chat.send_digest

    async def post(channel_id, post_):
        nonlocal prompts
        prompts += 1
        if prompts == block_at:
            say(f"blocked {post_.round_id}")
            await asyncio.Event().wait()
        message_id = await post_round(channel_id, post_)
        say(f"post {post_.round_id}")
        return message_id

    async def nudge(user_id, dm_channel_id, message):
        channel = await send_nudge(user_id, dm_channel_id, message)
        say(f"nudge {message.round_id} {user_id} {message.kind}")
        return channel

    async def digest(cohort, summary, png):
        await send_digest(cohort, summary, png)
        say(f"digest {summary.round.id}")

    chat.post_round, chat.send_nudge, chat.send_digest = post, nudge, digest


def main() -> None:
    mode = sys.argv[1]
    if mode == "shard":
        block_at = int(sys.argv[4]) if len(sys.argv) > 4 else None
        asyncio.run(shard(sys.argv[2], int(sys.argv[3]), block_at))
        return
    if mode == "ingest":
        url = sys.argv[3] if len(sys.argv) > 3 else None
        share = [int(n) for n in sys.argv[4:6]] or [0, 1]
        asyncio.run(ingest(Path(sys.argv[2]), url, *share))
    elif mode == "tick":
        sys.exit(asyncio.run(tick(Path(sys.argv[2]), float(sys.argv[3]))))
    else:
        raise SystemExit(f"unknown mode {mode!r}")


if __name__ == "__main__":
    main()
