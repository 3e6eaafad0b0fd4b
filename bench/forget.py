"""What forgetting costs on disk: ``/me forget`` and a retention purge on a realistic file.

Builds the reports bench's cohort (``--members`` × ``--rounds``, about 74,000 posts at
500 × 52), then times, each on a fresh copy of that file:

* forgetting one member (the re-keying transaction), then the scrub: a TRUNCATE
  checkpoint alone, and the VACUUM + checkpoint that ``/me forget`` does;
* a retention purge of the oldest round's texts, with ``secure_delete`` on (as Praxis
  runs) and off, then the checkpoint the tick does after it.

    python -m bench.forget [--members 500] [--rounds 52]
"""

from __future__ import annotations

import argparse
import asyncio
import shutil
import tempfile
import time
from collections.abc import Awaitable, Callable
from datetime import timedelta
from pathlib import Path
from typing import Any

from bench.reports import GUILD_ID, START, build
from bot.core import privacy_rights
from bot.core.clock import to_db
from bot.storage import privacy as store
from bot.storage.db import Database


async def timed(call: Callable[[], Awaitable[Any]]) -> tuple[float, Any]:
    started = time.perf_counter()
    result = await call()
    return time.perf_counter() - started, result


def size_mb(path: Path) -> float:
    return sum(p.stat().st_size for p in path.parent.glob(path.name + "*")) / 1e6


async def fresh(original: Path, tmp: Path, name: str) -> tuple[Database, Path]:
    copy = tmp / f"{name}.db"
    shutil.copy(original, copy)
    db = await Database.open(copy)
    await db.scrub()  # start from an empty WAL, as after any earlier scrub
    return db, copy


async def forget_one(db: Database, member_id: int, now) -> int:
    """The forgetting transaction alone, as ``privacy_rights.forget`` runs it."""
    pseudonym = privacy_rights._random_negative()
    async with db.transaction() as tx:
        posts = await store.authored_links(tx, GUILD_ID, member_id)
        renamed = await privacy_rights._fresh_ids(tx, [row["message_id"] for row in posts])
        return await store.anonymise(tx, GUILD_ID, member_id, pseudonym, posts, renamed, now)


async def run(members: int, rounds: int) -> None:
    with tempfile.TemporaryDirectory() as tmp_name:
        tmp = Path(tmp_name)
        original = tmp / "bench.db"
        db, _, roster, n_posts, _ = await build(original, members, rounds)
        await db.close()  # closing checkpoints and removes the WAL
        print(f"forget: {members} members × {rounds} rounds, {n_posts:,} posts, "
              f"file {size_mb(original):.1f} MB")  # fmt: skip
        now = to_db(START + timedelta(weeks=rounds))
        for vacuum in (False, True):
            db, copy = await fresh(original, tmp, f"forget-{vacuum}")
            try:
                await measure_forget(db, copy, roster[len(roster) // 2].id, now, vacuum)
            finally:
                await db.close()
        for secure in ("ON", "OFF"):
            db, _ = await fresh(original, tmp, f"purge-{secure}")
            try:
                await measure_purge(db, secure, now)
            finally:
                await db.close()


async def measure_forget(db: Database, copy: Path, member_id: int, now: str, vacuum: bool) -> None:
    t_tx, rows = await timed(lambda: forget_one(db, member_id, now))
    wal = size_mb(copy)
    t_scrub, done = await timed(lambda: db.scrub(vacuum=vacuum))
    what = "VACUUM + checkpoint" if vacuum else "checkpoint(TRUNCATE)"
    print(f"  forget one member ({rows} posts): transaction {t_tx * 1000:6.0f} ms; "
          f"{what} {t_scrub * 1000:6.0f} ms (files {wal:.1f} MB before, ok={done})")  # fmt: skip


async def measure_purge(db: Database, secure: str, now: str) -> None:
    """The oldest round's texts expire; ``secure`` sets ``secure_delete`` for comparison."""
    async with db.reading() as tx:
        await tx.fetch_all(f"PRAGMA secure_delete = {secure}")
        cohort_id = await tx.fetch_value("SELECT id FROM cohorts")
    cutoff = to_db(START + timedelta(days=7))

    async def purge() -> int:
        async with db.transaction() as tx:
            return await store.purge_before(tx, cohort_id, cutoff, now)

    t_purge, purged = await timed(purge)
    t_scrub, _ = await timed(db.scrub)
    print(f"  retention purge, secure_delete {secure:<3} ({purged:,} texts): "
          f"{t_purge * 1000:6.0f} ms; checkpoint(TRUNCATE) {t_scrub * 1000:6.0f} ms")  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--members", type=int, default=500)
    parser.add_argument("--rounds", type=int, default=52)
    args = parser.parse_args()
    asyncio.run(run(args.members, args.rounds))


if __name__ == "__main__":
    main()
