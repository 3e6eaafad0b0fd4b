"""Notices for facilitators: written by the tick, shown once with their next command."""

from __future__ import annotations

from datetime import datetime

from bot.core.clock import to_db
from bot.storage import rounds as store
from bot.storage.db import Database


async def take_undelivered(db: Database, cohort_ids: list[int], now: datetime) -> list[str]:
    """Return the pending notices for these cohorts and mark them delivered."""
    rows = await store.undelivered_notices(db, cohort_ids)
    if rows:
        async with db.transaction() as tx:
            await store.mark_delivered(tx, [row["id"] for row in rows], to_db(now))
    return [row["text"] for row in rows]


async def recent(db: Database, cohort_id: int, limit: int = 5) -> list[str]:
    return [row["text"] for row in await store.recent_notices(db, cohort_id, limit)]
