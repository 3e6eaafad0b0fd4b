"""Two real Praxis processes on one PostgreSQL, one killed mid-tick: nothing doubled,
nothing lost, the survivor carries on, and the killed one's server resumes when it
restarts (after its lease runs out).

Each process is ``python -m tests.workers shard`` (see there): the real bot, holding one
of two shards, with its own server on a simulated Discord made the same way at every
start. The processes print every prompt, nudge and digest they send; the test adds them
up across processes.
"""

from __future__ import annotations

import asyncio
from collections import Counter
from datetime import timedelta
from pathlib import Path

import asyncpg
import pytest

from tests.test_process_faults import read_until, start_worker
from tests.workers import FIRST_SLOT, LEASE_SECONDS, SHARD_SERVER_COHORTS

pytestmark = pytest.mark.postgresql_only("several processes share one PostgreSQL")

REFLECT_REMINDER = FIRST_SLOT + timedelta(hours=48)
FEEDBACK_DUE = FIRST_SLOT + timedelta(hours=144)


class Process:
    """One worker, and everything it has said it sent."""

    def __init__(self, url: str, shard: int, log: Path, *extra: str) -> None:
        self.log = log.open("w")  # not a pipe: nobody reads it until the end
        self.worker = start_worker("shard", url, str(shard), *extra, stderr=self.log)
        self.sent: list[str] = []
        self.ready = self._take(read_until(self.worker, "ready*"))[-1]

    def _take(self, lines: list[str]) -> list[str]:
        self.sent += [line for line in lines if line.split()[0] in ("post", "nudge", "digest")]
        return lines

    def tick(self, moment, until: str = "ticked*") -> str:
        self.worker.stdin.write(f"tick {moment.isoformat()}\n")
        self.worker.stdin.flush()
        return self._take(read_until(self.worker, until))[-1]

    def stop(self) -> None:
        if self.worker.poll() is None:
            self.worker.kill()
        self.worker.wait(timeout=10)
        self.log.close()


async def test_killing_one_of_two_processes_mid_tick_doubles_and_loses_nothing(
    pg_server, tmp_path: Path, record_property
):
    url = pg_server.url(await pg_server.create_database(empty=True))
    first = Process(url, 0, tmp_path / "first.log", "3")  # its third prompt hangs there
    second = Process(url, 1, tmp_path / "second.log")
    processes = [first, second]
    try:
        assert first.tick(FIRST_SLOT, until="blocked*").startswith("blocked")
        assert second.tick(FIRST_SLOT).startswith(f"ticked {SHARD_SERVER_COHORTS} ")
        first.worker.kill()  # SIGKILL, mid-tick: two prompts out, one in flight, one to go
        first.worker.wait(timeout=10)

        assert second.tick(FIRST_SLOT + timedelta(minutes=10)).startswith("ticked 0 ")
        restarted = Process(url, 0, tmp_path / "restarted.log")
        processes.append(restarted)
        waiting = restarted.tick(FIRST_SLOT + timedelta(minutes=10))
        assert waiting == "ticked 0 []", "the killed process's lease still holds its server"
        await asyncio.sleep(LEASE_SECONDS + 0.5)  # let the killed process's lease run out, for real
        resumed = restarted.tick(FIRST_SLOT + timedelta(minutes=20))
        assert resumed.startswith("ticked 2 "), resumed  # the one in flight and the last

        for moment in (REFLECT_REMINDER, FEEDBACK_DUE + timedelta(minutes=1)):
            for process in (restarted, second):
                process.tick(moment)
    finally:
        for process in processes:
            process.stop()

    sent = Counter(line for p in processes for line in p.sent)
    kinds = Counter(line.split()[0] for line in sent.elements())
    record_property("sent", dict(kinds))
    assert [line for line, times in sent.items() if times > 1] == [], "something went twice"
    cohorts = 2 * SHARD_SERVER_COHORTS
    assert kinds["post"] == cohorts and kinds["digest"] == cohorts
    assert kinds["nudge"] >= cohorts * 3, "every member of every cohort was reminded"


async def test_sigkill_mid_ingest_on_postgresql_loses_nothing_acknowledged(
    pg_server, tmp_path: Path, record_property
):
    """The SQLite test of the same name (tests/test_process_faults.py), on PostgreSQL."""
    url = pg_server.url(await pg_server.create_database(empty=True))
    with (tmp_path / "ingest.log").open("w") as log:
        worker = start_worker("ingest", str(tmp_path), url, stderr=log)
        try:
            read_until(worker, "ready")
            acked: set[int] = set()
            while len(acked) < 1500:  # about 6,000 messages in, mid-stream
                line = worker.stdout.readline().strip()
                assert line.startswith("ack "), f"unexpected output {line!r}"
                acked.add(int(line.split()[1]))
            worker.kill()
            worker.wait(timeout=10)
        finally:
            if worker.poll() is None:
                worker.kill()
    connection = await asyncpg.connect(url)
    try:
        stored = {
            r[0] for r in await connection.fetch("SELECT message_id FROM posts WHERE acked = 1")
        }
        total = await connection.fetchval("SELECT COUNT(*) FROM posts")
    finally:
        await connection.close()
    record_property("acknowledged_before_kill", len(acked))
    record_property("stored_after_kill", total)
    assert acked <= stored, f"{len(acked - stored)} acknowledged messages were lost"
    assert total < 40_000, "killed mid-stream, not after the end"
