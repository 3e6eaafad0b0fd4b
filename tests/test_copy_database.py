"""``praxis copy-database --to postgresql://…``: every row moved, verified, nothing overwritten."""

from __future__ import annotations

import pytest
import pytest_asyncio

from bot.storage.copy import TABLES, CopyRefused, copy_database
from bot.storage.db import Database
from bot.storage.postgres import PostgresDatabase
from tests.test_cli import cli
from tests.test_migrations import SAMPLE_ROWS, insert

pytestmark = pytest.mark.postgresql_only

EXTRA_ROWS = [
    ("platform_ids", {"platform": "slack", "kind": "team", "external": "T0001"}),
    ("platform_ids", {"platform": "slack", "kind": "user", "external": "U0001"}),
    (
        "ratings",
        {
            "feedback_message_id": 1_300_000_000_000_000_001,
            "round_id": 3,
            "rater_id": 5,
            "giver_id": 6,
            "helpful": 1,
            "asked_at": "2025-09-05T10:00:00+00:00",
        },
    ),
    ("feedback_labels", {"round_id": 3, "author_id": 1_200_000_000_000_000_001, "number": 1}),
]


async def sqlite_with_rows(path) -> None:
    """A migrated SQLite file with rows in most tables, and a forgotten Slack number."""
    db = await Database.open(path)
    try:
        await db.migrate()
        for _, table, row in SAMPLE_ROWS:
            await insert(db, table, row)
        for table, row in EXTRA_ROWS:
            await insert(db, table, row)
        async with db.transaction() as tx:  # the highest number, given once and forgotten
            await tx.execute("DELETE FROM platform_ids WHERE external = 'U0001'")
    finally:
        await db.close()


@pytest_asyncio.fixture
async def target(pg_server):
    name = await pg_server.create_database(empty=True)
    db = await PostgresDatabase.open(pg_server.url(name))
    yield db
    await db.close()
    await pg_server.drop_database(name)


async def test_copy_moves_every_row_and_verifies_each_table(tmp_path, target):
    await sqlite_with_rows(tmp_path / "praxis.db")
    source = await Database.open(tmp_path / "praxis.db")
    try:
        result = await copy_database(source, target)
    finally:
        await source.close()

    assert result.ok
    assert [t.name for t in result.tables] == list(TABLES)
    counts = {t.name: t.rows for t in result.tables}
    assert counts["posts"] == 1 and counts["platform_ids"] == 1 and counts["ratings"] == 1
    assert await target.fetch_value("SELECT text FROM posts") == (
        "A client arrived late and upset; I slowed down."
    )
    async with target.transaction() as tx:  # new rows continue after the copied ids
        new_id = await tx.fetch_value(
            "INSERT INTO platform_ids (platform, kind, external) VALUES ('slack', 'user', 'U2')"
            " RETURNING id"
        )
    assert new_id == 3, "the forgotten number 2 is never handed out again"

    again = await Database.open(tmp_path / "praxis.db")
    try:
        with pytest.raises(CopyRefused, match="already has rows"):
            await copy_database(again, target)
    finally:
        await again.close()


async def test_the_cli_copies_and_refuses_to_overwrite(tmp_path, target):
    await sqlite_with_rows(tmp_path / "praxis.db")

    first = cli(tmp_path, "copy-database", "--to", target.url)
    second = cli(tmp_path, "copy-database", "--to", target.url)

    assert first.returncode == 0, first.stderr
    assert "posts" in first.stdout and "verified" in first.stdout
    assert "MISMATCH" not in first.stdout
    assert second.returncode == 2
    assert "never overwrites data" in second.stderr
