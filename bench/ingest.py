"""Ingest throughput: raw MESSAGE_CREATE payloads through discord.py's parser into Praxis.

No SimCord here: payloads go straight into ``ConnectionState.parse_message_create``, which
builds real ``discord.Message`` objects and dispatches them to the bot's real listener.
Nothing above the network is stubbed: the ✅ and the privacy reminders go through
discord.py's own request code (``HTTPClient.request``: routes, rate-limit buckets, JSON)
into a fake aiohttp session, which answers as Discord would and checks, on a sample, that a
message was durably committed before its ✅ was sent.

The messages go as a round does (:func:`message_payloads`): a reflection from each member,
then feedback to peers, so at the defaults two thirds are feedback, each owing its reader
a rating question; the bench counts the questions sent during the feed (paced, as the bot
sends them), then sends the rest with the pace lifted and times that apart. Texts
(``--text``) are invented reflections and feedback shaped like real ones (``bench.texts``:
60 to 400 words, clients' first names, ages, dates, places, agencies; 2 % carry an
identifier the detector must catch, and the bench checks that each writer was reminded),
ordinary prose (``plain``) or the old single repeated word (``repeated``). Messages
arrive one per turn of the event loop, as the gateway reader hands them over. A probe
task sleeping 5 ms records how late it wakes: the loop's longest stall and 99th
percentile. A quiet loop is not enough, though: the bench also notes how long each ✅
came after its message, and how long a command's database read, asked every 500
messages, waited (:class:`Waits`). ``--rate`` offers the messages at that many a second
instead of as one burst: whether storing keeps pace with a heavy but steady load.

The ceiling is the same pipeline with Praxis's listener removed: parsing and dispatch.

    python -m bench.ingest [--messages 15000] [--threads 100] [--runs 5] [--rate N]
                           [--text realistic]
                           [--profile] [--postgresql] [--database-url postgresql://…]
                           [--processes 1|2]

``--postgresql`` runs on a throwaway PostgreSQL server started from the machine's binaries
(``bench.pg``); ``--database-url`` on a scratch database instead, whose ``public`` schema
each run drops and creates again. ``--processes 2`` (PostgreSQL only: several processes on
one SQLite file are not a supported deployment) runs two bot processes at once on that one
database, each with its own half of the servers, as two processes holding different
shards would; each measures its own ceiling, and the run's aggregate rate is all messages
over the time from the first process's start to the last one's end.

The machine's speed drifts between runs (±30 % here), so each run measures Praxis and the
ceiling back to back, and the summary gives medians and ranges.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import re
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

import discord
from multidict import CIMultiDict

from bench import cpu, pg, texts
from bot.app import create_bot, freeze_long_lived_objects
from bot.config import Settings
from bot.core.clock import to_db
from bot.core.cohorts import create_cohort
from bot.core.privacy import find_identifiers
from bot.core.reflections import ContextCache
from bot.pacing import Pace
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


def guild_payloads(threads: int, members_per: int, start: int = 0) -> list[dict]:
    """Servers of up to 25 cohorts each: a role, a channel and an open round thread per cohort
    (cohorts ``start`` to ``threads - 1``; ``start`` a multiple of 25: whole servers)."""
    guilds = []
    for first in range(start, threads, PER_GUILD):
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


def text_of(rng: random.Random, kind: str, feedback: bool) -> str:
    """One message's text of one ``kind`` (realistic, plain or repeated): a reflection, or
    a shorter piece of feedback."""
    if kind == "repeated":
        return WORDS
    if kind == "plain":
        return texts.plain(rng, 15, 80) if feedback else texts.plain(rng)
    if feedback:
        return texts.feedback(rng, rng.choice(texts.FIRST_NAMES))
    return texts.reflection(rng, identifier=rng.random() < IDENTIFIER_SHARE)[0]


def message_payloads(
    threads: int, members_per: int, total: int, kind: str = "realistic", seed: int = 11
) -> list[dict]:
    """Each thread goes as a round does: every member posts a reflection, then each replies
    to peers' reflections with feedback (the next member's, then the one after), a turn at
    a time. At the defaults (150 a thread, 50 members) a third are reflections and two
    thirds feedback, and every piece of feedback means a rating question to its reader."""
    rng = random.Random(seed)
    payloads = []
    n = 0
    per_thread = total // threads
    for c in range(threads):
        role_id, _, thread_id = ids(c)
        reflection_of: dict[int, int] = {}
        for i in range(per_thread):
            m, turn = i % members_per, i // members_per
            n += 1
            mid = snowflake(n)
            reply = None
            if turn:
                peer = (m + turn) % members_per
                reply = reflection_of[peer if peer != m else (m + 1) % members_per]
            payload = {
                "id": str(mid), "channel_id": str(thread_id), "guild_id": str(guild_of(c)),
                "author": user(member_id(c, m), f"m{c}-{m}"),
                "member": {"roles": [str(role_id)], "joined_at": START.isoformat(),
                           "deaf": False, "mute": False, "flags": 0},
                "content": text_of(rng, kind, feedback=reply is not None),
                "timestamp": START.isoformat(),
                "edited_timestamp": None, "tts": False, "mention_everyone": False,
                "mentions": [], "mention_roles": [], "attachments": [], "embeds": [],
                "pinned": False, "type": 19 if reply else 0, "flags": 0,
            }  # fmt: skip
            if reply:
                payload["message_reference"] = {
                    "message_id": str(reply), "channel_id": str(thread_id)
                }  # fmt: skip
            else:
                reflection_of[m] = mid
            payloads.append(payload)
    return payloads


def feedback_count(payloads: list[dict]) -> int:
    """Rating questions the run must send: one per piece of feedback."""
    return sum("message_reference" in p for p in payloads)


def reminders_due(payloads: list[dict]) -> int:
    """Privacy reminders the run must send: one per writer and round with a finding."""
    return len({(p["channel_id"], p["author"]["id"]) for p in payloads
                if find_identifiers(p["content"])})  # fmt: skip


async def build(
    directory: Path,
    threads: int,
    members_per: int,
    url: str | None = None,
    cohorts: range | None = None,
    fresh: bool = True,
):
    """The bot with its listener and ``cohorts`` (default: all ``threads``), each with an
    open round; ``fresh=False`` keeps a PostgreSQL database another process shares (the
    caller emptied and migrated it)."""
    cohorts = range(threads) if cohorts is None else cohorts
    settings = Settings(database_path=directory / "bench.db", scheduler_enabled=False)
    bot = create_bot(settings)
    await bot._async_setup_hook()  # what login() does first: binds the loop, no network
    bot._db = db = await open_fresh(settings.database_path, url, fresh)
    await db.migrate()
    bot.contexts = ContextCache(db)  # what setup_hook does after opening the database
    await bot.load_extension("cogs.reflections")  # the real listener, nothing else
    state = bot._connection
    state.user = discord.ClientUser(state=state, data=user(1, "Praxis", bot=True))
    for payload in guild_payloads(cohorts.stop, members_per, cohorts.start):
        state._add_guild_from_data(payload)
    for c in cohorts:
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


async def open_fresh(path: Path, url: str | None, fresh: bool = True) -> Database:
    """A new SQLite file, or the scratch PostgreSQL database ``url`` emptied (unless not
    ``fresh``: shared with other processes)."""
    if url is None:
        return await Database.open(path)
    from bot.storage.postgres import PostgresDatabase

    db = await PostgresDatabase.open(url)
    if not fresh:
        return db
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


class Waits:
    """What the feed makes people wait: from each message's arrival to its ✅, and for a
    command's database read asked while messages pour in (one every ``every`` messages).

    The ✅ is what a member sees; the read is the first thing most commands do. Both stay
    short only if storing keeps pace with the feed rather than catching up after it.
    """

    def __init__(
        self, payloads: list[dict], db: Database, every: int = 500, rate: float | None = None
    ) -> None:
        self.rate = rate  # messages a second offered, or None: as fast as the loop takes them
        self.fed = [0.0] * len(payloads)
        self.index = {int(p["id"]): number for number, p in enumerate(payloads)}
        self.db, self.every = db, every
        self.acks: list[float] = []
        self.reads: list[float] = []
        self._readers: set[asyncio.Task] = set()

    def acked(self, message_id: int) -> None:
        self.acks.append(time.perf_counter() - self.fed[self.index[message_id]])

    def read_now(self) -> None:
        task = asyncio.get_running_loop().create_task(self._read())
        self._readers.add(task)
        task.add_done_callback(self._readers.discard)

    async def _read(self) -> None:
        asked = time.perf_counter()
        await self.db.fetch_value("SELECT name FROM cohorts WHERE id = ?", (1,))
        self.reads.append(time.perf_counter() - asked)

    async def summary(self) -> dict[str, float]:
        while self._readers:
            await asyncio.gather(*self._readers)
        acks, reads = sorted(self.acks) or [0.0], sorted(self.reads) or [0.0]
        return {"ack_p50": acks[len(acks) // 2], "ack_max": acks[-1], "read_max": reads[-1]}


async def feed(
    bot, payloads: list[str], waits: Waits | None = None
) -> tuple[float, dict[str, float]]:
    """Hand every payload to discord.py's parser, one per turn of the event loop, as the
    gateway reader does, and wait until all handlers finish; returns the seconds taken and
    the loop's lag meanwhile (and notes arrivals and reads in ``waits``, if given).

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
    clock = time.perf_counter
    started = clock()
    if waits is None:  # the ceiling's loop: nothing per message but the parse, or it
        for raw in payloads:  # would be measured slower and the share look better
            parse(decode(raw))
            await asyncio.sleep(0)  # the next frame comes on the reader's next turn
    else:
        fed, every, rate = waits.fed, waits.every, waits.rate
        for number, raw in enumerate(payloads):
            ahead = number / rate - (clock() - started) if rate else 0.0
            if ahead > 0:  # not due yet (the loop's timers have a millisecond's grain)
                await asyncio.sleep(ahead)
            parse(decode(raw))
            fed[number] = clock()
            if number % every == 0:
                waits.read_now()
            await asyncio.sleep(0)
    if unfinished:
        await all_done.wait()
    cog = bot.get_cog("Reflections")
    if cog is not None:  # stored, committed and acknowledged: the end of the pipeline
        await cog.settle(questions=False)  # rating questions follow at their own pace
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
        if "responded to your reflection" in (kwargs.get("data") or ""):
            self.calls["rating question"] += 1
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


def stub_rest(
    bot, add_reaction: Reaction | None = None, session: FakeSession | None = None
) -> FakeSession:
    """No network, everything above it real: discord.py's ``HTTPClient`` talks to a
    :class:`FakeSession` (or ``session``); each ✅ also goes to
    ``add_reaction(channel, message, emoji)``."""
    session = FakeSession(add_reaction) if session is None else session
    bot.http._HTTPClient__session = session
    bot.http._global_over = asyncio.Event()  # what static_login sets up: no global limit hit
    bot.http._global_over.set()
    return session


Barrier = Callable[[str], Awaitable[None]]


async def run(
    total: int,
    threads: int,
    kind: str = "realistic",
    payloads=None,
    url: str | None = None,
    cohorts: range | None = None,
    barrier: Barrier | None = None,
    fresh: bool = True,
    rate: float | None = None,
) -> dict:
    """One run: build, Praxis's pipeline over ``payloads`` (offered at ``rate`` messages a
    second, or as fast as the loop takes them), then the ceiling.

    With several processes (``cohorts``: this one's share, not ``fresh``): the database
    is shared and already migrated, ``payloads`` are this process's threads' only, and
    ``await barrier(step)`` holds each process after building, after Praxis's feed and
    after its rating questions until every process got there, so they feed (and measure
    their ceilings) at the same time.
    """
    members_per = 50
    if payloads is None:
        payloads = message_payloads(threads, members_per, total, kind)
    cohorts = range(threads) if cohorts is None else cohorts
    with tempfile.TemporaryDirectory() as tmp:
        directory = Path(tmp)
        bot, db = await build(directory, threads, members_per, url, cohorts, fresh)
        reader = None
        try:  # a failed run must still close its connections (their threads hold the exit)
            freeze_long_lived_objects()  # what `praxis run` does at its first ready
            raw = [json.dumps(p) for p in payloads]
            reader = await committed_reader(directory / "bench.db", url)
            acked, unsafe = [], []

            waits = Waits(payloads, db, rate=rate)

            async def add_reaction(channel_id, message_id, emoji):
                waits.acked(message_id)
                acked.append(message_id)
                # sample: the row must already be committed and acked
                if len(acked) % 50 == 1 and await reader(message_id) != 1:
                    unsafe.append(message_id)

            session = stub_rest(bot, add_reaction)
            if barrier is not None:
                await barrier("built")
            began = time.monotonic()  # one clock for every process on the machine
            elapsed, lag = await feed(bot, raw, waits)
            ended = time.monotonic()
            waited = await waits.summary()
            stored = await db.fetch_value(
                "SELECT COUNT(*) FROM posts JOIN rounds ON rounds.id = posts.round_id"
                " WHERE rounds.thread_id BETWEEN ? AND ?",
                (ids(cohorts.start)[2], ids(cohorts.stop - 1)[2]),
            )
            asked_while_fed = session.calls["rating question"]
            if barrier is not None:
                await barrier("fed")
            questions = await ask_the_rest(bot)
            await bot.remove_cog("Reflections")
            ceiling_payloads = []
            for p in payloads:
                ceiling_payloads.append(json.dumps({**p, "id": str(int(p["id"]) + 10**9)}))
            if barrier is not None:
                await barrier("asked")
            ceiling, ceiling_lag = await feed(bot, ceiling_payloads)
        finally:
            if reader is not None:
                await reader(None)
            await db.close()
    return {
        "messages": len(payloads),
        "stored": stored,
        "acknowledged": len(acked),
        "ack_before_commit": len(unsafe),
        "reminders": session.calls["POST /channels/{id}/messages"]
        - session.calls["rating question"],
        "questions": session.calls["rating question"],
        "asked_while_fed": asked_while_fed,
        "questions_per_s": questions["asked"] / questions["seconds"] if questions["asked"] else 0,
        "questions_lag": questions["lag"],
        "praxis_per_s": len(payloads) / elapsed,
        "ceiling_per_s": len(payloads) / ceiling,
        "lag": lag,
        "ceiling_lag": ceiling_lag,
        "waits": waited,
        "began": began,
        "ended": ended,
    }


async def ask_the_rest(bot) -> dict:
    """Send the rating questions still queued after the feed with their pace lifted, and
    time it: what the questions cost the loop, apart from how fast Discord lets them go."""
    questions = bot.get_cog("Reflections").questions
    before = questions.sent
    questions.pace = Pace(1e9, 10**9)
    probe = LagProbe()
    probe.start()
    started = time.perf_counter()
    await questions.drain()
    seconds = time.perf_counter() - started
    return {"asked": questions.sent - before, "seconds": seconds, "lag": probe.stop()}


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


# --------------------------------------------------------------- several processes


def share_of(process: int, processes: int, threads: int) -> range:
    """The cohorts (round threads) of ``process``: whole servers, as a shard holds them."""
    servers = -(-threads // PER_GUILD)
    first, last = (servers * k // processes for k in (process, process + 1))
    return range(first * PER_GUILD, min(last * PER_GUILD, threads))


def _child(url: str, process: int, processes: int, total: int, threads: int, kind: str) -> None:
    """One bot process of a ``--processes`` run: its share of the threads, barriers on
    stdin ("go" lines), its figures as JSON on the last line of stdout."""
    cohorts = share_of(process, processes, threads)
    payloads = [p for p in message_payloads(threads, 50, total, kind)
                if int(p["channel_id"]) - ids(0)[2] in cohorts]  # fmt: skip

    async def barrier(step: str) -> None:
        print(step, flush=True)
        line = await asyncio.get_running_loop().run_in_executor(None, sys.stdin.readline)
        if line.strip() != "go":
            raise SystemExit(f"process {process}: no go after {step}")

    figures = asyncio.run(run(total, threads, payloads=payloads, url=url, cohorts=cohorts,
                              barrier=barrier, fresh=False))  # fmt: skip
    figures["due"] = reminders_due(payloads)
    print(json.dumps(figures), flush=True)


def run_processes(url: str, processes: int, total: int, threads: int, kind: str) -> dict:
    """One run with ``processes`` bot processes on one freshly migrated PostgreSQL
    database, released together after each has built its bot; returns each one's
    figures, the aggregate rate and the rows counted at the end."""
    from bench import pg

    asyncio.run(pg.reset(url))
    children = []
    for k in range(processes):
        code = (f"import bench.ingest as i; i._child({url!r}, {k}, {processes}, {total}, "
                f"{threads}, {kind!r})")  # fmt: skip
        children.append(subprocess.Popen(
            [sys.executable, "-c", code], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
            text=True, cwd=Path(__file__).resolve().parent.parent,
        ))  # fmt: skip
    readings = []
    try:
        for step in ("built", "fed", "asked"):
            for child in children:
                line = child.stdout.readline().strip()
                if line != step:
                    raise SystemExit(f"a bot process said {line!r}, not {step!r}")
            readings.append(cpu.snapshot())  # the feed's start, then its end
            for child in children:  # everyone is there: release them together
                child.stdin.write("go\n")
                child.stdin.flush()
        results = []
        for child in children:
            out, _ = child.communicate(timeout=600)
            if child.returncode != 0:
                raise SystemExit(f"a bot process failed (exit {child.returncode})")
            results.append(json.loads(out.strip().splitlines()[-1]))
    finally:
        for child in children:
            if child.poll() is None:
                child.kill()
    counts = asyncio.run(_count_posts(url))
    span = max(r["ended"] for r in results) - min(r["began"] for r in results)
    used = cpu.split(*readings[:2], {c.pid for c in children}, cpu.postmaster(url))
    return {"processes": results, "aggregate_per_s": sum(r["messages"] for r in results) / span,
            "cpu": used, "span": span, **counts}  # fmt: skip


async def _count_posts(url: str) -> dict:
    import asyncpg

    conn = await asyncpg.connect(url)
    try:
        row = await conn.fetchrow(
            "SELECT COUNT(*) AS rows, COUNT(DISTINCT message_id) AS distinct_ids FROM posts"
        )
    finally:
        await conn.close()
    return {"rows": row["rows"], "distinct_ids": row["distinct_ids"]}


def cpu_line(used: dict, span: float, messages: int) -> str:
    """CPU-seconds of the feed by who used them, and per message."""
    return (f"CPU during the feed ({span:.2f} s, {os.cpu_count()} cores): bot processes "
            f"{used['bot']:.2f} s ({used['bot'] / messages * 1e6:.0f} µs/msg), PostgreSQL "
            f"{used['postgresql']:.2f} s ({used['postgresql'] / messages * 1e6:.0f} µs/msg), "
            f"other {used['other']:.2f} s")  # fmt: skip


def main_processes(args, url: str) -> None:
    """``--processes N`` on PostgreSQL: N bot processes at once, each its own servers."""
    print(f"ingest (PostgreSQL, {args.processes} processes at once, one database): "
          f"{args.messages} messages over {args.threads} round threads, {args.runs} runs "
          f"(each: a fresh database, every process builds its bot, then all feed together, "
          f"then all measure their own ceiling together); {args.text} text")  # fmt: skip
    runs = []
    for number in range(1, args.runs + 1):
        result = run_processes(url, args.processes, args.messages, args.threads, args.text)
        load = os.getloadavg()[0]
        result["load"] = load
        runs.append(result)
        cells = []
        for k, r in enumerate(result["processes"]):
            r["share"] = r["praxis_per_s"] / r["ceiling_per_s"]
            cells.append(f"p{k + 1} {r['praxis_per_s']:,.0f}/s ({r['share']:.0%} of its "
                         f"{r['ceiling_per_s']:,.0f}/s; lag max {r['lag']['max'] * 1000:.0f}, "
                         f"p99 {r['lag']['p99'] * 1000:.0f} ms; {r['ack_before_commit']} ✅ "
                         f"before commit, {r['reminders']}/{r['due']} reminders)")  # fmt: skip
        print(f"  run {number}: aggregate {result['aggregate_per_s']:,.0f}/s; "
              + "; ".join(cells)
              + f"; rows {result['rows']:,} ({result['distinct_ids']:,} distinct); "
              f"load {load:.2f}")  # fmt: skip
        print("         " + cpu_line(result["cpu"], result["span"], args.messages))
    print("  median (range) of", len(runs), "runs:")
    for k in range(args.processes):
        mine = [r["processes"][k] for r in runs]
        print(f"  process {k + 1}: {_spread([r['praxis_per_s'] for r in mine], ',.0f')} msg/s,"
              f" share {_spread([r['share'] * 100 for r in mine], '.0f')} % of its ceiling "
              f"{_spread([r['ceiling_per_s'] for r in mine], ',.0f')}/s; loop lag max "
              f"{_spread([r['lag']['max'] * 1000 for r in mine], '.1f')} ms, p99 "
              f"{_spread([r['lag']['p99'] * 1000 for r in mine], '.1f')} ms")  # fmt: skip
    print(f"  aggregate: {_spread([r['aggregate_per_s'] for r in runs], ',.0f')} msg/s "
          f"(all messages / first start to last finish); load average "
          f"{_spread([r['load'] for r in runs], '.2f')}")  # fmt: skip
    every = [p for r in runs for p in r["processes"]]
    if any(r["rows"] != args.messages or r["distinct_ids"] != args.messages for r in runs):
        raise SystemExit(f"expected {args.messages} rows, each message once")
    if any(p["stored"] != p["messages"] for p in every):
        raise SystemExit("a process did not store all its messages")
    if any(p["ack_before_commit"] for p in every):
        raise SystemExit("a ✅ was sent before its message was committed")
    if any(p["reminders"] != p["due"] for p in every):
        raise SystemExit("a process did not send its privacy reminders")
    print(
        f"  checks: every message stored once ({args.messages:,} rows, all distinct), "
        "no ✅ before commit (sampled), every privacy reminder sent"
    )


def waits_line(waits: dict[str, float]) -> str:
    return (f"✅ {waits['ack_p50'] * 1000:,.0f} ms after its message (median), "
            f"{waits['ack_max'] * 1000:,.0f} ms at most; a command's read during the feed "
            f"waited {waits['read_max'] * 1000:,.0f} ms at most")  # fmt: skip


def _spread(values: list[float], fmt: str) -> str:
    return (f"{format(statistics.median(values), fmt)} "
            f"({format(min(values), fmt)} – {format(max(values), fmt)})")  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--messages", type=int, default=15_000)
    parser.add_argument("--threads", type=int, default=100)
    parser.add_argument("--runs", type=int, default=5, help="fresh bot and database each")
    parser.add_argument(
        "--rate",
        type=float,
        default=None,
        help="offer the messages at this many a second (default: a burst)",
    )
    parser.add_argument("--text", choices=("realistic", "plain", "repeated"),
                        default="realistic")  # fmt: skip
    parser.add_argument("--profile", action="store_true", help="cProfile an extra run")
    parser.add_argument(
        "--processes",
        type=int,
        default=1,
        choices=(1, 2),
        help="bot processes at once, each its own servers (PostgreSQL only)",
    )
    pg.add_arguments(parser)
    args = parser.parse_args()
    if args.processes > 1 and not (args.database_url or args.postgresql):
        parser.error(
            "--processes 2 needs PostgreSQL (--postgresql or --database-url): "
            "several processes on one SQLite file are not a supported deployment"
        )
    with pg.server_url(args) as url:
        if args.postgresql and url is None:
            return  # no PostgreSQL here: the notice said so
        if args.processes > 1:
            main_processes(args, url)
        else:
            main_one(args, url)


def main_one(args, url: str | None) -> None:
    """One process, as ``praxis run`` is: Praxis and its ceiling, run after run."""
    payloads = message_payloads(args.threads, 50, args.messages, args.text)
    words = [len(p["content"].split()) for p in payloads]
    due = reminders_due(payloads)
    asks = feedback_count(payloads)
    backend = "PostgreSQL" if url else "SQLite"
    print(f"ingest ({backend}): {len(payloads)} messages over {args.threads} round threads "
          f"({len(payloads) - asks} reflections, {asks} feedback), {args.runs} runs (each: a "
          f"fresh bot and database, Praxis then the ceiling); {args.text} text, "
          f"{min(words)}–{max(words)} words (median {statistics.median(words):.0f}), "
          f"{due} privacy reminders and {asks} rating questions due; "
          + ("as a burst" if args.rate is None else f"offered at {args.rate:,.0f}/s"))  # fmt: skip
    runs = []
    for number in range(1, args.runs + 1):
        readings = []

        async def reading(step: str, readings=readings) -> None:  # start and end of the feed
            if step != "asked":
                readings.append((cpu.snapshot(), time.monotonic()))

        figures = asyncio.run(
            run(
                args.messages,
                args.threads,
                payloads=payloads,
                url=url,
                barrier=reading,
                rate=args.rate,
            )
        )
        (before, began), (after, ended) = readings
        figures["cpu"] = cpu.split(before, after, {os.getpid()}, cpu.postmaster(url))
        figures["span"] = ended - began
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
              f"(sampled), {figures['reminders']} reminders; "
              f"load {os.getloadavg()[0]:.2f}")  # fmt: skip
        print("         " + cpu_line(figures["cpu"], figures["span"], len(payloads)))
        print("         " + waits_line(figures["waits"]))
        print(f"         rating questions: {figures['asked_while_fed']} sent during the feed "
              f"(paced), the other {figures['questions'] - figures['asked_while_fed']} after "
              f"it with the pace lifted at {figures['questions_per_s']:,.0f}/s (loop lag max "
              f"{figures['questions_lag']['max'] * 1000:.1f} ms)")  # fmt: skip
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
    if args.rate is None:
        print(
            f"  share of ceiling: {_spread([r['share'] * 100 for r in runs], '.0f')} % "
            "(targets: ≥ 10,000/s and ≥ 25 %)"
        )
    else:  # the rate is what was offered: the waits say whether storing kept pace
        print(f"  offered        : {args.rate:,.0f} msg/s, one message at a time")
    print("  waits          : " + waits_line({
        key: statistics.median(r["waits"][key] for r in runs) for key in runs[0]["waits"]
    }) + " (medians)")  # fmt: skip
    ms = [r["questions_lag"]["max"] * 1000 for r in runs]
    print(f"  rating questions, pace lifted: "
          f"{_spread([r['questions_per_s'] for r in runs], ',.0f')}/s; loop lag max "
          f"{_spread(ms, '.1f')} ms")  # fmt: skip
    if args.profile:
        profile(args.messages, args.threads, payloads)
    if any(r["ack_before_commit"] for r in runs):
        raise SystemExit("a ✅ was sent before its message was committed")
    if any(r["reminders"] != due for r in runs):
        raise SystemExit(f"expected {due} privacy reminders in every run")
    if any(r["questions"] != asks for r in runs):
        raise SystemExit(f"expected {asks} rating questions, one per feedback, in every run")
    print(f"  load average after the runs: {', '.join(f'{x:.2f}' for x in os.getloadavg())}")


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
