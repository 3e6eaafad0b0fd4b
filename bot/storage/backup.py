"""A consistent copy of the live database, taken while Praxis keeps running.

SQLite's online backup API copies every page in one step from a single read snapshot.
In WAL mode a reader never blocks the bot's writer, nor waits for it, so the copy holds
exactly the transactions committed when it started and none half-written. The copy is
written beside ``dest`` under a temporary name, checked with ``PRAGMA integrity_check``,
switched to a self-contained rollback journal, and only then renamed into place: a
failed backup never leaves a broken file where a good one is expected.
"""

from __future__ import annotations

import contextlib
import os
import sqlite3
from dataclasses import dataclass
from pathlib import Path

from bot.storage.db import BUSY_TIMEOUT_MS


class BackupRefused(RuntimeError):
    """The backup was not attempted; the message says why, in one sentence."""


@dataclass(frozen=True, slots=True)
class BackupResult:
    dest: Path
    integrity: str  # "ok", or SQLite's first complaint
    schema_version: int
    size_bytes: int

    @property
    def ok(self) -> bool:
        return self.integrity == "ok"


def backup_database(source: Path, dest: Path, *, overwrite: bool = False) -> BackupResult:
    """Copy ``source`` to ``dest`` and verify the copy; refuses to replace ``dest`` unless
    ``overwrite``. A copy that fails its integrity check is deleted, not kept."""
    if not source.is_file():
        raise BackupRefused(f"there is no database at {source} to back up.")
    if dest.exists() and not overwrite:
        raise BackupRefused(f"{dest} already exists; pass --force to replace it.")
    if dest.is_dir() or not dest.parent.is_dir():
        raise BackupRefused(f"{dest} must be a file in an existing folder.")
    if dest.resolve() == source.resolve():
        raise BackupRefused("the backup can't replace the live database itself.")
    partial = dest.with_name(f".{dest.name}.partial")
    partial.unlink(missing_ok=True)
    # Readable by the owner only: the copy holds members' reflections like the original.
    os.close(os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600))
    try:
        _copy(source, partial)
        result = _verify(partial, dest)
        if result.ok:
            os.replace(partial, dest)
        return result
    finally:
        partial.unlink(missing_ok=True)


def _copy(source: Path, target: Path) -> None:
    # mode=rw: never create an empty database where the live one was expected.
    live = sqlite3.connect(f"{source.resolve().as_uri()}?mode=rw", uri=True)
    try:
        live.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
        copy = sqlite3.connect(target)
        try:
            live.backup(copy, pages=-1)  # one step: one consistent snapshot
        finally:
            copy.close()
    finally:
        live.close()


def _verify(copy_path: Path, dest: Path) -> BackupResult:
    copy = sqlite3.connect(copy_path, isolation_level=None)
    try:
        integrity = copy.execute("PRAGMA integrity_check").fetchone()[0]
        version = copy.execute("PRAGMA user_version").fetchone()[0]
        with contextlib.suppress(sqlite3.Error):  # a copy that reads fine is still a copy
            copy.execute("PRAGMA journal_mode = DELETE").fetchall()  # one file, no -wal
    finally:
        copy.close()
    return BackupResult(dest, integrity, version, copy_path.stat().st_size)
