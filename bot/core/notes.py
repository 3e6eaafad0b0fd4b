"""Private notes to members, at most one per member, round and kind, across restarts.

The row is written *before* sending (claim, then send, then record the outcome), so a
crash between the two can lose a note but never send one twice. A note that failed
stays recorded with why.
"""

from __future__ import annotations

from datetime import datetime

from bot.core.clock import to_db
from bot.storage import posts as store
from bot.storage.db import Database


async def claim(
    db: Database, round_id: int, member_id: int, kind: str, channel: str, now: datetime
) -> bool:
    async with db.transaction() as tx:
        return await store.claim_note(tx, round_id, member_id, kind, channel, to_db(now))


async def claim_many(
    db: Database, keys: list[tuple[int, int]], kind: str, channel: str, now: datetime
) -> set[tuple[int, int]]:
    """:func:`claim` for many (round, member) at once, in one transaction: those claimed now."""
    if not keys:
        return set()
    async with db.transaction() as tx:
        return await store.claim_new_notes(tx, keys, kind, channel, to_db(now))


async def release(db: Database, round_id: int, member_id: int, kind: str) -> None:
    """Forget a claim whose send failed for a passing reason, so a later tick can retry."""
    async with db.transaction() as tx:
        await store.delete_note(tx, round_id, member_id, kind)


async def record(
    db: Database, round_id: int, member_id: int, kind: str, channel: str, outcome: str
) -> None:
    async with db.transaction() as tx:
        await store.set_note_outcome(tx, round_id, member_id, kind, channel, outcome)


async def record_many(
    db: Database, outcomes: list[tuple[int, int, str]], kind: str, channel: str
) -> None:
    """:func:`record` for many (round, member, outcome) at once, in one transaction."""
    if outcomes:
        async with db.transaction() as tx:
            await store.set_note_outcomes(tx, outcomes, kind, channel)
