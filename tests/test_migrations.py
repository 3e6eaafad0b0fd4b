"""The migration runner and the connection set-up, against real SQLite files."""

from __future__ import annotations

import re
import sqlite3
from collections.abc import AsyncIterator
from importlib import resources
from pathlib import Path
from typing import Any

import pytest
import pytest_asyncio

from bot.storage.db import Database, Migration, load_migrations

LATEST = load_migrations()[-1].version
pytestmark = pytest.mark.sqlite_only("SQLite's migration files, runner and pragmas")

# Representative rows, each valid from the schema version it names onwards. Only the
# columns that existed at that version are given, as an older Praxis would have written.
SAMPLE_ROWS: list[tuple[int, str, dict[str, Any]]] = [
    (
        1,
        "cohorts",
        {
            "id": 1,
            "guild_id": 111,
            "name": "Autumn 2025",
            "name_key": "autumn 2025",
            "channel_id": 222,
            "member_role_id": 333,
            "facilitator_role_id": 444,
            "timezone": "Europe/London",
            "weekday": 2,
            "post_time": "10:30",
            "reflect_hours": 48,
            "feedback_hours": 96,
            "feedback_required": 1,
            "min_words": 50,
            "paused": 1,
            "schedule_from": "2025-09-01T00:00:00+00:00",
            "created_at": "2025-08-30T12:00:00+00:00",
            "updated_at": "2025-08-31T12:00:00+00:00",
        },
    ),
    (
        2,
        "prompts",
        {
            "id": 7,
            "cohort_id": 1,
            "position": 1,
            "title": "A hard conversation",
            "text": "Describe a conversation that did not go as planned.",
            "structure": '["What happened", "What I learned"]',
            "created_at": "2025-08-31T12:00:00+00:00",
        },
    ),
    (
        2,
        "rounds",
        {
            "id": 3,
            "cohort_id": 1,
            "number": 1,
            "slot_at": "2025-09-03T09:30:00+00:00",
            "manual": 0,
            "state": "posted",
            "prompt_id": 7,
            "prompt_cycle": 1,
            "title": "A hard conversation",
            "text": "Describe a conversation that did not go as planned.",
            "structure": '["What happened", "What I learned"]',
            "reflect_due": "2025-09-05T09:30:00+00:00",
            "feedback_due": "2025-09-07T09:30:00+00:00",
            "channel_id": 222,
            "message_id": 555,
            "thread_id": 666,
            "posted_at": "2025-09-03T09:30:01+00:00",
            "created_at": "2025-09-03T09:30:00+00:00",
        },
    ),
    (
        2,
        "skips",
        {
            "cohort_id": 1,
            "local_date": "2025-12-24",
            "created_at": "2025-09-01T00:00:00+00:00",
        },
    ),
    (
        2,
        "notices",
        {
            "id": 4,
            "cohort_id": 1,
            "text": "Round 1 was posted late.",
            "created_at": "2025-09-03T09:31:00+00:00",
        },
    ),
    (
        3,
        "posts",
        {
            "message_id": 1_300_000_000_000_000_001,  # a real-sized Discord snowflake
            "round_id": 3,
            "author_id": 1_200_000_000_000_000_001,
            "author_name": "Ada",
            "kind": "reflection",
            "source": "thread",
            "text": "A client arrived late and upset; I slowed down.",
            "word_count": 9,
            "posted_at": "2025-09-03T10:00:00+00:00",
        },
    ),
    (
        3,
        "member_notes",
        {
            "round_id": 3,
            "member_id": 1_200_000_000_000_000_002,
            "kind": "short_reflection",
            "channel": "dm",
            "outcome": "sent",
            "sent_at": "2025-09-04T10:00:00+00:00",
        },
    ),
    (
        4,
        "member_settings",
        {
            "guild_id": 111,
            "user_id": 1_200_000_000_000_000_001,
            "nudges": 0,
            "dm_channel_id": 1_100_000_000_000_000_009,
            "updated_at": "2025-09-02T10:00:00+00:00",
        },
    ),
    (
        4,
        "excusals",
        {
            "round_id": 3,
            "member_id": 1_200_000_000_000_000_003,
            "excused_by": 444,
            "created_at": "2025-09-03T11:00:00+00:00",
        },
    ),
    (
        4,
        "assignments",
        {
            "round_id": 3,
            "reviewer_id": 1_200_000_000_000_000_001,
            "author_id": 1_200_000_000_000_000_002,
        },
    ),
    (7, "heartbeat", {"id": 1, "ticked_at": "2025-09-07T09:30:00.000000Z"}),
]


@pytest_asyncio.fixture
async def db(tmp_path: Path) -> AsyncIterator[Database]:
    database = await Database.open(tmp_path / "x.db")
    try:
        yield database
    finally:
        await database.close()


async def schema(db: Database) -> list[tuple[str, str, str, str | None]]:
    rows = await db.fetch_all("SELECT type, name, tbl_name, sql FROM sqlite_master ORDER BY name")
    return [(row["type"], row["name"], row["tbl_name"], _normalise(row["sql"])) for row in rows]


def _normalise(sql: str | None) -> str | None:
    return None if sql is None else " ".join(sql.split())


async def fresh_schema(path: Path) -> list[tuple[str, str, str, str | None]]:
    fresh = await Database.open(path)
    try:
        await fresh.migrate()
        return await schema(fresh)
    finally:
        await fresh.close()


def insert_sql(table: str, row: dict[str, Any]) -> tuple[str, list[Any]]:
    columns = ", ".join(row)
    marks = ", ".join("?" for _ in row)
    return f"INSERT INTO {table} ({columns}) VALUES ({marks})", list(row.values())


async def insert(db: Database, table: str, row: dict[str, Any]) -> None:
    async with db.transaction() as tx:
        await tx.execute(*insert_sql(table, row))


async def test_fresh_database_migrates_to_latest(db: Database):
    applied = await db.migrate()

    assert applied == list(range(1, LATEST + 1))
    assert await db.user_version() == LATEST
    assert await db.fetch_value("PRAGMA user_version") == LATEST
    tables = {row["name"] for row in await db.fetch_all("SELECT name FROM sqlite_master")}
    assert "cohorts" in tables


@pytest.mark.parametrize("start", range(LATEST))
async def test_upgrade_from_every_earlier_version_matches_fresh_schema(
    tmp_path: Path, db: Database, start: int
):
    expected = await fresh_schema(tmp_path / "fresh.db")

    assert await db.migrate(load_migrations()[:start]) == list(range(1, start + 1))
    assert await db.user_version() == start
    rows = [(table, row) for since, table, row in SAMPLE_ROWS if since <= start]
    for table, row in rows:
        await insert(db, table, row)

    applied = await db.migrate()

    assert applied == list(range(start + 1, LATEST + 1))
    assert await db.user_version() == LATEST
    assert await schema(db) == expected
    for table, row in rows:
        stored = await db.fetch_all(f"SELECT {', '.join(row)} FROM {table}")
        assert tuple(row.values()) in [tuple(r) for r in stored], (table, row)
    assert await db.integrity_ok()
    assert await db.fetch_all("PRAGMA foreign_key_check") == []


async def test_cohort_from_version_1_gets_later_columns_defaults(db: Database):
    await db.migrate(load_migrations()[:1])
    await insert(db, "cohorts", SAMPLE_ROWS[0][2])

    await db.migrate()

    row = await db.fetch_one("SELECT * FROM cohorts WHERE id = 1")
    assert row is not None
    assert (row["every_weeks"], row["prompt_cycle"]) == (1, 1)
    assert row["name"] == "Autumn 2025"
    assert row["feedback_guide"] is None, "an older cohort gets the default feedback guide"


async def test_migrating_twice_changes_nothing(db: Database):
    await db.migrate()
    before = await schema(db)

    assert await db.migrate() == []

    assert await schema(db) == before
    assert await db.user_version() == LATEST


async def test_failed_migration_leaves_previous_version_and_nothing_half_applied(db: Database):
    migrations = [
        Migration(1, "0001_first.sql", "CREATE TABLE first (x INTEGER);"),
        Migration(
            2,
            "0002_broken.sql",
            "CREATE TABLE second (y INTEGER);\n"
            "INSERT INTO first (x) VALUES (42);\n"
            "THIS IS NOT SQL;",
        ),
        Migration(3, "0003_third.sql", "CREATE TABLE third (z INTEGER);"),
    ]

    with pytest.raises(sqlite3.Error):
        await db.migrate(migrations)

    assert await db.user_version() == 1
    tables = {row["name"] for row in await db.fetch_all("SELECT name FROM sqlite_master")}
    assert "first" in tables
    assert "second" not in tables
    assert "third" not in tables
    assert await db.fetch_value("SELECT COUNT(*) FROM first") == 0

    # The connection is not left inside the failed transaction: new work commits.
    async with db.transaction() as tx:
        await tx.execute("INSERT INTO first (x) VALUES (1)")
    assert await db.fetch_value("SELECT COUNT(*) FROM first") == 1

    fixed = [*migrations[:1], Migration(2, "0002_fixed.sql", "CREATE TABLE second (y INTEGER);")]
    assert await db.migrate(fixed) == [2]
    assert await db.user_version() == 2


async def test_failed_real_migration_on_top_of_latest_rolls_back(db: Database):
    await db.migrate()
    await insert(db, "cohorts", SAMPLE_ROWS[0][2])
    broken = Migration(
        LATEST + 1,
        f"{LATEST + 1:04d}_broken.sql",
        "CREATE TABLE extra (x INTEGER);\nDELETE FROM cohorts;\nSELECT * FROM no_such_table;",
    )

    with pytest.raises(sqlite3.Error):
        await db.migrate([*load_migrations(), broken])

    assert await db.user_version() == LATEST
    assert await db.fetch_value("SELECT COUNT(*) FROM cohorts") == 1
    assert await db.fetch_value("SELECT COUNT(*) FROM sqlite_master WHERE name = 'extra'") == 0


async def test_database_newer_than_praxis_is_refused(db: Database):
    async with db.transaction() as tx:
        await tx.execute(f"PRAGMA user_version = {LATEST + 1}")

    with pytest.raises(RuntimeError, match="newer"):
        await db.migrate()

    assert await db.user_version() == LATEST + 1
    assert await db.fetch_value("SELECT COUNT(*) FROM sqlite_master") == 0


def test_migration_files_are_numbered_without_gaps():
    migrations = load_migrations()

    assert [m.version for m in migrations] == list(range(1, len(migrations) + 1))
    for migration in migrations:
        assert re.fullmatch(r"\d{4}_[a-z0-9_]+\.sql", migration.name), migration.name
        assert int(migration.name[:4]) == migration.version
        assert migration.sql.strip()


def test_every_sql_file_in_migrations_is_loaded():
    """A misnamed file (``3_x.sql``, ``0003-x.sql``) would otherwise be skipped silently."""
    entries = resources.files("migrations").iterdir()
    on_disk = {entry.name for entry in entries if entry.name.endswith(".sql")}

    assert on_disk == {m.name for m in load_migrations()}


async def test_open_sets_foreign_keys_and_wal(db: Database):
    assert await db.fetch_value("PRAGMA foreign_keys") == 1
    assert str(await db.fetch_value("PRAGMA journal_mode")).lower() == "wal"

    await db.migrate()
    with pytest.raises(sqlite3.IntegrityError):
        async with db.transaction() as tx:
            await tx.execute(
                "INSERT INTO notices (cohort_id, text, created_at) VALUES (999, 'x', 'now')"
            )


async def test_transaction_rolls_back_everything_when_body_raises(db: Database):
    await db.migrate()

    class Boom(Exception):
        pass

    with pytest.raises(Boom):
        async with db.transaction() as tx:
            await tx.execute(*insert_sql("cohorts", SAMPLE_ROWS[0][2]))
            await tx.execute("PRAGMA user_version = 99")
            assert await tx.fetch_value("SELECT COUNT(*) FROM cohorts") == 1
            raise Boom

    assert await db.fetch_value("SELECT COUNT(*) FROM cohorts") == 0
    assert await db.user_version() == LATEST

    async with db.transaction() as tx:
        await tx.execute(*insert_sql("cohorts", SAMPLE_ROWS[0][2]))
    assert await db.fetch_value("SELECT COUNT(*) FROM cohorts") == 1


async def test_cohorts_from_before_two_platforms_are_discord_cohorts(db: Database):
    """Upgrading a Discord-only database (schema 7) keeps every row and marks each cohort
    as Discord's, so the tick keeps driving it through the Discord adapter."""
    await db.migrate(load_migrations()[:7])
    for _, table, row in SAMPLE_ROWS:
        await insert(db, table, row)
    await db.migrate()
    assert await db.fetch_value("SELECT platform FROM cohorts WHERE id = 1") == "discord"
    assert await db.fetch_value("SELECT COUNT(*) FROM platform_ids") == 0
    snowflake = await db.fetch_value("SELECT message_id FROM posts")
    assert snowflake == 1_300_000_000_000_000_001
