"""``praxis backup DEST``: a consistent, verified copy of the live database."""

from __future__ import annotations

import sqlite3
import stat
import threading
import time
from pathlib import Path

import pytest

from bot.storage.backup import BackupRefused, backup_database
from tests.test_cli import LATEST, add_cohort, assert_one_line_error, cli

pytestmark = pytest.mark.sqlite_only("praxis backup copies the SQLite file")


def count(path: Path, table: str) -> int:
    conn = sqlite3.connect(path)
    try:
        return conn.execute(f"SELECT COUNT(*) FROM {table}").fetchone()[0]
    finally:
        conn.close()


def test_backup_copies_the_database_and_verifies_it(tmp_path: Path):
    assert cli(tmp_path, "migrate").returncode == 0
    add_cohort(tmp_path, 1)
    add_cohort(tmp_path, 2)

    result = cli(tmp_path, "backup", "copy.db")

    assert result.returncode == 0, result.stderr
    assert "integrity ok" in result.stdout
    copy = tmp_path / "copy.db"
    assert count(copy, "cohorts") == 2
    with sqlite3.connect(copy) as conn:
        assert conn.execute("PRAGMA user_version").fetchone()[0] == LATEST
        assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "delete"  # one file
    assert stat.S_IMODE(copy.stat().st_mode) == 0o600  # it holds reflections too
    assert not list(tmp_path.glob(".copy.db.partial*"))


def test_backup_refuses_to_overwrite_unless_forced(tmp_path: Path):
    assert cli(tmp_path, "migrate").returncode == 0
    (tmp_path / "copy.db").write_text("yesterday's backup")

    refused = cli(tmp_path, "backup", "copy.db")

    assert refused.returncode == 2
    assert "--force" in assert_one_line_error(refused)
    assert (tmp_path / "copy.db").read_text() == "yesterday's backup"

    forced = cli(tmp_path, "backup", "copy.db", "--force")

    assert forced.returncode == 0, forced.stderr
    assert count(tmp_path / "copy.db", "cohorts") == 0


def test_backup_without_a_database_creates_nothing(tmp_path: Path):
    result = cli(tmp_path, "backup", "copy.db")

    assert result.returncode == 2
    assert "no database" in assert_one_line_error(result)
    assert not (tmp_path / "praxis.db").exists()
    assert not (tmp_path / "copy.db").exists()


def test_backup_while_the_bot_holds_a_write_open_copies_only_what_was_committed(
    tmp_path: Path,
):
    """The bot's connection is mid-transaction (WAL): the backup neither waits nor sees it."""
    assert cli(tmp_path, "migrate").returncode == 0
    add_cohort(tmp_path, 1)
    writer = sqlite3.connect(tmp_path / "praxis.db", isolation_level=None)
    try:
        writer.execute("BEGIN IMMEDIATE")
        writer.execute("UPDATE cohorts SET name = 'half-written' WHERE id = 1")
        result = cli(tmp_path, "backup", "copy.db", timeout=15)
        writer.execute("COMMIT")
    finally:
        writer.close()

    assert result.returncode == 0, result.stderr
    with sqlite3.connect(tmp_path / "copy.db") as conn:
        assert conn.execute("SELECT name FROM cohorts").fetchall() == [("Cohort 1",)]


def test_backup_during_a_stream_of_writes_is_a_consistent_snapshot(tmp_path: Path):
    """Another connection commits pairs of rows non-stop; the copy never holds half a pair."""
    live, copy = tmp_path / "praxis.db", tmp_path / "copy.db"
    with sqlite3.connect(live) as setup:
        setup.execute("PRAGMA journal_mode = WAL")  # as the running bot opens it
        setup.execute("CREATE TABLE ledger (id INTEGER PRIMARY KEY, pair INTEGER)")
    stop, fifty = threading.Event(), threading.Event()
    committed: list[int] = []

    def write_pairs() -> None:
        conn = sqlite3.connect(live, isolation_level=None, timeout=5)
        pair = 0
        while not stop.is_set():
            conn.execute("BEGIN IMMEDIATE")
            conn.executemany("INSERT INTO ledger (pair) VALUES (?)", [(pair,), (pair,)])
            conn.execute("COMMIT")
            committed.append(pair)
            pair += 1
            if pair == 50:
                fifty.set()
        conn.close()

    thread = threading.Thread(target=write_pairs)
    thread.start()
    try:
        assert fifty.wait(10)
        result = backup_database(live, copy)
        during = len(committed)
        while len(committed) < during + 5:  # let the writer go on after the snapshot
            time.sleep(0.005)
    finally:
        stop.set()
        thread.join()

    assert result.ok
    rows = count(copy, "ledger")
    assert rows % 2 == 0, "the copy holds half a transaction"
    assert 100 <= rows <= 2 * during
    assert count(live, "ledger") > rows  # the writer was not blocked by the backup
    with pytest.raises(BackupRefused):
        backup_database(live, copy)  # and the copy is not overwritten unasked
