"""The PostgreSQL migration set: in step with SQLite's, and upgradeable from every version.

``migrations/postgresql/NNNN_*.sql`` must carry the same numbers and names as
``migrations/NNNN_*.sql`` and, once applied, give the same tables, columns, indexes and
unique constraints. These run on a real server (``--backend postgresql``); the first test
needs none.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import pytest
import pytest_asyncio

from bot.storage.db import Database, Migration, SchemaTooNew, load_migrations
from bot.storage.postgres import PostgresDatabase
from tests.test_migrations import LATEST, SAMPLE_ROWS, insert

PG = "postgresql"


def test_both_sets_have_the_same_numbers_and_names():
    sqlite = [(m.version, m.name) for m in load_migrations()]
    postgresql = [(m.version, m.name) for m in load_migrations(PG)]

    assert postgresql == sqlite


@pytest_asyncio.fixture
async def empty(pg_server) -> AsyncIterator[PostgresDatabase]:
    """A database with no tables, not even the version table."""
    name = await pg_server.create_database(empty=True)
    db = await PostgresDatabase.open(pg_server.url(name))
    try:
        yield db
    finally:
        await db.close()
        await pg_server.drop_database(name)


async def pg_schema(db: Database) -> dict[str, object]:
    """Tables with their columns, index names, and unique column sets, as plain values."""
    columns = await db.fetch_all(
        "SELECT table_name, column_name FROM information_schema.columns"
        " WHERE table_schema = current_schema() AND table_name <> 'schema_version'"
    )
    indexes = await db.fetch_all(
        "SELECT indexname FROM pg_indexes WHERE schemaname = current_schema()"
        " AND indexname NOT LIKE '%pkey' AND indexname NOT LIKE '%key'"
    )
    uniques = await db.fetch_all(
        "SELECT c.conrelid::regclass::text AS t, array_agg(a.attname::text ORDER BY a.attname)"
        " AS cols FROM pg_constraint c JOIN pg_attribute a ON a.attrelid = c.conrelid"
        " AND a.attnum = ANY(c.conkey) WHERE c.contype IN ('u', 'p')"
        " AND c.connamespace = current_schema()::regnamespace GROUP BY c.oid, t"
    )
    unique_indexes = await db.fetch_all(
        "SELECT t.relname AS t, array_agg(a.attname::text ORDER BY a.attname) AS cols"
        " FROM pg_index i JOIN pg_class t ON t.oid = i.indrelid"
        " JOIN pg_class x ON x.oid = i.indexrelid"
        " JOIN pg_attribute a ON a.attrelid = t.oid AND a.attnum = ANY(i.indkey)"
        " WHERE i.indisunique AND NOT i.indisprimary"
        " AND t.relnamespace = current_schema()::regnamespace"
        " AND NOT EXISTS (SELECT 1 FROM pg_constraint c WHERE c.conindid = x.oid)"
        " GROUP BY x.oid, t.relname"
    )
    return {
        "columns": _columns(columns, "table_name", "column_name"),
        "indexes": {r["indexname"] for r in indexes},
        "uniques": {(r["t"], tuple(r["cols"])) for r in [*uniques, *unique_indexes]},
    }


async def sqlite_schema(db: Database) -> dict[str, object]:
    tables = await db.table_names()
    columns = []
    indexes: set[str] = set()
    uniques: set[tuple[str, tuple[str, ...]]] = set()
    for table in tables:
        for row in await db.fetch_all(f"PRAGMA table_info({table})"):
            columns.append({"table_name": table, "column_name": row["name"]})
        primary = [r["name"] for r in await db.fetch_all(f"PRAGMA table_info({table})") if r["pk"]]
        uniques.add((table, tuple(sorted(primary))))
        for index in await db.fetch_all(f"PRAGMA index_list({table})"):
            if index["origin"] == "c":
                indexes.add(index["name"])
            if index["unique"] and index["origin"] != "pk":
                info = await db.fetch_all(f"PRAGMA index_info({index['name']})")
                uniques.add((table, tuple(sorted(r["name"] for r in info))))
    return {
        "columns": _columns(columns, "table_name", "column_name"),
        "indexes": indexes,
        "uniques": uniques,
    }


def _columns(rows, table: str, column: str) -> dict[str, set[str]]:
    found: dict[str, set[str]] = {}
    for row in rows:
        found.setdefault(row[table], set()).add(row[column])
    return found


@pytest.mark.postgresql_only
async def test_both_dialects_give_the_same_schema(empty: PostgresDatabase, tmp_path):
    sqlite = await Database.open(tmp_path / "x.db")
    try:
        await sqlite.migrate()
        expected = await sqlite_schema(sqlite)
    finally:
        await sqlite.close()

    assert await empty.migrate() == list(range(1, LATEST + 1))

    assert await pg_schema(empty) == expected


@pytest.mark.postgresql_only
@pytest.mark.parametrize("start", range(LATEST))
async def test_upgrade_from_every_earlier_version(pg_server, empty: PostgresDatabase, start: int):
    fresh_name = await pg_server.create_database()  # the template: migrated from nothing
    fresh = await PostgresDatabase.open(pg_server.url(fresh_name))
    try:
        expected = await pg_schema(fresh)
    finally:
        await fresh.close()
        await pg_server.drop_database(fresh_name)

    assert await empty.migrate(load_migrations(PG)[:start]) == list(range(1, start + 1))
    assert await empty.user_version() == start
    rows = [(table, row) for since, table, row in SAMPLE_ROWS if since <= start]
    for table, row in rows:
        await insert(empty, table, row)

    assert await empty.migrate() == list(range(start + 1, LATEST + 1))

    assert await empty.user_version() == LATEST
    assert await pg_schema(empty) == expected
    for table, row in rows:
        stored = await empty.fetch_all(f"SELECT {', '.join(row)} FROM {table}")
        assert tuple(row.values()) in [tuple(r) for r in stored], (table, row)


@pytest.mark.postgresql_only
async def test_two_processes_starting_together_apply_each_migration_once(pg_server, empty):
    other = await PostgresDatabase.open(empty.url)
    try:
        first, second = await asyncio.gather(empty.migrate(), other.migrate())
    finally:
        await other.close()

    assert sorted([first, second]) == [[], list(range(1, LATEST + 1))]
    assert await empty.fetch_value("SELECT COUNT(*) FROM schema_version") == 1


@pytest.mark.postgresql_only
async def test_failed_migration_leaves_previous_version_and_nothing_half_applied(empty):
    broken = [
        *load_migrations(PG)[:1],
        Migration(2, "0002_broken.sql", "CREATE TABLE half (id BIGINT); SELECT no_such();"),
    ]

    with pytest.raises(Exception, match="no_such"):
        await empty.migrate(broken)

    assert await empty.user_version() == 1
    assert "half" not in await empty.table_names()


@pytest.mark.postgresql_only
async def test_database_newer_than_praxis_is_refused(empty):
    await empty.migrate()
    async with empty.transaction() as tx:
        await tx.execute("UPDATE schema_version SET version = ?", (LATEST + 1,))

    with pytest.raises(SchemaTooNew):
        await empty.migrate()
