"""One tick for 1,000 cohorts, on SQLite and on PostgreSQL: planning, and every prompt due.

The world is bench.startup's (``build_database``): 40 servers × 25 cohorts, weekly
schedules on Monday mornings in nine timezones, ``--past-rounds`` closed rounds and one
open round a day old. Two ticks are measured, each in a fresh interpreter per run:

* **nothing due** (planning): ``bot.tick`` at bench.startup's moment (Tuesday 14:00 UTC).
  It still plans every cohort's next slot and looks at every open round for nudges, pairs
  and closing. The database is the built one, unchanged between runs but for the
  heartbeat.
* **every prompt due**: ``bot.tick`` on Monday of the next week at 19:00 UTC, when all
  1,000 cohorts' Monday slots (20:00 UTC Sunday in Sydney to 18:00 UTC in Los Angeles)
  have come: 1,000 rounds claimed, each prompt posted and its thread opened through
  discord.py's real HTTP layer (``HTTPClient.request``: routes, buckets, JSON) into a stub
  aiohttp session (bench.ingest's ``FakeSession``), with no pacing: Discord's limits would
  measure Discord. Before it, the week's open rounds were closed as finished (pairs made
  and announced, digest sent) straight in the database, as ``build_database`` closes
  past rounds, so the measured tick only claims and posts. Each run starts from its own
  copy of that database.

Each tick's time, the loop's lag meanwhile (bench.looplag: a 2 ms probe), the REST calls
it made, and (in one extra run per case, not timed: counting costs a callback per
statement) the SQL statements it ran: SQLite's trace callback counts each step of an
``executemany`` row by row; on PostgreSQL each call through the storage layer counts once.

    python -m bench.tick [--cohorts 1000] [--members 8] [--past-rounds 4] [--runs 3]
                         [--postgresql] [--database-url postgresql://…]

SQLite always; PostgreSQL too with ``--postgresql`` (a throwaway server from the machine's
binaries; skipped with a notice when there are none) or ``--database-url`` (a server on
which the bench may create and drop databases named ``praxis_tick_*``).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import re
import shutil
import statistics
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

import discord

from bench import pg
from bench.child import run_python
from bench.ingest import FakeResponse, FakeSession, guild_payloads, stub_rest, user
from bench.looplag import LoopLag
from bench.startup import NOW, PER_GUILD, QueryCounter, build_database, ingest_layout
from bot.app import create_bot
from bot.config import Settings
from bot.storage.db import Database

#: Every cohort's Monday slot has come, none's reflection window has closed.
ALL_DUE = datetime(2026, 3, 16, 19, 0, tzinfo=UTC)
_THREAD = re.compile(r"/channels/(\d+)/messages/(\d+)/threads$")


class TickSession(FakeSession):
    """bench.ingest's stub session, which also opens a thread on a message (the round's
    thread) and answers with the thread Discord would create."""

    def request(self, method: str, url: str, **kwargs) -> FakeResponse:
        found = _THREAD.search(url.split("/api/v10", 1)[-1])
        if method != "POST" or found is None:
            return super().request(method, url, **kwargs)
        self.calls["POST /channels/{id}/messages/{id}/threads"] += 1
        channel_id, message_id = found.groups()
        name = json.loads(kwargs.get("data") or "{}").get("name", "Round")
        return FakeResponse(201, {
            "id": message_id, "type": 11, "name": name, "parent_id": channel_id,
            "owner_id": "1", "message_count": 0, "member_count": 1,
            "thread_metadata": {"archived": False, "auto_archive_duration": 10080,
                                "archive_timestamp": ALL_DUE.isoformat(), "locked": False},
        })  # fmt: skip


async def close_open_rounds(where: str) -> int:
    """Close every open round as a finished one (pairs made and announced, digest sent),
    as ``build_database`` leaves past rounds; returns how many."""
    if where.startswith("postgres"):
        from bot.storage.postgres import PostgresDatabase

        db = await PostgresDatabase.open(where)
    else:
        db = await Database.open(Path(where))
    try:
        async with db.transaction() as tx:
            return await tx.execute_rowcount(
                "UPDATE rounds SET state = 'closed', assigned_at = reflect_due,"
                " pairs_announced_at = reflect_due, assignment_message_id = thread_id + 1,"
                " digest_sent_at = feedback_due, closed_at = feedback_due"
                " WHERE state = 'posted'"
            )
    finally:
        await db.close()


class StatementCounter:
    """Counts the SQL statements ``db`` runs between ``start`` and ``stop`` (``n``)."""

    def __init__(self, db) -> None:
        self.db = db
        self._sqlite: QueryCounter | None = None
        self._counted = 0
        self._undo = None

    @property
    def n(self) -> int:
        return self._sqlite.n if self._sqlite is not None else self._counted

    async def start(self) -> None:
        if self.db.dialect == "sqlite":
            self._sqlite = QueryCounter(self.db)
            await self._sqlite.start()
            return
        import bot.storage.postgres as postgres

        numbered = postgres.numbered

        def counting(sql: str) -> str:
            self._counted += 1
            return numbered(sql)

        postgres.numbered = counting  # every PostgresTx call numbers its statement once
        self._undo = lambda: setattr(postgres, "numbered", numbered)

    def stop(self) -> None:
        if self._undo is not None:
            self._undo()


async def measure(
    where: str, cohorts: int, members_per: int, now: datetime, count: bool, again: bool = False
):
    """One tick at ``now`` on the database ``where`` (a SQLite path or a PostgreSQL URL),
    with the servers cached as after ready; returns its figures. ``again``: time a second
    tick at the same moment (only for a tick that leaves nothing changed but the heartbeat)."""
    url = where if where.startswith("postgres") else None
    path = Path(where) if url is None else Path(tempfile.gettempdir()) / "unused.db"
    bot = create_bot(Settings(database_path=path, database_url=url, scheduler_enabled=False))
    await bot._async_setup_hook()  # what login() does first: binds the loop, no network
    session = stub_rest(bot, session=TickSession())
    state = bot._connection
    state.user = discord.ClientUser(state=state, data=user(1, "Praxis", bot=True))
    state.application_id = 1
    figures: dict = {}
    try:
        await bot.setup_hook()  # opens the database, loads the cogs; the sync goes to the stub
        for payload in guild_payloads(cohorts, members_per):
            state._add_guild_from_data(payload)
        session.calls.clear()
        counter = StatementCounter(bot.db) if count else None
        if counter is not None:
            await counter.start()
        async with LoopLag() as lag:
            mark = time.perf_counter()
            report = await bot.tick(now)
            figures["tick"] = time.perf_counter() - mark
        if counter is not None:
            counter.stop()
        outcome = report.rounds
        figures.update(
            lag_max=lag.max,
            lag_p99=lag.p99,
            statements=counter.n if counter is not None else None,
            requests=sum(session.calls.values()),
            routes=dict(session.calls),
            claimed=len(outcome.claimed),
            posted=len(outcome.posted),
            missed=len(outcome.missed),
            failed=len(outcome.failed) + len(report.failed_steps),
            other_work=len(outcome.closed) + len(report.assigned) + len(report.digests)
            + len(report.nudges.by_dm) + len(report.nudges.in_thread) + report.purged,
        )  # fmt: skip
        if again:  # the same tick once more in this process: prepared statements warm
            mark = time.perf_counter()
            await bot.tick(now)
            figures["tick_again"] = time.perf_counter() - mark
    finally:
        await bot.close()
    return figures


def _child(where: str, cohorts: int, members_per: int, now: str, count: bool) -> None:
    at = datetime.fromisoformat(now)
    figures = asyncio.run(measure(where, cohorts, members_per, at, count, again=at == NOW))
    print(json.dumps(figures))


def run_fresh(where: str, cohorts: int, members_per: int, now: datetime, count=False) -> dict:
    """One tick in a new interpreter."""
    code = (f"import bench.tick as t; t._child({where!r}, {cohorts}, {members_per}, "
            f"{now.isoformat()!r}, {count})")  # fmt: skip
    figures = json.loads(run_python(code)[-1])
    figures["load"] = os.getloadavg()[0]
    return figures


class SqliteCopies:
    """The world as SQLite files: copies are file copies."""

    name = "SQLite"

    def __init__(self, directory: Path) -> None:
        self.directory = directory

    def where(self, name: str) -> str:
        return str(self.directory / f"{name}.db")

    async def build(self, name: str, specs, past_rounds: int) -> dict:
        return await build_database(Path(self.where(name)), specs, past_rounds)

    def copy(self, source: str, name: str) -> str:
        """A copy of database ``source`` named ``name``; returns where it is."""
        for suffix in ("", "-wal", "-shm"):
            if Path(self.where(source) + suffix).exists():
                shutil.copyfile(self.where(source) + suffix, self.where(name) + suffix)
        return self.where(name)

    def drop(self, name: str) -> None:
        for suffix in ("", "-wal", "-shm"):
            Path(self.where(name) + suffix).unlink(missing_ok=True)


class PostgresCopies:
    """The world as PostgreSQL databases on one server: copies are ``CREATE DATABASE …
    TEMPLATE``."""

    name = "PostgreSQL"

    def __init__(self, url: str) -> None:
        self.url = url

    def where(self, name: str) -> str:
        return pg.with_database(self.url, f"praxis_tick_{name}")

    async def build(self, name: str, specs, past_rounds: int) -> dict:
        await pg.admin(self.url, f"DROP DATABASE IF EXISTS praxis_tick_{name}")
        await pg.admin(self.url, f"CREATE DATABASE praxis_tick_{name}")
        return await build_database(Path("unused"), specs, past_rounds, url=self.where(name))

    def copy(self, source: str, name: str) -> str:
        async def create() -> None:
            await pg.admin(self.url, f"DROP DATABASE IF EXISTS praxis_tick_{name}")
            await pg.admin(
                self.url, f"CREATE DATABASE praxis_tick_{name} TEMPLATE praxis_tick_{source}"
            )

        asyncio.run(create())
        return self.where(name)

    def drop(self, name: str) -> None:
        asyncio.run(pg.admin(self.url, f"DROP DATABASE IF EXISTS praxis_tick_{name}"))


def measure_backend(copies, args) -> dict:
    """Build the world, then the two cases' runs (and a counting run each)."""
    specs = ingest_layout(args.cohorts, args.members)
    started = time.perf_counter()
    counts = asyncio.run(copies.build("world", specs, args.past_rounds))
    built = time.perf_counter() - started
    world = copies.where("world")
    measured = {"counts": counts, "built": built}
    idle = [run_fresh(world, args.cohorts, args.members, NOW) for _ in range(args.runs)]
    idle_count = run_fresh(world, args.cohorts, args.members, NOW, count=True)
    closed = asyncio.run(close_open_rounds(copies.copy("world", "before")))
    due = []
    for number in range(args.runs + 1):  # the last one counts statements
        where = copies.copy("before", f"run{number}")
        due.append(run_fresh(where, args.cohorts, args.members, ALL_DUE,
                             count=number == args.runs))  # fmt: skip
        copies.drop(f"run{number}")
    for name in ("before", "world"):
        copies.drop(name)
    due_count = due.pop()
    measured.update(idle=idle, idle_count=idle_count, closed=closed, due=due,
                    due_count=due_count)  # fmt: skip
    return measured


def _spread(values: list[float], scale: float = 1000, fmt: str = ".0f") -> str:
    mid, low, high = (format(v * scale, fmt) for v in
                      (statistics.median(values), min(values), max(values)))  # fmt: skip
    return f"{mid} ({low} – {high})"


def report(name: str, measured: dict, cohorts: int) -> list[str]:
    """Printed lines for one backend; also the checks that failed."""
    counts = measured["counts"]
    print(f"{name}: {counts['cohorts']} cohorts, {counts['rounds']:,} rounds, "
          f"{counts['posts']:,} posts (built in {measured['built']:.0f} s)")  # fmt: skip
    rows = (("nothing due (planning)", measured["idle"], measured["idle_count"]),
            ("every prompt due (claim + post)", measured["due"],
             measured["due_count"]))  # fmt: skip
    print(f"  {'':<34}{'tick ms':>22}{'loop lag max ms':>20}{'p99 ms':>16}"
          f"{'SQL':>8}{'REST':>7}  load")  # fmt: skip
    for label, runs, counted in rows:
        tick = _spread([r["tick"] for r in runs])
        lag_max = _spread([r["lag_max"] for r in runs])
        p99 = _spread([r["lag_p99"] for r in runs])
        load = _spread([r["load"] for r in runs], scale=1, fmt=".2f")
        print(f"  {label:<34}{tick:>22}{lag_max:>20}{p99:>16}{counted['statements']:>8,}"
              f"{runs[0]['requests']:>7,}  {load}")  # fmt: skip
    failed = []
    if measured["closed"] != cohorts:
        failed.append(f"{name}: {measured['closed']} open rounds closed before the due tick")
    for r in measured["idle"] + [measured["idle_count"]]:
        if r["claimed"] or r["posted"] or r["other_work"] or r["requests"] or r["failed"]:
            failed.append(f"{name}: the planning tick did work")
    for r in measured["due"] + [measured["due_count"]]:
        if not (r["claimed"] == r["posted"] == cohorts) or r["missed"] or r["failed"]:
            failed.append(f"{name}: the due tick posted {r['posted']} of {cohorts}")
        elif r["other_work"]:
            failed.append(f"{name}: the due tick did other work too")
    again = _spread([r["tick_again"] for r in measured["idle"]])
    print(f"  nothing due, a second tick in the same process (statements prepared): {again} ms")
    routes = measured["due"][0]["routes"]
    print("  due tick's requests: " + ", ".join(f"{n:,} {route}" for route, n in routes.items()))
    return failed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cohorts", type=int, default=1000)
    parser.add_argument("--members", type=int, default=8, help="members per cohort")
    parser.add_argument("--past-rounds", type=int, default=4)
    parser.add_argument("--runs", type=int, default=3, help="fresh interpreters per case")
    pg.add_arguments(parser)
    args = parser.parse_args()
    if args.cohorts % PER_GUILD and args.cohorts > PER_GUILD:
        parser.error(f"--cohorts: a multiple of {PER_GUILD} (whole servers)")
    print(f"tick: {args.cohorts} cohorts, {args.members} members each, {args.past_rounds} "
          f"past rounds; median (range) of {args.runs} runs, each a fresh interpreter")  # fmt: skip
    failed = []
    with tempfile.TemporaryDirectory() as tmp:
        failed += report("SQLite", measure_backend(SqliteCopies(Path(tmp)), args), args.cohorts)
    with pg.server_url(args) as url:
        if url is not None:
            failed += report("PostgreSQL", measure_backend(PostgresCopies(url), args),
                             args.cohorts)  # fmt: skip
    print(f"  load average at the end: {', '.join(f'{x:.2f}' for x in os.getloadavg())}")
    if failed:
        raise SystemExit("; ".join(sorted(set(failed))))
    print(
        "  checks: the planning tick did nothing; the due tick claimed and posted every "
        "cohort's round and did nothing else"
    )


if __name__ == "__main__":
    main()
