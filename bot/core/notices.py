"""Notices for facilitators: written by the tick, shown once with their next command."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from bot.core.clock import to_db
from bot.storage import rounds as store
from bot.storage.db import Database


@dataclass(frozen=True, slots=True)
class Notice:
    id: int
    text: str


async def undelivered(db: Database, cohort_ids: list[int]) -> list[Notice]:
    """Pending notices for these cohorts, oldest first."""
    return [Notice(r["id"], r["text"]) for r in await store.undelivered_notices(db, cohort_ids)]


async def mark_delivered(db: Database, notices: list[Notice], now: datetime) -> None:
    """Called only after the facilitator was actually shown them, so none is lost."""
    async with db.transaction() as tx:
        await store.mark_delivered(tx, [notice.id for notice in notices], to_db(now))


async def recent(db: Database, cohort_id: int, limit: int = 5) -> list[str]:
    return [row["text"] for row in await store.recent_notices(db, cohort_id, limit)]
