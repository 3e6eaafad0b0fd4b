"""The heartbeat row: the tick's write probe."""

from __future__ import annotations

from bot.storage.db import Database, Tx


async def beat(tx: Tx, at: str) -> None:
    await tx.execute(
        "INSERT INTO heartbeat (id, ticked_at) VALUES (1, ?) "
        "ON CONFLICT (id) DO UPDATE SET ticked_at = excluded.ticked_at",
        (at,),
    )


async def last_beat(db: Database) -> str | None:
    return await db.fetch_value("SELECT ticked_at FROM heartbeat WHERE id = 1")
