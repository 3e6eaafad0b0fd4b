"""``praxis copy-database``: move an SQLite database's rows into a new PostgreSQL database.

The target is migrated first and must be empty (nothing is ever overwritten). Tables
are copied parents first, in one transaction, with their ids as they are; identity
sequences then continue after the highest id (for ``platform_ids``, after the highest
SQLite's AUTOINCREMENT ever gave, so a forgotten number is never handed out again).
Each table is then read back from both sides and compared: row count and a SHA-256
over its rows (order-independent, so the two servers' text orderings don't matter).
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass, field

from bot.storage.db import Database

#: Every table, parents before children (foreign keys), with the columns that order it.
TABLES: dict[str, str] = {
    "cohorts": "id",
    "prompts": "id",
    "rounds": "id",
    "skips": "cohort_id, local_date",
    "notices": "id",
    "posts": "message_id",
    "member_notes": "round_id, member_id, kind",
    "member_settings": "guild_id, user_id",
    "excusals": "round_id, member_id",
    "assignments": "round_id, reviewer_id, author_id",
    "heartbeat": "id",
    "platform_ids": "id",
    "ratings": "feedback_message_id",
    "feedback_labels": "round_id, author_id",
    "leases": "scope",  # empty from SQLite (a lone process writes none), copied all the same
}
#: Tables whose ``id`` is an identity column on PostgreSQL.
IDENTITY = ("cohorts", "prompts", "rounds", "notices", "platform_ids")
BATCH = 1000


class CopyRefused(RuntimeError):
    """The copy would overwrite data, or the two databases don't match in schema."""


@dataclass
class TableCopy:
    name: str
    rows: int
    checksum: str
    verified: bool


@dataclass
class CopyResult:
    tables: list[TableCopy] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return all(t.verified for t in self.tables)


async def copy_database(source: Database, target: Database) -> CopyResult:
    """Copy every row of ``source`` (SQLite, migrated) into ``target`` (PostgreSQL)."""
    latest = await source.user_version()
    await target.migrate()
    if await target.user_version() != latest:
        raise CopyRefused(
            f"The SQLite database is at schema version {latest} and the target at "
            f"{await target.user_version()}: run praxis migrate on the SQLite file first."
        )
    for names in (await source.table_names(), await target.table_names()):
        if set(names) != set(TABLES):
            raise CopyRefused(f"Unexpected tables: {sorted(set(names) ^ set(TABLES))}.")
    for table in TABLES:
        if await target.fetch_value(f"SELECT COUNT(*) FROM {table}"):
            raise CopyRefused(
                f"The target database already has rows in {table}: copy-database only "
                "fills an empty database and never overwrites data."
            )
    async with target.transaction() as tx:
        for table, order in TABLES.items():
            rows = await source.fetch_all(f"SELECT * FROM {table} ORDER BY {order}")
            if rows:
                columns = list(rows[0].keys())
                marks = ", ".join("?" for _ in columns)
                sql = f"INSERT INTO {table} ({', '.join(columns)}) VALUES ({marks})"
                for start in range(0, len(rows), BATCH):
                    await tx.executemany(sql, [tuple(r) for r in rows[start : start + BATCH]])
        for table in IDENTITY:
            floor = await _highest_id_ever(source, table)
            await tx.fetch_value(
                f"SELECT setval(pg_get_serial_sequence('{table}', 'id'),"
                f" GREATEST(COALESCE(MAX(id), 0), ?) + 1, false) FROM {table}",
                (floor,),
            )
    result = CopyResult()
    for table in TABLES:
        mine, theirs = await _summary(source, table), await _summary(target, table)
        result.tables.append(TableCopy(table, mine[0], mine[1], mine == theirs))
    return result


async def _highest_id_ever(source: Database, table: str) -> int:
    """SQLite's AUTOINCREMENT high-water mark (``sqlite_sequence``), else 0."""
    if not await source.fetch_value(
        "SELECT COUNT(*) FROM sqlite_master WHERE name = 'sqlite_sequence'"
    ):
        return 0
    return int(
        await source.fetch_value("SELECT seq FROM sqlite_sequence WHERE name = ?", (table,)) or 0
    )


async def _summary(db: Database, table: str) -> tuple[int, str]:
    """(row count, SHA-256 over the sorted rows) of one table."""
    rows = await db.fetch_all(f"SELECT * FROM {table}")
    return len(rows), checksum([tuple(sorted(dict(r).items())) for r in rows])


def checksum(rows: Sequence[tuple]) -> str:
    digest = hashlib.sha256()
    for line in sorted(repr(row) for row in rows):
        digest.update(line.encode("utf-8") + b"\n")
    return digest.hexdigest()
