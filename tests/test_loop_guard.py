"""The event loop stays free while reports, exports and the chart are made.

Not a timing test in the flaky sense: a probe task (``bench.looplag``) measures the
longest time the loop was kept from running it, and the bound is generous (150 ms, where
a healthy run stalls a few ms on a quiet machine and up to ~80 ms beside three CPU-bound
processes, and the old in-loop export stalled 1.0–1.4 s at this size), so a loaded CI
machine passes and a regression that puts heavy work back on the loop fails.
"""

from __future__ import annotations

import asyncio
import gc
import io
import signal
from datetime import timedelta

import pytest

from bench.looplag import LoopLag
from bench.reports import START, build
from bot.core import digests, reports
from bot.storage import reports as store

MEMBERS, ROUNDS = 150, 26
BOUND = 0.15  # seconds


class DigestChat:
    """What the digest needs from a chat platform: the roster, and somewhere to send."""

    def __init__(self, roster) -> None:
        self.roster_ = roster
        self.charts: list[bytes] = []

    async def roster(self, cohort):
        return self.roster_

    async def send_digest(self, cohort, summary, chart_png: bytes) -> None:
        self.charts.append(chart_png)


@pytest.fixture
async def cohort(tmp_path):
    """The cohort's database, with everything alive now frozen out of the garbage
    collector's reach, as ``praxis run`` freezes its long-lived objects at first ready:
    otherwise a full collection walks the whole test session's heap (a thousand tests'
    leftovers, which no running bot has) and that, not the code, is the stall measured."""
    db, cohort, roster, _, _ = await build(tmp_path / "guard.db", MEMBERS, ROUNDS)
    gc.collect()
    gc.freeze()
    try:
        yield db, cohort, roster
    finally:
        gc.unfreeze()
        await db.close()


async def test_reports_exports_and_the_chart_never_stall_the_loop(cohort):
    db, found, roster = cohort
    now = START + timedelta(weeks=ROUNDS - 1, days=1)
    person = roster[len(roster) // 2]
    names = {p.id: p.name for p in roster}
    for row in (await store.undigested_closed(db))[:-1]:  # one digest (and chart) is due
        assert await store.claim_digest(db, row["id"], "2000-01-01T00:00:00+00:00")
    chat = DigestChat(roster)

    jobs = {
        "/report member": lambda: reports.member_report(db, found, roster, person, now),
        "/report round": lambda: reports.round_summary(db, found, roster, now=now),
        "export with texts": lambda: reports.export_csv(db, found, names, include_text=True),
        "digest with its chart": lambda: digests.send_due(db, chat, now),
    }
    for name, job in jobs.items():
        async with LoopLag() as lag:
            await job()
        assert lag.max < BOUND, f"{name} held the event loop: {lag}"
    [png] = chat.charts
    assert png.startswith(b"\x89PNG\r\n\x1a\n")


async def test_the_export_worker_writes_what_the_export_writes_in_process(cohort, tmp_path):
    """The worker process runs :func:`reports.stream_export`; its file is byte for byte
    what that function writes here, from the same database."""
    db, found, roster = cohort
    names = {p.id: p.name for p in roster[:-5]}  # the rest are named as they signed
    header = [*reports.EXPORT_COLUMNS, "text"]
    here = io.BytesIO()
    reports.stream_export(db.elsewhere, here, header, found, dict(names), True)
    with await reports.export_csv_file(db, found, names, include_text=True) as file:
        assert file.read() == here.getvalue()
    assert here.getvalue().count(b"\n") > MEMBERS * ROUNDS


async def test_the_export_worker_reads_in_batches_authors_first(cohort):
    """Memory bounded by a batch on either backend: the worker's reads (an SQLite cursor,
    or a PostgreSQL server-side cursor in one snapshot) come a batch at a time."""
    db, found, _ = cohort
    kinds, sizes = [], []
    for kind, batch in store.export_batches(db.elsewhere, found.id, 97):
        kinds.append(kind)
        sizes.append(len(batch))
    assert kinds == sorted(kinds) and {"author", "post"} == set(kinds)  # authors first
    assert max(sizes) == 97
    posts = sum(size for kind, size in zip(kinds, sizes, strict=True) if kind == "post")
    authors = sum(size for kind, size in zip(kinds, sizes, strict=True) if kind == "author")
    assert posts == authors == len(await store.export_rows(db, found.id))


async def test_a_failing_export_worker_raises_without_quoting_its_error(cohort, tmp_path):
    _, found, _ = cohort
    with pytest.raises(RuntimeError, match=r"exit 1, sqlite3\.OperationalError$") as caught:
        await reports._export_in_process(
            ("sqlite", str(tmp_path / "gone.db")), ["round"], found, {}, False
        )
    assert "unable to open" not in str(caught.value)


async def test_a_cancelled_export_stops_its_worker(cohort, monkeypatch):
    """An export abandoned half way (the bot closing, say) doesn't leave its worker
    writing: the process is killed."""
    db, found, _ = cohort
    started, running = [], asyncio.Event()
    real = asyncio.create_subprocess_exec

    async def spy(*args, **kwargs):
        started.append(await real(*args, **kwargs))
        running.set()
        return started[-1]

    monkeypatch.setattr(asyncio, "create_subprocess_exec", spy)
    task = asyncio.create_task(reports.export_csv_file(db, found, {}, include_text=True))
    await asyncio.wait_for(running.wait(), 10)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert await asyncio.wait_for(started[0].wait(), 10) == -signal.SIGKILL
