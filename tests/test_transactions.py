"""Transactions: BEGIN goes with the first statement, and whatever happens, none stays open."""

from __future__ import annotations

import asyncio
import sqlite3

import pytest

from bot.core.errors import StorageBusy
from bot.storage.db import Database

INSERT = "INSERT INTO notes (text) VALUES (?)"


@pytest.fixture
async def db(tmp_path):
    db = await Database.open(tmp_path / "tx.db")
    async with db.transaction() as tx:
        await tx.execute("CREATE TABLE notes (id INTEGER PRIMARY KEY, text TEXT)")
    yield db
    await db.close()


async def count(db: Database) -> int:
    return await db.fetch_value("SELECT COUNT(*) FROM notes")


async def test_a_refused_begin_is_busy_and_leaves_nothing_open(db: Database):
    await db.fetch_value("PRAGMA busy_timeout = 50")
    other = sqlite3.connect(db.path, isolation_level=None)
    other.execute("BEGIN IMMEDIATE")  # another writer holds the lock
    try:
        with pytest.raises(StorageBusy):
            async with db.transaction() as tx:
                await tx.execute(INSERT, ("refused",))
    finally:
        other.execute("ROLLBACK")
        other.close()
    async with db.transaction() as tx:
        await tx.execute(INSERT, ("kept",))
    assert await count(db) == 1


async def test_a_transaction_that_runs_nothing_commits_nothing(db: Database):
    async with db.transaction():
        pass
    async with db.transaction() as tx:
        await tx.execute(INSERT, ("after",))
    assert await count(db) == 1


async def test_cancelled_during_its_first_statement_it_rolls_back(db: Database):
    started = asyncio.Event()

    async def write() -> None:
        async with db.transaction() as tx:
            started.set()
            await tx.execute(INSERT, ("cancelled",))
            await asyncio.sleep(10)

    task = asyncio.create_task(write())
    await started.wait()
    task.cancel()  # while BEGIN and the insert may still be queued for the thread
    with pytest.raises(asyncio.CancelledError):
        await task
    async with db.transaction() as tx:  # would fail if a transaction were left open
        await tx.execute(INSERT, ("next",))
    assert [row[0] for row in await db.fetch_all("SELECT text FROM notes")] == ["next"]
