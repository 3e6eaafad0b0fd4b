"""Two real Praxis processes on one PostgreSQL, one killed with SIGKILL: mid-tick,
nothing is doubled, the survivor carries on, and the killed one's server resumes when it
restarts (after its lease runs out); mid-ingest, nothing it acknowledged is lost and the
other takes in all of its own.

The tick processes are ``python -m tests.workers shard`` (see there): the real bot,
holding one of two shards, with its own server on a simulated Discord made the same way
at every start; they print every prompt, nudge and digest they send, and the test adds
them up across processes. The ingest processes are ``tests.workers ingest`` with a share
of bench.ingest's servers each.
"""

from __future__ import annotations

import asyncio
from collections import Counter
from datetime import timedelta
from pathlib import Path

import asyncpg
import pytest

from bench.ingest import ids, share_of
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


async def test_killing_one_of_two_processes_mid_ingest_loses_nothing_acknowledged(
    pg_server, tmp_path: Path, record_property
):
    """Two processes take in their own servers' thread messages (20,000 each) into one
    database; one is SIGKILLed mid-stream. Every message it acknowledged is stored, and
    the other takes in all of its own, undisturbed."""
    url = pg_server.url(await pg_server.create_database())  # migrated, as by a first start
    logs = [(tmp_path / f"ingest-{n}.log").open("w") for n in range(2)]
    killed, survivor = (
        start_worker("ingest", str(tmp_path / str(n)), url, str(n), "2", stderr=logs[n])
        for n in range(2)
    )
    try:
        expected = int(read_until(survivor, "ready*")[-1].split()[1])
        read_until(killed, "ready*")
        acked: set[int] = set()
        while len(acked) < 1500:  # about 3,000 of its 20,000 messages in
            line = killed.stdout.readline().strip()
            assert line.startswith("ack "), f"unexpected output {line!r}"
            acked.add(int(line.split()[1]))
        killed.kill()
        killed.wait(timeout=10)
        read_until(survivor, "done", timeout=120)
    finally:
        for worker in (killed, survivor):
            if worker.poll() is None:
                worker.kill()
            worker.wait(timeout=10)
        for log in logs:
            log.close()
    connection = await asyncpg.connect(url)
    try:
        rows = await connection.fetch(
            "SELECT p.message_id, r.thread_id FROM posts p JOIN rounds r ON r.id = p.round_id"
        )
    finally:
        await connection.close()
    killed_threads = {ids(cohort)[2] for cohort in share_of(0, 2, 100)}
    from_killed = {message for message, thread in rows if thread in killed_threads}
    from_survivor = {message for message, thread in rows if thread not in killed_threads}
    record_property("acknowledged_before_kill", len(acked))
    record_property("stored_from_the_killed_process", len(from_killed))
    assert acked <= from_killed, f"{len(acked - from_killed)} acknowledged messages were lost"
    assert len(from_killed) < expected, "killed mid-stream, not after the end"
    assert len(from_survivor) == expected, "the other process took in all of its messages"
