"""Killing and stopping a real Praxis process: nothing acknowledged is lost, nothing is
half-written. The processes are in ``tests/workers.py``."""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent

pytestmark = pytest.mark.sqlite_only(
    "worker processes on an SQLite file; PostgreSQL's come with the multi-process work"
)


def start_worker(*args: str, stderr=subprocess.PIPE) -> subprocess.Popen:
    """``python -m tests.workers ARGS``; commands go in on its stdin, lines come out."""
    return subprocess.Popen(
        [sys.executable, "-m", "tests.workers", *args],
        cwd=ROOT,
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=stderr,
        text=True,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
    )


def read_until(process: subprocess.Popen, wanted: str, timeout: float = 60) -> list[str]:
    """Lines the worker printed up to and including ``wanted``."""
    lines, deadline = [], time.monotonic() + timeout
    while time.monotonic() < deadline:
        line = process.stdout.readline().strip()
        if not line and process.poll() is not None:
            errors = process.stderr.read()[-2000:] if process.stderr else "(see its log)"
            raise AssertionError(f"worker ended early: {errors}")
        lines.append(line)
        if line == wanted or (wanted.endswith("*") and line.startswith(wanted[:-1])):
            return lines
    raise AssertionError(f"worker never printed {wanted!r}")


def test_sigkill_during_heavy_ingest_loses_nothing_acknowledged(tmp_path: Path, record_property):
    worker = start_worker("ingest", str(tmp_path))
    try:
        read_until(worker, "ready*")
        acked: set[int] = set()
        while len(acked) < 1500:  # about 6,000 messages in, mid-stream
            line = worker.stdout.readline().strip()
            assert line.startswith("ack "), f"unexpected output {line!r}"
            acked.add(int(line.split()[1]))
        worker.send_signal(signal.SIGKILL)
        worker.wait(timeout=10)
    finally:
        if worker.poll() is None:
            worker.kill()
    assert worker.returncode == -signal.SIGKILL

    db = sqlite3.connect(tmp_path / "bench.db")  # opening it recovers from the WAL
    try:
        assert db.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        stored = {row[0] for row in db.execute("SELECT message_id FROM posts WHERE acked = 1")}
        total = db.execute("SELECT COUNT(*) FROM posts").fetchone()[0]
    finally:
        db.close()
    record_property("acknowledged_before_kill", len(acked))
    record_property("stored_after_kill", total)
    assert acked <= stored, f"{len(acked - stored)} acknowledged messages were lost"
    assert total < 40_000, "killed mid-stream, not after the end"


def test_sigterm_during_a_tick_exits_promptly_after_finishing_it(tmp_path: Path, record_property):
    """The tick in flight is short enough to finish within the grace period."""
    db_path = tmp_path / "praxis.db"
    worker = start_worker("tick", str(db_path), "0.05")  # 25 posts: 1-2 s, within the grace
    exit_seconds = stop_while_posting(worker)
    record_property("seconds_from_sigterm_to_exit", round(exit_seconds, 1))
    assert exit_seconds < 10
    assert worker.returncode == 0, worker.stderr.read()[-2000:]
    rows = rounds_of(db_path)
    assert len(rows) == 25 and {r["state"] for r in rows} == {"posted"}, "the tick finished"
    assert all(r["message_id"] and r["thread_id"] for r in rows)


def test_sigterm_during_a_long_tick_exits_within_ten_seconds_half_writing_nothing(
    tmp_path: Path, record_property
):
    """A tick that would take 25 s is cut off; what it had done is recorded whole."""
    db_path = tmp_path / "praxis.db"
    worker = start_worker("tick", str(db_path), "1.0")
    exit_seconds = stop_while_posting(worker)
    record_property("seconds_from_sigterm_to_exit", round(exit_seconds, 1))
    assert exit_seconds < 10
    assert worker.returncode == 0, worker.stderr.read()[-2000:]
    rows = rounds_of(db_path)
    posted = [r for r in rows if r["state"] == "posted"]
    assert 1 <= len(posted) < 25, "cut off part-way"
    assert all(r["message_id"] and r["thread_id"] for r in posted), "posted rows are whole"
    waiting = [r for r in rows if r["state"] != "posted"]
    assert all(r["state"] == "claimed" for r in waiting), "the rest wait for the next start"
    assert all(r["thread_id"] is None for r in waiting)


def stop_while_posting(worker: subprocess.Popen) -> float:
    try:
        read_until(worker, "posting")
        started = time.monotonic()
        worker.send_signal(signal.SIGTERM)
        worker.wait(timeout=30)
        return time.monotonic() - started
    finally:
        if worker.poll() is None:
            worker.kill()


def rounds_of(db_path: Path) -> list[sqlite3.Row]:
    db = sqlite3.connect(db_path)
    db.row_factory = sqlite3.Row
    try:
        assert db.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        return db.execute("SELECT * FROM rounds ORDER BY id").fetchall()
    finally:
        db.close()
