"""Report timings: ``/report round``, ``/report member``, ``/me progress``, the CSV export
and the chart, each with the loop-lag probe (``bench.looplag``) beside it.

One cohort of ``--members`` members over ``--rounds`` weekly rounds is written straight
into a temporary database (about 85% of members reflect each round, in one or two parts,
some late; each gives feedback to two peers; a few are excused). Then the report
functions the cogs call are timed on it, ``--runs`` times each (median and range), for
each cohort size, and a growth table compares the sizes.

    python -m bench.reports [--members 125 250 500 1000] [--rounds 52] [--runs 5]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import platform
import random
import tempfile
import time
import tracemalloc
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from statistics import median
from typing import Any

from bench import pg
from bench.ingest import open_fresh
from bench.looplag import LoopLag
from bot.app import freeze_long_lived_objects
from bot.core import chart, reflections
from bot.core.clock import to_db
from bot.core.cohorts import Cohort, create_cohort
from bot.core.ports import Person
from bot.core.reports import (
    EXPORT_COLUMNS,
    export_csv_file,
    member_report,
    participation_chart,
    round_summary,
    stream_export,
)
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

SAMPLE_TEXT = (
    "I noticed that the session felt different this week because we tried a new "
    "approach to planning and the group responded with more questions than usual "
    "which made me rethink how I explain the goals and what support people need "
    "next time I want to slow down listen more and check understanding before moving on"
)
VOCABULARY = SAMPLE_TEXT.split()


def words(rng: random.Random, n: int) -> str:
    return " ".join(rng.choices(VOCABULARY, k=n))


async def build(path: Path, members: int, rounds: int, seed: int = 7, url: str | None = None):
    """The database (an SQLite file at ``path``, or the scratch PostgreSQL database at
    ``url``, emptied first), cohort and roster; returns (db, cohort, roster, post rows)."""
    rng = random.Random(seed)
    db = await open_fresh(path, url)
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


@dataclass
class Figure:
    """One figure's runs: wall time and the loop-lag probe's max stall and p99 (seconds)."""

    label: str
    times: list[float] = field(default_factory=list)
    stalls: list[float] = field(default_factory=list)
    p99s: list[float] = field(default_factory=list)
    detail: str = ""

    def row(self) -> str:
        return (
            f"  {self.label:<34} {_ms(median(self.times)):>7} ms  "
            f"({_ms(min(self.times))}–{_ms(max(self.times))})  "
            f"stall {_ms(median(self.stalls))} ms "
            f"({_ms(min(self.stalls))}–{_ms(max(self.stalls))}), "
            f"p99 {_ms(median(self.p99s))} ms  {self.detail}"
        )


def _ms(seconds: float) -> str:
    return f"{seconds * 1000:,.0f}"


async def timed(figure: Figure, call: Callable[[], Awaitable[Any]]) -> Any:
    """One run of ``call`` with the loop-lag probe beside it."""
    async with LoopLag() as lag:
        started = time.perf_counter()
        result = await call()
        figure.times.append(time.perf_counter() - started)
    figure.stalls.append(lag.max)
    figure.p99s.append(lag.p99)
    return result


async def export_file(db: Database, cohort: Cohort, names: dict[int, str]) -> int:
    """The export as ``/report export`` makes it (a file to upload); returns its size."""
    with await export_csv_file(db, cohort, names, include_text=True) as file:
        return file.seek(0, os.SEEK_END)


def export_peak(db: Database, cohort: Cohort, names: dict[int, str]) -> int:
    """Bytes the export's worker allocates at its peak: what it runs
    (:func:`stream_export`), traced by tracemalloc here, into a null file."""
    header = [*EXPORT_COLUMNS, "text"]
    with open(os.devnull, "wb") as sink:
        tracemalloc.start()
        try:
            stream_export(db.elsewhere, sink, header, cohort, dict(names), True)
            return tracemalloc.get_traced_memory()[1]
        finally:
            tracemalloc.stop()


async def run(members: int, rounds: int, runs: int, url: str | None = None) -> dict[str, Figure]:
    with tempfile.TemporaryDirectory() as tmp:
        started = time.perf_counter()
        db, cohort, roster, n_posts, n_excused = await build(
            Path(tmp) / "bench.db", members, rounds, url=url
        )
        freeze_long_lived_objects()  # what `praxis run` does at its first ready
        setup = time.perf_counter() - started
        print(f"reports: {members} members × {rounds} rounds, {n_posts:,} rows in posts, "
              f"{n_excused} excusals (setup {setup:.1f} s), {runs} runs each")  # fmt: skip
        try:
            figures = await measure(db, cohort, roster, rounds, runs)
        finally:
            await db.close()
        print(f"  (load average {os.getloadavg()[0]:.1f} at the end of this size)")
        return figures


async def measure(
    db: Database, cohort: Cohort, roster: list[Person], rounds: int, runs: int
) -> dict[str, Figure]:
    now = START + timedelta(weeks=rounds - 1, days=1)  # the last round is still open
    person = roster[len(roster) // 2]
    names = {p.id: p.name for p in roster}

    async def me_progress():  # what /me progress does for one cohort
        ctx = await reflections.current_context(db, cohort)
        await reflections.member_progress(db, ctx, person.id)
        return await member_report(db, cohort, [], person, now)

    figures = {
        "round": Figure("/report round (latest)"),
        "member": Figure("/report member"),
        "me": Figure("/me progress"),
        "export": Figure("/report export (posts, texts)"),
        "chart": Figure("/report chart"),
        "chart_cold": Figure("/report chart (fonts cold)"),
    }
    forget_chart_caches()  # the first chart of each size loads fonts, as after a restart
    await timed(figures["chart_cold"], lambda: participation_chart(db, cohort, roster, now=now))
    for _ in range(runs):
        summary = await timed(figures["round"], lambda: round_summary(db, cohort, roster, now=now))
        report = await timed(
            figures["member"], lambda: member_report(db, cohort, roster, person, now)
        )
        await timed(figures["me"], me_progress)
        size = await timed(figures["export"], lambda: export_file(db, cohort, names))
        png = await timed(
            figures["chart"], lambda: participation_chart(db, cohort, roster, now=now)
        )
    peak = export_peak(db, cohort, names)
    figures["round"].detail = f"{summary.counted}/{summary.members} counted"
    figures["member"].detail = f"{report.completed}/{len(report.per_round)} completed"
    figures["export"].detail = f"{size / 2**20:.1f} MiB CSV, peak {peak / 2**20:.1f} MiB traced"
    figures["chart"].detail = f"{len(png):,} bytes PNG"
    figures["export"].peak = peak  # type: ignore[attr-defined]
    print(f"  {'what':<34} {'median':>10}  (range)  loop lag: max stall (range), p99")
    for figure in figures.values():
        print(figure.row())
    return figures


def forget_chart_caches() -> None:
    """What the first chart of a process builds: fonts opened, their character maps read,
    the hatch tiles and their palette, the numbers' glyphs."""
    for cached in (chart._font, chart.coverage, chart._tiles, chart._tile_palette,
                   chart._count_ink, chart.text_colour):  # fmt: skip
        cached.cache_clear()


async def run_all(sizes: list[int], rounds: int, runs: int, url: str | None = None) -> None:
    print(f"machine: {platform.processor() or platform.machine()}, {os.cpu_count()} CPUs, "
          f"Python {platform.python_version()}, load average {os.getloadavg()[0]:.1f}")  # fmt: skip
    growth = {}
    for members in sizes:
        growth[members] = await run(members, rounds, runs, url)
    print(f"\ngrowth (medians, {rounds} rounds): members → ms")
    keys = ["round", "member", "me", "export", "chart", "chart_cold"]
    print("  " + f"{'members':>8}" + "".join(f"{growth[sizes[0]][k].label[:20]:>22}" for k in keys))
    for members in sizes:
        cells = "".join(f"{_ms(median(growth[members][k].times)):>22}" for k in keys)
        print(f"  {members:>8}{cells}")
    print("  export peak memory (MiB traced): " + ", ".join(
        f"{m}: {growth[m]['export'].peak / 2**20:.1f}" for m in sizes))  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--members", type=int, nargs="+", default=[125, 250, 500, 1000])
    parser.add_argument("--rounds", type=int, default=52)
    parser.add_argument("--runs", type=int, default=5)
    pg.add_arguments(parser)
    args = parser.parse_args()
    with pg.server_url(args) as url:
        if url is not None:
            print("on PostgreSQL (a scratch database, emptied for each size)")
        asyncio.run(run_all(args.members, args.rounds, args.runs, url))


if __name__ == "__main__":
    main()
