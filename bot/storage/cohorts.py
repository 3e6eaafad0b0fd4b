"""SQL for the ``cohorts`` table."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from bot.storage.db import Database, Row, Tx, insert_row, update_row

_WRITABLE = frozenset(
    {
        "guild_id", "name", "name_key", "channel_id", "member_role_id", "facilitator_role_id",
        "timezone", "weekday", "post_time", "every_weeks", "reflect_hours", "feedback_hours",
        "feedback_required", "min_words", "paused", "schedule_from", "created_at", "updated_at",
        "prompt_cycle", "feedback_min_words", "reflect_nudge_hours", "last_call",
        "feedback_nudge_hours", "quiet_start", "quiet_end", "digest_channel_id",
        "retention_days", "platform", "feedback_guide", "anonymous_feedback",
        "private_reflections",
    }
)  # fmt: skip


async def insert(tx: Tx, values: Mapping[str, Any]) -> int:
    return await insert_row(tx, "cohorts", _WRITABLE, values)


async def update(tx: Tx, cohort_id: int, values: Mapping[str, Any]) -> None:
    await update_row(tx, "cohorts", _WRITABLE, cohort_id, values)


async def delete(tx: Tx, cohort_id: int) -> None:
    await tx.execute("DELETE FROM cohorts WHERE id = ?", (cohort_id,))


async def get(tx: Tx, cohort_id: int) -> Row | None:
    return await tx.fetch_one("SELECT * FROM cohorts WHERE id = ?", (cohort_id,))


async def with_open_rounds(tx: Tx) -> list[Row]:
    """Every cohort that has a posted round with a thread: one query, not one per round."""
    return await tx.fetch_all(
        "SELECT * FROM cohorts WHERE id IN (SELECT cohort_id FROM rounds "
        "WHERE state = 'posted' AND thread_id IS NOT NULL)"
    )


async def prompt_cycle(tx: Tx, cohort_id: int) -> int:
    return await tx.fetch_value("SELECT prompt_cycle FROM cohorts WHERE id = ?", (cohort_id,))


async def find_id(tx: Tx, guild_id: int, name_key: str) -> int | None:
    return await tx.fetch_value(
        "SELECT id FROM cohorts WHERE guild_id = ? AND name_key = ?", (guild_id, name_key)
    )


async def find_by_name(db: Database, guild_id: int, name: str, name_key: str) -> Row | None:
    """The cohort named exactly ``name`` if there is one, else the one keyed ``name_key``."""
    return await db.fetch_one(
        "SELECT * FROM cohorts WHERE guild_id = ? AND (name = ? OR name_key = ?)"
        " ORDER BY name = ? DESC LIMIT 1",
        (guild_id, name, name_key, name),
    )


async def all_names(tx: Tx) -> list[Row]:
    return await tx.fetch_all("SELECT id, guild_id, name, name_key FROM cohorts ORDER BY id")


async def rename(tx: Tx, changes: Mapping[int, tuple[str, str]]) -> None:
    """Set ``{cohort_id: (name, name_key)}``. Every key is parked on a unique placeholder
    first, so a key passing from one cohort to another never trips the UNIQUE index."""
    await tx.executemany(
        "UPDATE cohorts SET name_key = ? WHERE id = ?", [(f"\x01{i}", i) for i in changes]
    )
    await tx.executemany(
        "UPDATE cohorts SET name = ?, name_key = ? WHERE id = ?",
        [(name, key, i) for i, (name, key) in changes.items()],
    )


async def count_in_guild(tx: Tx, guild_id: int) -> int:
    return await tx.fetch_value("SELECT COUNT(*) FROM cohorts WHERE guild_id = ?", (guild_id,))


async def list_in_guild(db: Database, guild_id: int) -> list[Row]:
    return await db.fetch_all(
        "SELECT * FROM cohorts WHERE guild_id = ? ORDER BY name_key", (guild_id,)
    )


async def list_active(db: Database) -> list[Row]:
    """Cohorts whose schedule runs (not paused), across all guilds."""
    return await db.fetch_all("SELECT * FROM cohorts WHERE paused = 0 ORDER BY id")
