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
import random
import statistics
import subprocess
import sys
import tempfile
import time
from collections import Counter
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import discord

from bench.ingest import PER_GUILD, guild_of, guild_payloads, ids, member_id, user
from bot.app import create_bot
from bot.config import Settings
from bot.core.clock import to_db
from bot.core.cohorts import create_cohort
from bot.core.schedule import WeeklySchedule
from bot.storage import rounds as round_store
from bot.storage.db import Database

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
    path: Path, specs: list[CohortSpec], past_rounds: int, now: datetime = NOW, seed: int = 7
) -> dict[str, int]:
    """Cohorts through ``create_cohort``, then their rounds and what members wrote.

    Closed rounds are complete (pairs made, digest sent, nudges recorded); the open round
    is a day or so old with about half the members' reflections in, all above the minimum,
    so a tick at ``now`` has nothing to do but plan.
    """
    rng = random.Random(seed)
    db = await Database.open(path)
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
    """Counts statements sent through the database's one connection (``take`` resets)."""

    def __init__(self, db: Database) -> None:
        self.n = 0
        conn = db._conn
        execute = conn.execute

        def counting(*args, **kwargs):
            self.n += 1
            return execute(*args, **kwargs)

        conn.execute = counting

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
        mark = time.perf_counter()
        for text in payloads:
            state._add_guild_from_data(discord.utils._from_json(text))
        figures["guilds"] = time.perf_counter() - mark

        mark = time.perf_counter()
        figures["ready_listeners"] = await collect_dispatch(bot, "ready")
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
    done = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        check=False,
        cwd=Path(__file__).resolve().parent.parent,
    )
    if done.returncode != 0:
        raise SystemExit(f"measured run failed:\n{done.stderr}")
    lines = done.stdout.rstrip().splitlines()
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
    if not all(ok for _, ok in checks):
        raise SystemExit("a check failed")


if __name__ == "__main__":
    main()
