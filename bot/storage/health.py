"""The heartbeat row: the tick's write probe."""

from __future__ import annotations

from bot.storage.db import Database, Tx


async def beat(tx: Tx, at: str) -> str | None:
    """Record this tick; returns the previous one's time."""
    previous = await tx.fetch_value("SELECT ticked_at FROM heartbeat WHERE id = 1")
    await tx.execute(
        "INSERT INTO heartbeat (id, ticked_at) VALUES (1, ?) "
        "ON CONFLICT (id) DO UPDATE SET ticked_at = excluded.ticked_at",
        (at,),
    )
    return previous


async def last_beat(db: Database) -> str | None:
    return await db.fetch_value("SELECT ticked_at FROM heartbeat WHERE id = 1")
