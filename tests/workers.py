"""Praxis in a process of its own, for the fault tests that kill or signal it.

python -m tests.workers ingest DIR
    The real bot and its real reflections listener, fed a stream of gateway
    MESSAGE_CREATE payloads through discord.py's parser (as ``bench.ingest`` does).
    Every ✅ the bot sends is printed as ``ack <message id>`` the moment it is sent,
    so the parent knows exactly what was acknowledged before it kills the process.

python -m tests.workers tick DB SECONDS_PER_POST
    ``praxis run``'s own runner (signals, shutdown) with SimCord in place of Discord:
    25 cohorts due at once, posted by a slow Discord (each post takes the given
    seconds). Prints ``posting`` once the first prompt is out, then waits for a signal.
"""

from __future__ import annotations

import asyncio
import json
import sys
from datetime import UTC, datetime
from pathlib import Path

from bot.config import Settings

FIRST_SLOT = datetime(2026, 1, 5, 9, 0, tzinfo=UTC)
COHORTS = 25


def say(line: str) -> None:
    sys.stdout.write(line + "\n")
    sys.stdout.flush()


async def ingest(directory: Path) -> None:
    from bench.ingest import build, feed, message_payloads, stub_rest

    threads, members = 100, 50
    bot, _ = await build(directory, threads, members)

    async def add_reaction(channel_id, message_id, emoji):
        say(f"ack {message_id}")

    stub_rest(bot, add_reaction)
    payloads = [json.dumps(p) for p in message_payloads(threads, members, 40_000)]
    say("ready")
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


def main() -> None:
    mode = sys.argv[1]
    if mode == "ingest":
        asyncio.run(ingest(Path(sys.argv[2])))
    elif mode == "tick":
        sys.exit(asyncio.run(tick(Path(sys.argv[2]), float(sys.argv[3]))))
    else:
        raise SystemExit(f"unknown mode {mode!r}")


if __name__ == "__main__":
    main()
