"""Ingest throughput: raw MESSAGE_CREATE payloads through discord.py's parser into Praxis.

No SimCord here: payloads go straight into ``ConnectionState.parse_message_create``, which
builds real ``discord.Message`` objects and dispatches them to the bot's real listener.
Nothing above the network is stubbed: the ✅ and the privacy reminders go through
discord.py's own request code (``HTTPClient.request``: routes, rate-limit buckets, JSON)
into a fake aiohttp session, which answers as Discord would and checks, on a sample, that a
message was durably committed before its ✅ was sent.

Texts (``--text``) are invented reflections shaped like real ones (``bench.texts``: 60 to
400 words, clients' first names, ages, dates, places, agencies; 2 % carry an identifier the
detector must catch, and the bench checks that each writer was reminded), ordinary prose
(``plain``) or the old single repeated word (``repeated``). Messages arrive one per turn
of the event loop, as the gateway reader hands them over. A probe task sleeping 5 ms
records how late it wakes: the loop's longest stall and 99th percentile.

The ceiling is the same pipeline with Praxis's listener removed: parsing and dispatch.

    python -m bench.ingest [--messages 10000] [--threads 100] [--runs 5] [--text realistic]
                           [--profile] [--database-url postgresql://…]

``--database-url`` runs on PostgreSQL instead of a fresh SQLite file: give it a scratch
database, whose ``public`` schema each run drops and creates again.

The machine's speed drifts between runs (±30 % here), so each run measures Praxis and the
ceiling back to back, and the summary gives medians and ranges.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import random
import re
import sqlite3
import statistics
import tempfile
import time
from collections import Counter
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

import discord
from multidict import CIMultiDict

from bench import texts
from bot.app import create_bot, freeze_long_lived_objects
from bot.config import Settings
from bot.core.clock import to_db
from bot.core.cohorts import create_cohort
from bot.core.privacy import find_identifiers
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


IDENTIFIER_SHARE = 0.02  # reflections carrying a client identifier


def message_texts(total: int, kind: str = "realistic", seed: int = 11) -> list[str]:
    """``total`` message texts of one ``kind``: realistic, plain or repeated."""
    rng = random.Random(seed)
    if kind == "repeated":
        return [WORDS] * total
    if kind == "plain":
        return [texts.plain(rng) for _ in range(total)]
    return [texts.reflection(rng, identifier=rng.random() < IDENTIFIER_SHARE)[0]
            for _ in range(total)]  # fmt: skip


def message_payloads(
    threads: int, members_per: int, total: int, kind: str = "realistic"
) -> list[dict]:
    """Each member writes two reflection parts, then replies to peers' first parts."""
    payloads, first = [], {}
    n = 0
    per_thread = total // threads
    contents = iter(message_texts(per_thread * threads, kind))
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
                "content": next(contents), "timestamp": START.isoformat(),
                "edited_timestamp": None, "tts": False, "mention_everyone": False,
                "mentions": [], "mention_roles": [], "attachments": [], "embeds": [],
                "pinned": False, "type": 19 if reply else 0, "flags": 0,
            }  # fmt: skip
            if reply:
                payload["message_reference"] = {
                    "message_id": str(reply), "channel_id": str(thread_id)
                }  # fmt: skip
            first.setdefault((c, m), mid)
            payloads.append(payload)
    return payloads


def reminders_due(payloads: list[dict]) -> int:
    """Privacy reminders the run must send: one per writer and round with a finding."""
    return len({(p["channel_id"], p["author"]["id"]) for p in payloads
                if find_identifiers(p["content"])})  # fmt: skip


async def build(directory: Path, threads: int, members_per: int, url: str | None = None):
    settings = Settings(database_path=directory / "bench.db", scheduler_enabled=False)
    bot = create_bot(settings)
    await bot._async_setup_hook()  # what login() does first: binds the loop, no network
    bot._db = db = await open_fresh(settings.database_path, url)
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


async def open_fresh(path: Path, url: str | None) -> Database:
    """A new SQLite file, or the scratch PostgreSQL database ``url`` emptied."""
    if url is None:
        return await Database.open(path)
    from bot.storage.postgres import PostgresDatabase

    db = await PostgresDatabase.open(url)
    async with db.transaction() as tx:
        await tx.execute("DROP SCHEMA public CASCADE")
        await tx.execute("CREATE SCHEMA public")
    return db


class LagProbe:
    """A task that sleeps ``interval`` over and over and records how late it wakes: what
    any other work on the loop (a command, a heartbeat) would wait at that moment."""

    def __init__(self, interval: float = 0.005) -> None:
        self.interval = interval
        self.late: list[float] = []
        self._task: asyncio.Task | None = None

    def start(self) -> None:
        self._task = asyncio.get_running_loop().create_task(self._run())

    async def _run(self) -> None:
        clock = time.perf_counter
        while True:
            before = clock()
            await asyncio.sleep(self.interval)
            self.late.append(clock() - before - self.interval)

    def stop(self) -> dict[str, float]:
        if self._task is not None:
            self._task.cancel()
        late = sorted(self.late) or [0.0]
        return {"max": late[-1], "p99": late[min(len(late) - 1, int(len(late) * 0.99))]}


async def feed(bot, payloads: list[str]) -> tuple[float, dict[str, float]]:
    """Hand every payload to discord.py's parser, one per turn of the event loop, as the
    gateway reader does, and wait until all handlers finish; returns the seconds taken and
    the loop's lag meanwhile.

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
    probe = LagProbe()
    probe.start()
    started = time.perf_counter()
    for raw in payloads:
        parse(decode(raw))
        await asyncio.sleep(0)  # the next frame comes on the reader's next turn
    if unfinished:
        await all_done.wait()
    cog = bot.get_cog("Reflections")
    if cog is not None:
        await cog.settle()  # stored, committed and acknowledged: the end of the pipeline
    elapsed = time.perf_counter() - started
    lag = probe.stop()
    bot._schedule_event = schedule
    if failures:
        raise failures[0]
    return elapsed, lag


Reaction = Callable[[int, int, str], Awaitable[None]]
_REACTION = re.compile(r"/channels/(\d+)/messages/(\d+)/reactions/([^/]+)/@me$")


class FakeResponse:
    """What discord.py reads from an ``aiohttp.ClientResponse``: status, headers, text."""

    def __init__(self, status: int, body: object = None) -> None:
        self.status = status
        self._text = "" if body is None else json.dumps(body)
        self.headers = CIMultiDict({
            "X-Ratelimit-Limit": "50",
            "X-Ratelimit-Remaining": "49", "X-Ratelimit-Reset-After": "1.0",
            "X-Ratelimit-Bucket": "bench",
        })  # fmt: skip
        if body is not None:
            self.headers["content-type"] = "application/json"
        self.reason = "OK"

    async def text(self, encoding: str = "utf-8") -> str:
        return self._text

    async def __aenter__(self) -> FakeResponse:
        await asyncio.sleep(0)  # the answer arrives on a later turn, as from a socket
        return self

    async def __aexit__(self, *exc) -> None:
        return None


class FakeSession:
    """Stands in for discord.py's aiohttp session: the layer below ``HTTPClient.request``.

    Answers the calls the listener makes (add or remove a ✅: 204; open a DM and send the
    privacy reminder: a channel and a message) and counts them by method and route. The
    bucket headers never run out: Discord's per-channel reaction limit would measure
    Discord, not Praxis.
    """

    closed = False

    def __init__(self, on_reaction: Reaction | None = None) -> None:
        self.on_reaction = on_reaction
        self.calls: Counter[str] = Counter()
        self._reactions: list[tuple[int, int, str]] = []

    def request(self, method: str, url: str, **kwargs) -> FakeResponse:
        path = url.split("/api/v10", 1)[-1]
        reaction = _REACTION.search(path)
        if reaction is not None:
            self.calls[f"{method} reaction"] += 1
            if method == "PUT" and self.on_reaction is not None:
                channel_id, message_id, emoji = reaction.groups()
                self._reactions.append((int(channel_id), int(message_id), emoji))
            return _Noted(self, FakeResponse(204))
        self.calls[f"{method} {re.sub(r'[0-9]+', '{id}', path)}"] += 1
        if path == "/users/@me/channels":
            recipient = json.loads(kwargs.get("data") or "{}").get("recipient_id", "2")
            return FakeResponse(200, {"id": str(int(recipient) + 1), "type": 1,
                                      "recipients": [user(int(recipient), "member")]})  # fmt: skip
        if method == "POST" and path.endswith("/messages"):
            channel_id = path.split("/")[2]
            return FakeResponse(200, {
                "id": str(snowflake(10**6 + sum(self.calls.values()))), "channel_id": channel_id,
                "author": user(1, "Praxis", bot=True), "content": "", "timestamp":
                START.isoformat(), "edited_timestamp": None, "tts": False,
                "mention_everyone": False, "mentions": [], "mention_roles": [],
                "attachments": [], "embeds": [], "pinned": False, "type": 0, "flags": 0,
            })  # fmt: skip
        return FakeResponse(200, {})

    async def close(self) -> None:
        return None


class _Noted:
    """A ✅'s response: the reaction callback runs as discord.py receives the answer."""

    def __init__(self, session: FakeSession, response: FakeResponse) -> None:
        self.session, self.response = session, response

    async def __aenter__(self) -> FakeResponse:
        await self.response.__aenter__()
        while self.session._reactions:
            await self.session.on_reaction(*self.session._reactions.pop())
        return self.response

    async def __aexit__(self, *exc) -> None:
        return None


def stub_rest(bot, add_reaction: Reaction | None = None) -> FakeSession:
    """No network, everything above it real: discord.py's ``HTTPClient`` talks to a
    :class:`FakeSession`; each ✅ also goes to ``add_reaction(channel, message, emoji)``."""
    session = FakeSession(add_reaction)
    bot.http._HTTPClient__session = session
    bot.http._global_over = asyncio.Event()  # what static_login sets up: no global limit hit
    bot.http._global_over.set()
    return session


async def run(
    total: int, threads: int, kind: str = "realistic", payloads=None, url: str | None = None
) -> dict:
    members_per = 50
    if payloads is None:
        payloads = message_payloads(threads, members_per, total, kind)
    with tempfile.TemporaryDirectory() as tmp:
        directory = Path(tmp)
        bot, db = await build(directory, threads, members_per, url)
        freeze_long_lived_objects()  # what `praxis run` does at its first ready
        raw = [json.dumps(p) for p in payloads]
        reader = await committed_reader(directory / "bench.db", url)
        acked, unsafe = [], []

        async def add_reaction(channel_id, message_id, emoji):
            acked.append(message_id)
            # sample: the row must already be committed and acked
            if len(acked) % 50 == 1 and await reader(message_id) != 1:
                unsafe.append(message_id)

        session = stub_rest(bot, add_reaction)
        elapsed, lag = await feed(bot, raw)
        stored = await db.fetch_value("SELECT COUNT(*) FROM posts")
        await bot.remove_cog("Reflections")
        ceiling_payloads = []
        for p in payloads:
            ceiling_payloads.append(json.dumps({**p, "id": str(int(p["id"]) + 10**9)}))
        ceiling, ceiling_lag = await feed(bot, ceiling_payloads)
        await reader(None)
        await db.close()
    return {
        "messages": len(payloads),
        "stored": stored,
        "acknowledged": len(acked),
        "ack_before_commit": len(unsafe),
        "reminders": session.calls["POST /channels/{id}/messages"],
        "praxis_per_s": len(payloads) / elapsed,
        "ceiling_per_s": len(payloads) / ceiling,
        "lag": lag,
        "ceiling_lag": ceiling_lag,
    }


async def committed_reader(path: Path, url: str | None):
    """``await read(message_id)``: ``posts.acked`` as another connection sees it (committed
    rows only); ``await read(None)`` closes that connection."""
    if url is None:
        conn = sqlite3.connect(path)

        async def read_sqlite(message_id):
            if message_id is None:
                return conn.close()
            row = conn.execute("SELECT acked FROM posts WHERE message_id = ?", (message_id,))
            return (row.fetchone() or [None])[0]

        return read_sqlite
    import asyncpg

    other, turn = await asyncpg.connect(url), asyncio.Lock()  # one query at a time on it

    async def read_postgresql(message_id):
        async with turn:
            if message_id is None:
                return await other.close()
            sql = "SELECT acked FROM posts WHERE message_id = $1"
            return await other.fetchval(sql, message_id)

    return read_postgresql


def _spread(values: list[float], fmt: str) -> str:
    return (f"{format(statistics.median(values), fmt)} "
            f"({format(min(values), fmt)} – {format(max(values), fmt)})")  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--messages", type=int, default=10_000)
    parser.add_argument("--threads", type=int, default=100)
    parser.add_argument("--runs", type=int, default=5, help="fresh bot and database each")
    parser.add_argument("--text", choices=("realistic", "plain", "repeated"),
                        default="realistic")  # fmt: skip
    parser.add_argument("--profile", action="store_true", help="cProfile an extra run")
    parser.add_argument("--database-url", help="a scratch PostgreSQL database (wiped)")
    args = parser.parse_args()
    payloads = message_payloads(args.threads, 50, args.messages, args.text)
    words = [len(p["content"].split()) for p in payloads]
    due = reminders_due(payloads)
    backend = "PostgreSQL" if args.database_url else "SQLite"
    print(f"ingest ({backend}): {len(payloads)} messages over {args.threads} round threads, "
          f"{args.runs} runs (each: a fresh bot and database, Praxis then the ceiling); "
          f"{args.text} text, "
          f"{min(words)}–{max(words)} words (median {statistics.median(words):.0f}), "
          f"{due} privacy reminders due")  # fmt: skip
    runs = []
    for number in range(1, args.runs + 1):
        figures = asyncio.run(
            run(args.messages, args.threads, payloads=payloads, url=args.database_url)
        )
        if figures["stored"] != figures["messages"]:
            raise SystemExit(f"only {figures['stored']} of {figures['messages']} were stored")
        figures["share"] = figures["praxis_per_s"] / figures["ceiling_per_s"]
        runs.append(figures)
        lag, ceiling_lag = figures["lag"], figures["ceiling_lag"]
        print(f"  run {number}: Praxis {figures['praxis_per_s']:>7,.0f}/s (loop lag max "
              f"{lag['max'] * 1000:.1f} ms, p99 {lag['p99'] * 1000:.1f} ms), ceiling "
              f"{figures['ceiling_per_s']:>7,.0f}/s (max {ceiling_lag['max'] * 1000:.1f} ms, "
              f"p99 {ceiling_lag['p99'] * 1000:.1f} ms), share {figures['share']:.0%}; "
              f"{figures['acknowledged']} ✅, {figures['ack_before_commit']} before commit "
              f"(sampled), {figures['reminders']} reminders")  # fmt: skip
    print("  median (range) of", len(runs), "runs:")
    ms = [r["lag"]["max"] * 1000 for r in runs]
    p99 = [r["lag"]["p99"] * 1000 for r in runs]
    print(f"  Praxis pipeline : {_spread([r['praxis_per_s'] for r in runs], ',.0f')} msg/s; "
          f"loop lag max {_spread(ms, '.1f')} ms, p99 {_spread(p99, '.1f')} ms")  # fmt: skip
    ms = [r["ceiling_lag"]["max"] * 1000 for r in runs]
    p99 = [r["ceiling_lag"]["p99"] * 1000 for r in runs]
    ceiling = _spread([r["ceiling_per_s"] for r in runs], ",.0f")
    print(f"  parse + dispatch: {ceiling} msg/s (ceiling); loop lag max {_spread(ms, '.1f')} "
          f"ms, p99 {_spread(p99, '.1f')} ms")  # fmt: skip
    print(
        f"  share of ceiling: {_spread([r['share'] * 100 for r in runs], '.0f')} % "
        "(targets: ≥ 10,000/s and ≥ 25 %)"
    )
    if args.profile:
        profile(args.messages, args.threads, payloads)
    if any(r["ack_before_commit"] for r in runs):
        raise SystemExit("a ✅ was sent before its message was committed")
    if any(r["reminders"] != due for r in runs):
        raise SystemExit(f"expected {due} privacy reminders in every run")


def profile(total: int, threads: int, payloads: list[dict]) -> None:
    """cProfile one more run (Praxis and ceiling), sorted by own time."""
    import cProfile
    import pstats

    profiler = cProfile.Profile()
    profiler.enable()
    asyncio.run(run(total, threads, payloads=payloads))
    profiler.disable()
    pstats.Stats(profiler).sort_stats("tottime").print_stats(30)


if __name__ == "__main__":
    main()
