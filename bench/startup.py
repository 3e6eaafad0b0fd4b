"""Start-up to ready with 1,000 cohorts and their schedules, on a database that looks lived in.

The database is built once with the core's own functions: 40 servers × 25 cohorts (the
per-server limit), each with a weekly schedule in one of nine timezones, its bank of
default prompts, ``--past-rounds`` closed rounds (reflections, feedback, pairs, digests,
nudges sent) and one open round with a thread, a day or so old, so nothing is due.

Each measured run is a fresh interpreter on that file, timing what ``praxis run`` does:

* imports: interpreter start and ``import bot.app`` (the cogs are imported by the next step);
* ``setup_hook``: opening the database, the migrations check, loading every cog and the
  command sync (its payload is built; the PUT is stubbed);
* guilds: the 40 ``GUILD_CREATE`` payloads, JSON-decoded and parsed by discord.py
  (``ConnectionState._add_guild_from_data``), members included;
* ``on_ready``: the real ``ready`` dispatch, i.e. Reflections' backfill: one history
  request per open thread, each answered by a stub with no messages;
* first tick: ``bot.tick(now)`` with nothing due, which still plans every cohort's next
  slot and looks at every open round for nudges.

No network: every REST call goes through a stub of ``HTTPClient.request`` that counts it.
discord.py's own waits (``guild_ready_timeout``, 2 s after the last ``GUILD_CREATE``) and
the gateway's latency come on top in production and are not measured.

    python -m bench.startup [--cohorts 1000] [--members 8] [--past-rounds 4] [--runs 3]
                            [--profile]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import sqlite3
import statistics
import sys
import tempfile
import time
from collections import Counter
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import discord

from bench.child import run_python
from bench.ingest import PER_GUILD, guild_of, guild_payloads, ids, member_id, user
from bench.looplag import LoopLag
from bot.app import create_bot
from bot.config import Settings
from bot.core.clock import to_db
from bot.core.cohorts import create_cohort
from bot.core.schedule import WeeklySchedule
from bot.pacing import Pace
from bot.storage import rounds as round_store
from bot.storage.db import Database, _in_thread

#: A Tuesday afternoon: every cohort's latest round opened 17 to 41 hours ago.
NOW = datetime(2026, 3, 10, 14, 0, tzinfo=UTC)
TIMEZONES = (
    "UTC", "Europe/London", "Europe/Berlin", "Africa/Johannesburg", "Asia/Kolkata",
    "Australia/Sydney", "America/New_York", "America/Chicago", "America/Los_Angeles",
)  # fmt: skip
POST_TIMES = ("07:00", "08:30", "09:00", "10:00", "11:00")
ARCHIVED_THREADS = 6 * 10**17  # ids of closed rounds' threads (not in GUILD_CREATE)
MAX_COHORTS = 1000  # bench.ingest's id scheme (role, channel, thread) holds this many
SAMPLE = (
    "today I noticed the group settle differently after we tried a slower opening and "
    "I wonder whether my questions left enough room for the quieter members to speak "
    "next time I want to pause longer check understanding and name what I saw"
)
VOCABULARY = SAMPLE.split()


@dataclass(frozen=True, slots=True)
class CohortSpec:
    """Where a cohort lives on Discord and who is in it."""

    guild_id: int
    role_id: int
    channel_id: int
    thread_id: int  # the open round's thread
    members: tuple[int, ...]
    timezone: str
    post_time: str


def ingest_layout(cohorts: int, members_per: int) -> list[CohortSpec]:
    """bench.ingest's servers: 25 cohorts per server, ids from ``ids(cohort)``."""
    specs = []
    for c in range(cohorts):
        role_id, channel_id, thread_id = ids(c)
        specs.append(
            CohortSpec(
                guild_id=guild_of(c), role_id=role_id, channel_id=channel_id,
                thread_id=thread_id, members=tuple(member_id(c, m) for m in range(members_per)),
                timezone=TIMEZONES[c % len(TIMEZONES)],
                post_time=POST_TIMES[(c // len(TIMEZONES)) % len(POST_TIMES)],
            )
        )  # fmt: skip
    return specs


def _words(rng: random.Random, low: int, high: int) -> tuple[str, int]:
    n = rng.randint(low, high)
    return " ".join(rng.choices(VOCABULARY, k=n)), n


async def build_database(
    path: Path,
    specs: list[CohortSpec],
    past_rounds: int,
    now: datetime = NOW,
    seed: int = 7,
    url: str | None = None,
) -> dict[str, int]:
    """Cohorts through ``create_cohort``, then their rounds and what members wrote.

    Closed rounds are complete (pairs made, digest sent, nudges recorded); the open round
    is a day or so old with about half the members' reflections in, all above the minimum,
    so a tick at ``now`` has nothing to do but plan. ``url``: build in that (empty)
    PostgreSQL database instead of the SQLite file at ``path``.
    """
    rng = random.Random(seed)
    if url is None:
        db = await Database.open(path)
    else:
        from bot.storage.postgres import PostgresDatabase

        db = await PostgresDatabase.open(url)
    await db.migrate()
    serial = 0
    try:
        for index, spec in enumerate(specs):
            # Starts on a Wednesday-ish ``past_rounds`` weeks back: past_rounds + 1 Mondays.
            # Unique per cohort, so the planning check can tell schedules apart.
            start = now - timedelta(days=7 * past_rounds + 5, seconds=-index)
            cohort = await create_cohort(
                db, guild_id=spec.guild_id, name=f"Cohort {index}", channel_id=spec.channel_id,
                member_role_id=spec.role_id, facilitator_role_id=None,
                options={"timezone": spec.timezone, "weekday": "monday",
                         "time": spec.post_time, "min_words": 50, "feedback_min_words": 15},
                now=start,
            )  # fmt: skip
            slots = list(cohort.schedule.slots(cohort.schedule_from, now))
            if len(slots) != past_rounds + 1 or now - slots[-1] >= timedelta(hours=48):
                raise RuntimeError(f"cohort {index}: unexpected slots {slots}")
            prompts = await db.fetch_all(
                "SELECT id, title, text, structure FROM prompts WHERE cohort_id = ?"
                " ORDER BY position",
                (cohort.id,),
            )
            posts, pairs, notes, excusals = [], [], [], []
            async with db.transaction() as tx:
                for number, slot in enumerate(slots, start=1):
                    is_open = number == len(slots)
                    prompt = prompts[(number - 1) % len(prompts)]
                    reflect_due = slot + timedelta(hours=cohort.reflect_hours)
                    feedback_due = slot + timedelta(hours=cohort.feedback_hours)
                    thread_id = spec.thread_id if is_open else ARCHIVED_THREADS + serial
                    serial += 1
                    round_id = await round_store.insert(tx, {
                        "cohort_id": cohort.id, "number": number, "slot_at": to_db(slot),
                        "state": "posted" if is_open else "closed", "prompt_id": prompt["id"],
                        "prompt_cycle": 1, "title": prompt["title"], "text": prompt["text"],
                        "structure": prompt["structure"], "reflect_due": to_db(reflect_due),
                        "feedback_due": to_db(feedback_due), "channel_id": spec.channel_id,
                        "message_id": thread_id, "thread_id": thread_id,
                        "posted_at": to_db(slot), "attempts": 1, "created_at": to_db(slot),
                        "closed_at": None if is_open else to_db(feedback_due),
                    })  # fmt: skip
                    if not is_open:
                        paired = to_db(reflect_due)  # pairs made and fully announced
                        await tx.execute(
                            "UPDATE rounds SET assigned_at = ?, pairs_announced_at = ?,"
                            " assignment_message_id = ?, digest_sent_at = ? WHERE id = ?",
                            (paired, paired, thread_id + 1, to_db(feedback_due), round_id),
                        )
                    share = 0.5 if is_open else 0.85
                    members = list(spec.members)
                    reflectors = [m for m in members if rng.random() < share]
                    first: dict[int, int] = {}
                    at = slot + timedelta(hours=2)
                    for author in reflectors:
                        for _ in range(rng.choice((1, 1, 2))):
                            at = min(at + timedelta(minutes=rng.randint(5, 90)), now)
                            text, n = _words(rng, 60, 220)
                            message_id = discord.utils.time_snowflake(at) + serial % (1 << 22)
                            serial += 1
                            first.setdefault(author, message_id)
                            late = int(at > reflect_due)
                            acked = int(first[author] == message_id)
                            posts.append((message_id, round_id, author, f"m{author}",
                                           "reflection", None, None, text, n, late, acked,
                                           to_db(at)))  # fmt: skip
                    for author in members:
                        if author not in reflectors and not is_open:
                            notes.append((round_id, author, "reflect_reminder", "dm", "sent",
                                          to_db(reflect_due - timedelta(hours=24))))  # fmt: skip
                    if is_open:
                        continue
                    for reviewer in reflectors:
                        peers = [p for p in reflectors if p != reviewer]
                        for target in rng.sample(peers, min(2, len(peers))):
                            pairs.append((round_id, reviewer, target))
                            at2 = reflect_due + timedelta(hours=rng.randint(1, 60))
                            text, n = _words(rng, 15, 80)
                            message_id = discord.utils.time_snowflake(at2) + serial % (1 << 22)
                            serial += 1
                            posts.append((message_id, round_id, reviewer, f"m{reviewer}",
                                           "feedback", first[target], target, text, n, 0, 0,
                                           to_db(at2)))  # fmt: skip
                    absent = [m for m in members if m not in reflectors]
                    if absent and rng.random() < 0.3:
                        excusals.append((round_id, absent[0], 1, to_db(slot)))
                await tx.executemany(
                    "INSERT INTO posts (message_id, round_id, author_id, author_name, kind,"
                    " reply_to_id, target_id, text, word_count, late, acked, posted_at, source)"
                    " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 'thread')",
                    posts,
                )
                await tx.executemany(
                    "INSERT INTO assignments (round_id, reviewer_id, author_id) VALUES (?, ?, ?)"
                    " ON CONFLICT DO NOTHING",
                    pairs,
                )
                await tx.executemany(
                    "INSERT INTO member_notes (round_id, member_id, kind, channel, outcome,"
                    " sent_at) VALUES (?, ?, ?, ?, ?, ?)",
                    notes,
                )
                await tx.executemany(
                    "INSERT INTO excusals (round_id, member_id, excused_by, created_at)"
                    " VALUES (?, ?, ?, ?)",
                    excusals,
                )
                await tx.executemany(
                    "INSERT INTO member_settings (guild_id, user_id, dm_channel_id, updated_at)"
                    " VALUES (?, ?, ?, ?) ON CONFLICT DO NOTHING",
                    [(spec.guild_id, m, m + 1, to_db(now)) for m in spec.members],
                )
        counts = {
            table: await db.fetch_value(f"SELECT COUNT(*) FROM {table}")
            for table in ("cohorts", "prompts", "rounds", "posts", "assignments", "member_notes")
        }
        counts["open_threads"] = await db.fetch_value(
            "SELECT COUNT(*) FROM rounds WHERE state = 'posted'"
        )
    finally:
        await db.close()
    return counts


# ------------------------------------------------------------------------ measuring


class StubRest:
    """Stands in for ``HTTPClient.request``: counts every call by route, answers ``[]``.

    ``[]`` is a valid answer to the two calls start-up makes: message history (no
    messages missed) and the bulk command upsert (no commands echoed back).
    """

    def __init__(self) -> None:
        self.calls: Counter[str] = Counter()

    async def __call__(self, route, **kwargs):
        self.calls[f"{route.method} {route.path}"] += 1
        return []

    def count(self, prefix: str = "") -> int:
        return sum(n for key, n in self.calls.items() if key.startswith(prefix))


class QueryCounter:
    """Counts SQL statements the database's one connection runs (``take`` resets): SQLite's
    trace callback, on the connection's own thread, sees each one, however they were
    handed over (one by one or several at once, ``Tx.run_all``)."""

    def __init__(self, db: Database) -> None:
        self.n = 0
        self._db = db

    async def start(self) -> None:
        await _in_thread(self._db._conn, sqlite3.Connection.set_trace_callback, self._count)

    def _count(self, statement: str) -> None:
        self.n += 1

    def take(self) -> int:
        n, self.n = self.n, 0
        return n


async def collect_dispatch(bot, event: str, *args) -> int:
    """``bot.dispatch(event)`` as the gateway would, then wait for every listener task."""
    tasks: list[asyncio.Task] = []
    schedule = bot._schedule_event

    def collect(*a, **kw):
        task = schedule(*a, **kw)
        tasks.append(task)
        return task

    bot._schedule_event = collect
    try:
        bot.dispatch(event, *args)
    finally:
        bot._schedule_event = schedule
    await asyncio.gather(*tasks)
    return len(tasks)


async def measure(
    path: Path, cohorts: int, members_per: int, now: datetime = NOW, payloads=None
) -> dict:
    """One start-up on the database at ``path``; returns seconds per phase and counts.

    ``payloads``: the ``GUILD_CREATE`` JSON texts (built here when not given). The bot is
    closed at the end.
    """
    if payloads is None:
        payloads = [json.dumps(p) for p in guild_payloads(cohorts, members_per)]
    figures: dict = {}
    rest = StubRest()
    started = time.perf_counter()
    bot = create_bot(Settings(database_path=path, scheduler_enabled=False))
    await bot._async_setup_hook()  # what login() does first: binds the loop, no network
    bot.http.request = rest
    state = bot._connection
    # login() learns these from GET /users/@me and GET /oauth2/applications/@me.
    state.user = discord.ClientUser(state=state, data=user(1, "Praxis", bot=True))
    state.application_id = 1
    figures["create_bot"] = time.perf_counter() - started
    try:
        mark = time.perf_counter()
        await bot.setup_hook()
        figures["setup_hook"] = time.perf_counter() - mark

        queries = QueryCounter(bot.db)
        await queries.start()
        mark = time.perf_counter()
        for text in payloads:
            state._add_guild_from_data(discord.utils._from_json(text))
        figures["guilds"] = time.perf_counter() - mark

        cog = bot.get_cog("Reflections")
        cog.pace = Pace(rate=1e12, burst=10**9)  # the work alone; --limits measures the pace
        mark = time.perf_counter()
        figures["ready_listeners"] = await collect_dispatch(bot, "ready")
        await cog.catching_up  # backfill runs in the background; here we wait for it
        figures["on_ready"] = time.perf_counter() - mark
        figures["history_requests"] = rest.count("GET /channels/{channel_id}/messages")
        figures["on_ready_queries"] = queries.take()

        planned: set[datetime] = set()
        next_slot = WeeklySchedule.next_slot

        def counting(schedule: WeeklySchedule, after: datetime) -> datetime:
            planned.add(schedule.anchor)
            return next_slot(schedule, after)

        before = rest.count()
        WeeklySchedule.next_slot = counting
        mark = time.perf_counter()
        try:
            report = await bot.tick(now)
        finally:
            WeeklySchedule.next_slot = next_slot
        figures["first_tick"] = time.perf_counter() - mark
        figures["tick_queries"] = queries.take()
        figures["tick_requests"] = rest.count() - before
        figures["planned_cohorts"] = len(planned)
        figures["next_due"] = report.next_due.isoformat() if report.next_due else None
        outcome = report.rounds
        figures["tick_work"] = (
            len(outcome.claimed) + len(outcome.posted) + len(outcome.missed)
            + len(outcome.failed) + len(outcome.closed) + len(report.assigned)
            + len(report.digests) + report.purged + len(report.nudges.by_dm)
            + len(report.nudges.in_thread) + len(report.failed_steps)
        )  # fmt: skip
        figures["open_threads"] = await bot.db.fetch_value(
            "SELECT COUNT(*) FROM rounds WHERE state = 'posted'"
        )
        figures["guilds_cached"] = len(bot.guilds)
        figures["members_cached"] = sum(len(g.members) for g in bot.guilds)
    finally:
        await bot.close()
    figures["rest_calls"] = dict(rest.calls)
    figures["total"] = sum(
        figures[k] for k in ("create_bot", "setup_hook", "guilds", "on_ready", "first_tick")
    )
    return figures


# ------------------------------------------------------------- under Discord's limits

#: Discord's global limit: requests a bot may make per second, all routes together.
GLOBAL_LIMIT = 50


class LimitedRest:
    """Stands in for ``HTTPClient.request`` as Discord answers under its limits.

    Each request takes a round trip of ``rtt`` seconds (drawn uniformly: 50–100 ms is
    what a bot in Europe or the US sees). Discord's global limit is enforced: a request
    that would be the 51st to start within one second is answered with a 429 (and
    counted). Starts are recorded, so the busiest second can be reported.
    """

    def __init__(self, rtt: tuple[float, float], seed: int = 3) -> None:
        self.rtt = rtt
        self.rng = random.Random(seed)
        self.starts: list[float] = []
        self.calls: Counter[str] = Counter()
        self.refused = 0

    async def __call__(self, route, **kwargs):
        loop = asyncio.get_running_loop()
        now = loop.time()
        recent = [t for t in self.starts[-GLOBAL_LIMIT:] if t > now - 1.0]
        self.starts.append(now)
        self.calls[f"{route.method} {route.path}"] += 1
        await asyncio.sleep(self.rng.uniform(*self.rtt))
        if len(recent) >= GLOBAL_LIMIT:
            self.refused += 1
            raise discord.HTTPException(_Refused(), {"message": "global rate limit", "code": 0})
        return []

    def busiest_second(self) -> int:
        """The most requests that started within any one second."""
        most, first = 0, 0
        for last, at in enumerate(self.starts):
            while self.starts[first] <= at - 1.0:
                first += 1
            most = max(most, last - first + 1)
        return most


class _Refused:
    status, reason = 429, "Too Many Requests"


class InteractionAnswers:
    """Stands in for the webhook adapter that answers interactions (discord.py sends
    interaction responses through it, not ``HTTPClient.request``): records when each
    answer was sent, then takes a round trip like any request. Interaction responses
    don't count towards the global limit."""

    def __init__(self, rtt: tuple[float, float], seed: int = 5) -> None:
        self.rtt = rtt
        self.rng = random.Random(seed)
        self.sent: dict[int, float] = {}
        self.arrived = asyncio.Event()
        self.titles: Counter[str | None] = Counter()  # what the answers said
        self._original = None

    def install(self) -> None:
        from discord.webhook import async_ as webhook

        self._original = webhook.AsyncWebhookAdapter.request
        answers = self

        async def request(adapter, route, **kwargs):
            interaction_id = int(route.url.split("/interactions/")[1].split("/")[0])
            answers.sent.setdefault(interaction_id, asyncio.get_running_loop().time())
            embeds = ((kwargs.get("payload") or {}).get("data") or {}).get("embeds") or [{}]
            answers.titles[embeds[0].get("title")] += 1
            answers.arrived.set()
            await asyncio.sleep(answers.rng.uniform(*answers.rtt))
            return {"interaction": {"id": str(interaction_id), "type": 2,
                                    "response_message_ephemeral": True}}  # fmt: skip

        webhook.AsyncWebhookAdapter.request = request

    def uninstall(self) -> None:
        from discord.webhook import async_ as webhook

        if self._original is not None:
            webhook.AsyncWebhookAdapter.request = self._original


def progress_command(interaction_id: int, cohort: int, member: int) -> dict:
    """The ``INTERACTION_CREATE`` payload of ``/me progress`` by one cohort's member."""
    role_id, channel_id, _ = ids(cohort)
    uid = member_id(cohort, member)
    return {
        "id": str(interaction_id), "application_id": "1", "type": 2, "version": 1,
        "token": f"token-{interaction_id}", "guild_id": str(guild_of(cohort)),
        "channel_id": str(channel_id), "locale": "en-GB", "guild_locale": "en-GB",
        "app_permissions": "2147483647", "entitlements": [], "context": 0,
        "attachment_size_limit": 8 * 2**20,
        "member": {"user": user(uid, f"m{cohort}-{member}"), "roles": [str(role_id)],
                   "joined_at": NOW.isoformat(), "deaf": False, "mute": False, "flags": 0,
                   "permissions": "2147483647"},
        "data": {"id": "900", "name": "me", "type": 1,
                 "options": [{"name": "progress", "type": 1, "options": []}]},
    }  # fmt: skip


async def measure_limits(
    path: Path,
    cohorts: int,
    members_per: int,
    payloads: list[str],
    rtt: tuple[float, float] = (0.05, 0.1),
    every: float = 0.5,
    seed: int = 1,
) -> dict:
    """Ready under Discord's limits: backfill paced in the background while members run
    ``/me progress`` (one every ``every`` seconds, the first at ready) and the first tick
    runs, as the scheduler starts it at the first ready. Times are from ready."""
    rest = LimitedRest(rtt, seed=seed)
    answers = InteractionAnswers(rtt, seed=seed + 1)
    rng = random.Random(seed + 2)
    bot = create_bot(Settings(database_path=path, scheduler_enabled=False))
    await bot._async_setup_hook()
    bot.http.request = rest
    state = bot._connection
    state.user = discord.ClientUser(state=state, data=user(1, "Praxis", bot=True))
    state.application_id = 1
    answers.install()
    loop = asyncio.get_running_loop()
    figures: dict = {}
    try:
        await bot.setup_hook()
        for text in payloads:
            state._add_guild_from_data(discord.utils._from_json(text))
        rest.starts.clear()  # the command sync is not backfill
        rest.calls.clear()
        cog = bot.get_cog("Reflections")
        issued: dict[int, float] = {}
        async with LoopLag() as lag:
            ready = loop.time()
            bot.dispatch("ready")
            await asyncio.sleep(0)  # the listeners' first steps: backfill starts, rounds held
            tick_started = loop.time()
            tick = asyncio.create_task(bot.tick(NOW))
            tick.add_done_callback(lambda _: figures.setdefault("tick", loop.time() - tick_started))
            backfill = cog.catching_up
            number = 0
            while not backfill.done():
                number += 1
                interaction_id = 10**17 + number
                c, m = rng.randrange(cohorts), rng.randrange(members_per)
                issued[interaction_id] = loop.time()
                state.parse_interaction_create(progress_command(interaction_id, c, m))
                await asyncio.wait([backfill], timeout=every)
            figures["backfill"] = loop.time() - ready
            report = await tick
            async with asyncio.timeout(60):  # the last commands' answers
                while len(answers.sent) < len(issued):
                    answers.arrived.clear()
                    await answers.arrived.wait()
        waits = [answers.sent[i] - at for i, at in issued.items() if i in answers.sent]
        figures.update(
            commands=len(issued),
            answered=len(waits),
            progress_shown=answers.titles["Your progress"],
            answer_median=statistics.median(waits),
            answer_max=max(waits),
            first_answer=answers.sent.get(min(issued), float("nan")) - ready,
            lag_max=lag.max,
            lag_p99=lag.p99,
            history_requests=rest.calls["GET /channels/{channel_id}/messages"],
            requests=sum(rest.calls.values()),
            busiest_second=rest.busiest_second(),
            refused=rest.refused,
            held_at_first_tick=len(report.held),
            tick_work=len(report.nudges.by_dm) + len(report.rounds.closed) + len(report.assigned),
            open_threads=await bot.db.fetch_value(
                "SELECT COUNT(*) FROM rounds WHERE state = 'posted'"
            ),
            still_unread=bot.unread.pending,
        )
    finally:
        answers.uninstall()
        await bot.close()
    return figures


def _child_limits(db_path: str, cohorts: int, members_per: int, rtt: str, seed: int) -> None:
    low, high = (float(x) / 1000 for x in rtt.split("-"))
    payloads = [json.dumps(p) for p in guild_payloads(cohorts, members_per)]
    figures = asyncio.run(
        measure_limits(Path(db_path), cohorts, members_per, payloads, (low, high), seed=seed)
    )
    print(json.dumps(figures))


def run_fresh_limits(db_path: Path, cohorts: int, members_per: int, rtt: str, seed: int) -> dict:
    """One start-up under Discord's limits in a new interpreter."""
    code = (
        "import bench.startup as s\n"
        f"s._child_limits({str(db_path)!r}, {cohorts}, {members_per}, {rtt!r}, {seed})\n"
    )
    return json.loads(run_python(code)[-1])


LIMIT_ROWS = (
    ("first_answer", "first /me progress, issued at ready: answered after", "ms"),
    ("answer_median", "/me progress during backfill: time to answer, median", "ms"),
    ("answer_max", "/me progress during backfill: time to answer, max", "ms"),
    ("backfill", "backfill, ready → every thread read", "s"),
    ("tick", "first tick (at ready, rounds held)", "ms"),
    ("lag_max", "loop lag during backfill: longest stall", "ms"),
    ("lag_p99", "loop lag during backfill: p99", "ms"),
)


def print_limits(runs: list[dict], rtt: str) -> None:
    first = runs[0]
    print(f"\nunder Discord's limits: {first['open_threads']} open threads, each history "
          f"request a {rtt} ms round trip, global limit {GLOBAL_LIMIT}/s enforced; "
          f"/me progress every 0.5 s from ready until backfill ends")  # fmt: skip
    header = "".join(f"{f'run {i + 1}':>10}" for i in range(len(runs)))
    width = max(len(label) for _, label, _ in LIMIT_ROWS) + 2
    print(f"  {'':<{width}}{header}    median (range)")
    for key, label, unit in LIMIT_ROWS:
        values = [r[key] for r in runs]
        scale, fmt = (1000, "{:.0f}") if unit == "ms" else (1, "{:.1f}")
        cells = "".join(f"{fmt.format(v * scale):>8}{unit:<2}" for v in values)
        mid = fmt.format(statistics.median(values) * scale)
        low, high = fmt.format(min(values) * scale), fmt.format(max(values) * scale)
        print(f"  {label:<{width}}{cells}    {mid} ({low} – {high}) {unit}")

    def each(key: str) -> str:
        return ", ".join(str(r[key]) for r in runs)

    print("  per run: commands " + ", ".join(f"{r['answered']}/{r['commands']}" for r in runs)
          + f"; history requests {each('history_requests')}; busiest second "
          + f"{each('busiest_second')} requests (limit {GLOBAL_LIMIT}); 429s {each('refused')}"
          + f"; rounds held at the first tick {each('held_at_first_tick')}")  # fmt: skip
    checks = [
        ("every command answered with its progress",
         all(r["answered"] == r["progress_shown"] == r["commands"] for r in runs)),
        ("one history request per thread",
         all(r["history_requests"] == r["open_threads"] for r in runs)),
        (f"never over {GLOBAL_LIMIT}/s", all(r["busiest_second"] <= GLOBAL_LIMIT
                                             and not r["refused"] for r in runs)),
        ("nothing left unread", not any(r["still_unread"] for r in runs)),
        ("first tick held every round", all(r["held_at_first_tick"] == r["open_threads"]
                                           and not r["tick_work"] for r in runs)),
        ("answered within 2 s", all(r["answer_max"] <= 2.0 for r in runs)),
    ]  # fmt: skip
    print("  checks: " + ", ".join(f"{name}: {'yes' if ok else 'NO'}" for name, ok in checks))
    if not all(ok for _, ok in checks):
        raise SystemExit("a check under Discord's limits failed")


def _child(db_path: str, cohorts: int, members_per: int, profile: bool) -> None:
    """A measured run in this (fresh) interpreter; prints JSON on the last line."""
    payloads = [json.dumps(p) for p in guild_payloads(cohorts, members_per)]
    profiler = None
    if profile:
        import cProfile

        profiler = cProfile.Profile()
        profiler.enable()
    figures = asyncio.run(measure(Path(db_path), cohorts, members_per, payloads=payloads))
    if profiler is not None:
        import pstats

        profiler.disable()
        stats = pstats.Stats(profiler, stream=sys.stdout)
        stats.sort_stats("cumulative").print_stats(35)
        stats.sort_stats("tottime").print_stats(25)
    print(json.dumps(figures))


def run_fresh(db_path: Path, cohorts: int, members_per: int, profile: bool = False) -> dict:
    """One measured start-up in a new interpreter, so imports and caches start cold."""
    code = (
        "import time; t0 = time.perf_counter()\n"
        "import bench.startup as s\n"
        "imported = time.perf_counter()\n"
        "import json, sys\n"
        f"s._child({str(db_path)!r}, {cohorts}, {members_per}, {profile})\n"
        "print(json.dumps({'t0': t0, 'imported': imported}))\n"
    )
    launched = time.perf_counter()
    lines = run_python(code)
    stamps, figures = json.loads(lines[-1]), json.loads(lines[-2])
    figures["interpreter"] = stamps["t0"] - launched
    figures["imports"] = stamps["imported"] - stamps["t0"]
    figures["profile"] = "\n".join(lines[:-2])
    figures["total_cold"] = figures["interpreter"] + figures["imports"] + figures["total"]
    return figures


async def build(directory: Path, cohorts: int, members_per: int, past_rounds: int):
    path = directory / "startup.db"
    counts = await build_database(path, ingest_layout(cohorts, members_per), past_rounds)
    return path, counts


PHASES = (
    ("interpreter", "interpreter start"),
    ("imports", "import bot.app (discord.py, numpy, Pillow…)"),
    ("create_bot", "create_bot + login's loop setup"),
    ("setup_hook", "setup_hook: DB open, migrations, 7 cogs, sync"),
    ("guilds", "GUILD_CREATE × {guilds}: JSON + parse"),
    ("on_ready", "on_ready: backfill {threads} open threads"),
    ("first_tick", "first tick, nothing due (plan all)"),
    ("total", "total, create_bot → ready + tick"),
    ("total_cold", "total with interpreter and imports"),
)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cohorts", type=int, default=1000)
    parser.add_argument("--members", type=int, default=8, help="members per cohort")
    parser.add_argument("--past-rounds", type=int, default=4)
    parser.add_argument("--runs", type=int, default=3, help="fresh interpreters on one DB")
    parser.add_argument("--profile", action="store_true", help="cProfile the last run")
    parser.add_argument("--limits-runs", type=int, default=3,
                        help="runs under Discord's limits (0: skip)")  # fmt: skip
    parser.add_argument("--rtt", default="50-100", help="history round trip, ms (low-high)")
    args = parser.parse_args()
    if not 1 <= args.cohorts <= MAX_COHORTS:
        parser.error(f"--cohorts must be between 1 and {MAX_COHORTS} (bench.ingest's id scheme)")
    with tempfile.TemporaryDirectory() as tmp:
        started = time.perf_counter()
        path, counts = asyncio.run(build(Path(tmp), args.cohorts, args.members, args.past_rounds))
        built = time.perf_counter() - started
        runs = [run_fresh(path, args.cohorts, args.members) for _ in range(args.runs)]
        profiled = None
        if args.profile:
            profiled = run_fresh(path, args.cohorts, args.members, profile=True)
        limited = [
            run_fresh_limits(path, args.cohorts, args.members, args.rtt, seed=run + 1)
            for run in range(args.limits_runs)
        ]
        size = path.stat().st_size
    guilds = -(-args.cohorts // PER_GUILD)
    first = runs[0]
    print(f"start-up: {counts['cohorts']} cohorts on {guilds} servers, "
          f"{args.members} members each ({first['members_cached']:,} members cached)")  # fmt: skip
    print(f"  database: {counts['rounds']:,} rounds ({counts['open_threads']} open), "
          f"{counts['posts']:,} posts, {counts['prompts']:,} prompts, "
          f"{size / 2**20:.0f} MiB (built in {built:.0f}s)")  # fmt: skip
    width = max(len(label) for _, label in PHASES) + 6
    header = "".join(f"{f'run {i + 1}':>9}" for i in range(len(runs)))
    print(f"  {'':<{width}}{header}   median")
    for key, label in PHASES:
        label = label.format(guilds=guilds, threads=first["open_threads"])
        values = [r[key] for r in runs]
        cells = "".join(f"{v * 1000:>7.0f}ms" for v in values)
        print(f"  {label:<{width}}{cells}  {statistics.median(values) * 1000:>5.0f}ms")
    calls = Counter()
    for r in runs:
        calls.update(r["rest_calls"])
    print(f"  stubbed REST calls per start-up: {sum(calls.values()) // len(runs)}")
    for route, n in calls.most_common():
        print(f"    {n // len(runs):>6}  {route}")
    checks = [
        ("history requests = open threads", first["history_requests"] == first["open_threads"]),
        ("every cohort's schedule planned", first["planned_cohorts"] == counts["cohorts"]),
        ("first tick had nothing to do", first["tick_work"] == 0 and not first["tick_requests"]),
    ]
    print("  checks: " + ", ".join(f"{name}: {'yes' if ok else 'NO'}" for name, ok in checks))
    print(f"  SQL statements: on_ready {first['on_ready_queries']:,}, "
          f"first tick {first['tick_queries']:,}")  # fmt: skip
    if profiled is not None:
        print(f"\ncProfile of an extra run, not counted above (create_bot → first tick, "
              f"{profiled['total']:.2f}s under the profiler):")  # fmt: skip
        print(profiled["profile"])
    if limited:
        print_limits(limited, args.rtt)
    print(f"  load average while measuring: {', '.join(f'{x:.2f}' for x in os.getloadavg())}")
    if not all(ok for _, ok in checks):
        raise SystemExit("a check failed")


if __name__ == "__main__":
    main()
