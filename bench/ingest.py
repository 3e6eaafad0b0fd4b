"""Ingest throughput: raw MESSAGE_CREATE payloads through discord.py's parser into Praxis.

No SimCord here: payloads go straight into ``ConnectionState.parse_message_create``, which
builds real ``discord.Message`` objects and dispatches them to the bot's real listener.
Only the REST call that adds the ✅ is replaced by a stub, which also checks, on a
sample, that the message was durably committed before it was acknowledged.

The ceiling is the same pipeline with Praxis's listener removed: parsing and dispatch.

    python -m bench.ingest [--messages 20000] [--threads 100] [--runs 5]

The machine's speed drifts between runs (±30 % here), so each run measures Praxis and the
ceiling back to back, and the summary gives medians.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sqlite3
import statistics
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import discord

from bot.app import create_bot, freeze_long_lived_objects
from bot.config import Settings
from bot.core.clock import to_db
from bot.core.cohorts import create_cohort
from bot.core.reflections import ContextCache
from bot.storage import rounds as round_store
from bot.storage.db import Database

GUILD_ID = 10**17
PER_GUILD = 25  # Praxis's limit of cohorts per server


def guild_of(cohort: int) -> int:
    return GUILD_ID + cohort // PER_GUILD


START = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
WORDS = " ".join(["practice"] * 30)


def snowflake(n: int) -> int:
    return ((int((START + timedelta(seconds=1)).timestamp() * 1000) - 1420070400000) << 22) + n


def user(uid: int, name: str, bot: bool = False) -> dict:
    return {"id": str(uid), "username": name, "discriminator": "0", "avatar": None, "bot": bot,
            "global_name": None}  # fmt: skip


def guild_payloads(threads: int, members_per: int) -> list[dict]:
    """Servers of up to 25 cohorts each: a role, a channel and an open round thread per cohort."""
    guilds = []
    for first in range(0, threads, PER_GUILD):
        gid = guild_of(first)
        everyone = {"id": str(gid), "name": "@everyone", "permissions": "0", "position": 0,
                    "color": 0, "hoist": False, "managed": False, "mentionable": False}  # fmt: skip
        roles, channels, thread_list, members = [everyone], [], [], []
        for c in range(first, min(first + PER_GUILD, threads)):
            role_id, channel_id, thread_id = ids(c)
            roles.append({**everyone, "id": str(role_id), "name": f"cohort-{c}", "position": 1})
            channels.append({"id": str(channel_id), "type": 0, "name": f"c{c}", "position": c,
                             "permission_overwrites": [], "guild_id": str(gid)})  # fmt: skip
            thread_list.append({
                "id": str(thread_id), "type": 11, "name": f"Round 1 · c{c}",
                "parent_id": str(channel_id), "guild_id": str(gid), "owner_id": "1",
                "message_count": 0, "member_count": 0,
                "thread_metadata": {"archived": False, "auto_archive_duration": 10080,
                                    "archive_timestamp": START.isoformat(), "locked": False},
            })  # fmt: skip
            for m in range(members_per):
                members.append({"user": user(member_id(c, m), f"m{c}-{m}"),
                                "roles": [str(role_id)], "joined_at": START.isoformat(),
                                "deaf": False, "mute": False, "flags": 0})  # fmt: skip
        guilds.append({
            "id": str(gid), "name": f"Bench {gid}", "owner_id": "1", "roles": roles,
            "channels": channels, "threads": thread_list, "members": members,
            "member_count": len(members), "emojis": [], "stickers": [], "features": [],
            "large": False, "unavailable": False,
        })  # fmt: skip
    return guilds


def ids(cohort: int) -> tuple[int, int, int]:
    """(member role, channel, round thread) of a cohort."""
    return GUILD_ID + 1000 + cohort, GUILD_ID + 2000 + cohort, GUILD_ID + 3000 + cohort


def member_id(cohort: int, member: int) -> int:
    return 5 * 10**16 + cohort * 1000 + member


def message_payloads(threads: int, members_per: int, total: int) -> list[dict]:
    """Each member writes two reflection parts, then replies to peers' first parts."""
    payloads, first = [], {}
    n = 0
    per_thread = total // threads
    for c in range(threads):
        role_id, _, thread_id = ids(c)
        for i in range(per_thread):
            m = i % members_per
            round_no = i // members_per
            n += 1
            mid = snowflake(n)
            reply = None
            if round_no >= 2:
                reply = first[(c, (m + round_no - 1) % members_per)]
            payload = {
                "id": str(mid), "channel_id": str(thread_id), "guild_id": str(guild_of(c)),
                "author": user(member_id(c, m), f"m{c}-{m}"),
                "member": {"roles": [str(role_id)], "joined_at": START.isoformat(),
                           "deaf": False, "mute": False, "flags": 0},
                "content": WORDS, "timestamp": START.isoformat(), "edited_timestamp": None,
                "tts": False, "mention_everyone": False, "mentions": [], "mention_roles": [],
                "attachments": [], "embeds": [], "pinned": False, "type": 19 if reply else 0,
                "flags": 0,
            }  # fmt: skip
            if reply:
                payload["message_reference"] = {
                    "message_id": str(reply), "channel_id": str(thread_id)
                }  # fmt: skip
            first.setdefault((c, m), mid)
            payloads.append(payload)
    return payloads


async def build(directory: Path, threads: int, members_per: int):
    settings = Settings(database_path=directory / "bench.db", scheduler_enabled=False)
    bot = create_bot(settings)
    await bot._async_setup_hook()  # what login() does first: binds the loop, no network
    bot._db = db = await Database.open(settings.database_path)
    await db.migrate()
    bot.contexts = ContextCache(db)  # what setup_hook does after opening the database
    await bot.load_extension("cogs.reflections")  # the real listener, nothing else
    state = bot._connection
    state.user = discord.ClientUser(state=state, data=user(1, "Praxis", bot=True))
    for payload in guild_payloads(threads, members_per):
        state._add_guild_from_data(payload)
    for c in range(threads):
        role_id, channel_id, thread_id = ids(c)
        cohort = await create_cohort(
            db, guild_id=guild_of(c), name=f"Cohort {c}", channel_id=channel_id,
            member_role_id=role_id, facilitator_role_id=None,
            options={"min_words": 50}, now=START - timedelta(days=1),
        )  # fmt: skip
        async with db.transaction() as tx:
            await round_store.insert(tx, {
                "cohort_id": cohort.id, "number": 1, "slot_at": to_db(START), "state": "posted",
                "reflect_due": to_db(START + timedelta(days=3)),
                "feedback_due": to_db(START + timedelta(days=6)), "channel_id": cohort.channel_id,
                "message_id": thread_id, "thread_id": thread_id,
                "title": "Bench", "text": "?", "structure": '["What happened?"]',
                "posted_at": to_db(START), "created_at": to_db(START),
            })  # fmt: skip
    return bot, db


async def feed(bot, payloads: list[str]) -> float:
    """Parse every payload as the gateway reader would, and wait until all handlers finish.

    Only a count of unfinished handler tasks is kept, not the tasks themselves: holding
    tens of thousands of finished tasks would inflate the garbage collector's work far
    beyond what a running bot, which keeps no reference to them, ever sees.
    """
    schedule = bot._schedule_event
    unfinished = 0
    all_done = asyncio.Event()
    failures: list[BaseException] = []

    def finished(task: asyncio.Task) -> None:
        nonlocal unfinished
        unfinished -= 1
        if not task.cancelled() and task.exception() is not None:
            failures.append(task.exception())
        if unfinished == 0:
            all_done.set()

    def counted(*args, **kwargs):
        nonlocal unfinished
        task = schedule(*args, **kwargs)
        unfinished += 1
        task.add_done_callback(finished)
        return task

    bot._schedule_event = counted
    parse, decode = bot._connection.parse_message_create, discord.utils._from_json
    started = time.perf_counter()
    for n, raw in enumerate(payloads, 1):
        parse(decode(raw))
        if n % 250 == 0:
            await asyncio.sleep(0)  # let the gateway reader yield, as a real socket would
    if unfinished:
        await all_done.wait()
    cog = bot.get_cog("Reflections")
    if cog is not None:
        await cog.settle()  # stored, committed and acknowledged: the end of the pipeline
    elapsed = time.perf_counter() - started
    bot._schedule_event = schedule
    if failures:
        raise failures[0]
    return elapsed


def stub_rest(bot, add_reaction) -> None:
    """No network: the ✅ goes to ``add_reaction``; other REST calls the listener makes
    (removing a ✅, a privacy reminder DM) succeed at once."""

    async def no_rest(*args, **kwargs):
        return {"id": "1", "type": 1, "recipients": []}

    bot.http.add_reaction = add_reaction
    for name in ("remove_reaction", "remove_own_reaction", "start_private_message",
                 "send_message"):  # fmt: skip
        setattr(bot.http, name, no_rest)


async def run(total: int, threads: int) -> dict:
    members_per = 50
    with tempfile.TemporaryDirectory() as tmp:
        directory = Path(tmp)
        bot, db = await build(directory, threads, members_per)
        freeze_long_lived_objects()  # what `praxis run` does at its first ready
        payloads = [json.dumps(p) for p in message_payloads(threads, members_per, total)]
        reader = sqlite3.connect(directory / "bench.db")
        acked, unsafe = [], []

        async def add_reaction(channel_id, message_id, emoji):
            acked.append(int(message_id))
            if len(acked) % 50 == 1:  # sample: the row must already be committed and acked
                row = reader.execute(
                    "SELECT acked FROM posts WHERE message_id = ?", (int(message_id),)
                ).fetchone()
                if row is None or row[0] != 1:
                    unsafe.append(message_id)

        stub_rest(bot, add_reaction)
        elapsed = await feed(bot, payloads)
        stored = await db.fetch_value("SELECT COUNT(*) FROM posts")
        await bot.remove_cog("Reflections")
        ceiling_payloads = []
        for p in message_payloads(threads, members_per, total):
            p["id"] = str(int(p["id"]) + 10**9)
            ceiling_payloads.append(json.dumps(p))
        ceiling = await feed(bot, ceiling_payloads)
        reader.close()
        await db.close()
    return {
        "messages": total,
        "stored": stored,
        "acknowledged": len(acked),
        "ack_before_commit": len(unsafe),
        "praxis_per_s": total / elapsed,
        "ceiling_per_s": total / ceiling,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--messages", type=int, default=20_000)
    parser.add_argument("--threads", type=int, default=100)
    parser.add_argument("--runs", type=int, default=5, help="fresh bot and database each")
    args = parser.parse_args()
    print(f"ingest: {args.messages} messages over {args.threads} round threads, {args.runs} "
          "runs (each: a fresh bot and database, Praxis then the ceiling)")  # fmt: skip
    runs = []
    for number in range(1, args.runs + 1):
        figures = asyncio.run(run(args.messages, args.threads))
        if figures["stored"] != figures["messages"]:
            raise SystemExit(f"only {figures['stored']} of {figures['messages']} were stored")
        figures["share"] = figures["praxis_per_s"] / figures["ceiling_per_s"]
        runs.append(figures)
        print(f"  run {number}: Praxis {figures['praxis_per_s']:>7,.0f}/s, ceiling "
              f"{figures['ceiling_per_s']:>7,.0f}/s, share {figures['share']:.0%}; "
              f"{figures['acknowledged']} ✅, {figures['ack_before_commit']} before "
              "commit (sampled)")  # fmt: skip
    praxis = statistics.median(r["praxis_per_s"] for r in runs)
    ceiling = statistics.median(r["ceiling_per_s"] for r in runs)
    share = statistics.median(r["share"] for r in runs)
    print(f"  Praxis pipeline : {praxis:>9,.0f} messages/s (median)")
    print(f"  parse + dispatch: {ceiling:>9,.0f} messages/s (ceiling, median)")
    print(f"  share of ceiling: {share:.0%} (median of each run's share; "
          "targets: ≥ 10,000/s and ≥ 25%)")  # fmt: skip
    if any(r["ack_before_commit"] for r in runs):
        raise SystemExit("a ✅ was sent before its message was committed")


if __name__ == "__main__":
    main()
