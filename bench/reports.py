"""Report timings: ``/report round``, ``/report member``, the CSV export and the chart.

One cohort of ``--members`` members over ``--rounds`` weekly rounds is written straight
into a temporary database (about 85% of members reflect each round, in one or two parts,
some late; each gives feedback to two peers; a few are excused). Then the report
functions the cogs call are timed on it, best of three where that is cheap.

    python -m bench.reports [--members 500] [--rounds 52]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import platform
import random
import tempfile
import time
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from bot.core.chart import render_heatmap
from bot.core.clock import to_db
from bot.core.cohorts import Cohort, create_cohort
from bot.core.ports import Person
from bot.core.reports import export_csv, grid, load_history, member_report, round_summary
from bot.storage import rounds as round_store
from bot.storage.db import Database

GUILD_ID = 10**17
CHANNEL_ID = GUILD_ID + 1
ROLE_ID = GUILD_ID + 2
FACILITATOR_ID = GUILD_ID + 3
THREAD_BASE = GUILD_ID + 10_000
MEMBER_BASE = 5 * 10**16
START = datetime(2025, 3, 3, 9, 0, tzinfo=UTC)  # a Monday
SNOWFLAKE_BASE = 1_300_000_000_000_000_000
REPEATS = 3

SAMPLE_TEXT = (
    "I noticed that the session felt different this week because we tried a new "
    "approach to planning and the group responded with more questions than usual "
    "which made me rethink how I explain the goals and what support people need "
    "next time I want to slow down listen more and check understanding before moving on"
)
VOCABULARY = SAMPLE_TEXT.split()


def words(rng: random.Random, n: int) -> str:
    return " ".join(rng.choices(VOCABULARY, k=n))


async def build(path: Path, members: int, rounds: int, seed: int = 7):
    """The database, cohort and roster; returns (db, cohort, roster, post rows)."""
    rng = random.Random(seed)
    db = await Database.open(path)
    await db.migrate()
    cohort = await create_cohort(
        db, guild_id=GUILD_ID, name="Bench Cohort", channel_id=CHANNEL_ID,
        member_role_id=ROLE_ID, facilitator_role_id=None,
        options={"min_words": 20, "feedback_min_words": 10}, now=START - timedelta(days=1),
    )  # fmt: skip
    roster = [Person(MEMBER_BASE + i, f"Member {i}") for i in range(members)]
    reflect = timedelta(hours=cohort.reflect_hours)
    feedback = timedelta(hours=cohort.feedback_hours)

    posts: list[tuple[Any, ...]] = []
    excusals: list[tuple[Any, ...]] = []
    message_id = SNOWFLAKE_BASE
    async with db.transaction() as tx:
        for number in range(1, rounds + 1):
            slot = START + timedelta(weeks=number - 1)
            last = number == rounds
            round_id = await round_store.insert(tx, {
                "cohort_id": cohort.id, "number": number, "slot_at": to_db(slot),
                "state": "posted" if last else "closed",
                "reflect_due": to_db(slot + reflect), "feedback_due": to_db(slot + feedback),
                "channel_id": CHANNEL_ID, "message_id": THREAD_BASE + number,
                "thread_id": THREAD_BASE + number, "posted_at": to_db(slot),
                "closed_at": None if last else to_db(slot + feedback),
                "created_at": to_db(slot), "title": f"Prompt {number}",
                "text": "What happened, and what would you do differently?",
                "structure": '["What happened?", "What next?"]',
            })  # fmt: skip
            shuffled = rng.sample(roster, len(roster))
            n_reflect = round(len(roster) * rng.uniform(0.82, 0.88))
            reflectors, absent = shuffled[:n_reflect], shuffled[n_reflect:]
            for person in rng.sample(absent, min(3, len(absent))):
                excusals.append((round_id, person.id, FACILITATOR_ID, to_db(slot)))
            first_part: dict[int, int] = {}
            for person in reflectors:
                late = rng.random() < 0.1
                at = slot + (reflect + timedelta(hours=5) if late else timedelta(hours=10))
                for _part in range(rng.choice((1, 1, 2))):
                    message_id += 1
                    at += timedelta(seconds=rng.randint(30, 3600))
                    n = rng.randint(10, 80)
                    first_part.setdefault(person.id, message_id)
                    posts.append((
                        message_id, round_id, person.id, person.name, "reflection", None,
                        None, words(rng, n), n, int(late), to_db(at),
                    ))  # fmt: skip
            for person in reflectors:
                peers = [p for p in rng.sample(reflectors, 3) if p.id != person.id][:2]
                for peer in peers:
                    message_id += 1
                    n = rng.randint(5, 40)
                    at = slot + reflect + timedelta(hours=rng.randint(1, 60))
                    posts.append((
                        message_id, round_id, person.id, person.name, "feedback",
                        first_part[peer.id], peer.id, words(rng, n), n, 0, to_db(at),
                    ))  # fmt: skip
        await tx.executemany(
            "INSERT INTO posts (message_id, round_id, author_id, author_name, kind,"
            " reply_to_id, target_id, text, word_count, late, posted_at, source, acked)"
            " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 'thread', 1)",
            posts,
        )
        await tx.executemany(
            "INSERT INTO excusals (round_id, member_id, excused_by, created_at)"
            " VALUES (?, ?, ?, ?)",
            excusals,
        )
    return db, cohort, roster, len(posts), len(excusals)


async def best_of(repeats: int, call: Callable[[], Awaitable[Any]]) -> tuple[float, Any]:
    best, result = float("inf"), None
    for _ in range(repeats):
        started = time.perf_counter()
        result = await call()
        best = min(best, time.perf_counter() - started)
    return best, result


async def run(members: int, rounds: int) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        started = time.perf_counter()
        db, cohort, roster, n_posts, n_excused = await build(
            Path(tmp) / "bench.db", members, rounds
        )
        setup = time.perf_counter() - started
        try:
            await measure(db, cohort, roster, rounds, n_posts, n_excused, setup)
        finally:
            await db.close()


async def measure(
    db: Database,
    cohort: Cohort,
    roster: list[Person],
    rounds: int,
    n_posts: int,
    n_excused: int,
    setup: float,
) -> None:
    now = START + timedelta(weeks=rounds - 1, days=1)  # the last round is still open
    person = roster[len(roster) // 2]
    names = {p.id: p.name for p in roster}

    t_round, summary = await best_of(REPEATS, lambda: round_summary(db, cohort, roster, now=now))
    t_member, report = await best_of(
        REPEATS, lambda: member_report(db, cohort, roster, person, now)
    )
    t_history, history = await best_of(REPEATS, lambda: load_history(db, cohort, roster, now=now))
    t_export, csv_bytes = await best_of(
        REPEATS, lambda: export_csv(db, cohort, dict(names), include_text=True)
    )
    started = time.perf_counter()
    cells = grid(history)
    t_grid = time.perf_counter() - started
    started = time.perf_counter()
    png = await asyncio.to_thread(render_heatmap, cells)  # as the bot does: in a thread
    t_chart = time.perf_counter() - started

    print(f"reports: {len(roster)} members × {rounds} rounds, {n_posts:,} rows in posts, "
          f"{n_excused} excusals (setup {setup:.1f} s)")  # fmt: skip
    print(f"  machine: {platform.processor() or platform.machine()}, "
          f"{os.cpu_count()} CPUs, Python {platform.python_version()}")  # fmt: skip
    print(f"  {'what':<40} {'time':>10}  detail")
    lines = [
        ("/report round  (round_summary, latest)", t_round,
         f"round {summary.round.number}: {summary.counted}/{summary.members} counted"),
        ("/report member (member_report)", t_member,
         f"{report.completed}/{len(report.per_round)} completed, streak {report.streak}"),
        ("load_history   (whole cohort)", t_history,
         f"{len(history.standings):,} standings"),
        ("export         (export_csv, with text)", t_export, f"{len(csv_bytes):,} bytes"),
        ("chart grid     (grid(history))", t_grid,
         f"{len(cells.member_names)} × {len(cells.round_labels)} cells"),
        ("chart render   (render_heatmap, 1 run)", t_chart, f"{len(png):,} bytes PNG"),
    ]  # fmt: skip
    for label, seconds, detail in lines:
        print(f"  {label:<40} {seconds * 1000:>7.0f} ms  {detail}")
    print(f"  (best of {REPEATS} except the chart render; target: summaries well under 1 s)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--members", type=int, default=500)
    parser.add_argument("--rounds", type=int, default=52)
    args = parser.parse_args()
    asyncio.run(run(args.members, args.rounds))


if __name__ == "__main__":
    main()
