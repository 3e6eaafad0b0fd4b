"""SQL for a cohort's prompt bank (``prompts``). Positions stay dense: 1, 2, 3…"""

from __future__ import annotations

import json
from collections.abc import Iterable

from bot.core.prompts import PromptDraft
from bot.storage.db import Database, Row, Tx


async def append(tx: Tx, cohort_id: int, drafts: Iterable[PromptDraft], created_at: str) -> int:
    """Add drafts at the end of the bank; returns how many were added."""
    start = await count(tx, cohort_id)
    rows = [
        (cohort_id, start + offset, d.title, d.text, json.dumps(list(d.structure)), created_at)
        for offset, d in enumerate(drafts, start=1)
    ]
    await tx.executemany(
        "INSERT INTO prompts (cohort_id, position, title, text, structure, created_at)"
        " VALUES (?, ?, ?, ?, ?, ?)",
        rows,
    )
    return len(rows)


async def count(tx: Tx, cohort_id: int) -> int:
    return await tx.fetch_value("SELECT COUNT(*) FROM prompts WHERE cohort_id = ?", (cohort_id,))


async def texts(tx: Tx, cohort_id: int) -> list[str]:
    rows = await tx.fetch_all("SELECT text FROM prompts WHERE cohort_id = ?", (cohort_id,))
    return [row["text"] for row in rows]


async def page(db: Database, cohort_id: int, offset: int, limit: int) -> list[Row]:
    return await db.fetch_all(
        "SELECT * FROM prompts WHERE cohort_id = ? ORDER BY position LIMIT ? OFFSET ?",
        (cohort_id, limit, offset),
    )


async def at_position(tx: Tx, cohort_id: int, position: int) -> Row | None:
    return await tx.fetch_one(
        "SELECT * FROM prompts WHERE cohort_id = ? AND position = ?", (cohort_id, position)
    )


async def remove(tx: Tx, cohort_id: int, position: int) -> None:
    await tx.execute(
        "DELETE FROM prompts WHERE cohort_id = ? AND position = ?", (cohort_id, position)
    )
    await tx.execute(
        "UPDATE prompts SET position = position - 1 WHERE cohort_id = ? AND position > ?",
        (cohort_id, position),
    )


async def move(tx: Tx, cohort_id: int, old: int, new: int) -> None:
    """Move the prompt at ``old`` to ``new``, shifting the ones between by one."""
    prompt_id = await tx.fetch_value(
        "SELECT id FROM prompts WHERE cohort_id = ? AND position = ?", (cohort_id, old)
    )
    if old < new:
        await tx.execute(
            "UPDATE prompts SET position = position - 1"
            " WHERE cohort_id = ? AND position > ? AND position <= ?",
            (cohort_id, old, new),
        )
    else:
        await tx.execute(
            "UPDATE prompts SET position = position + 1"
            " WHERE cohort_id = ? AND position >= ? AND position < ?",
            (cohort_id, new, old),
        )
    await tx.execute("UPDATE prompts SET position = ? WHERE id = ?", (new, prompt_id))


async def first_unused(tx: Tx, cohort_id: int, cycle: int) -> Row | None:
    """The first prompt in bank order not yet used by a round in this cycle."""
    return await tx.fetch_one(
        "SELECT * FROM prompts p WHERE p.cohort_id = ? AND NOT EXISTS ("
        "  SELECT 1 FROM rounds r WHERE r.cohort_id = p.cohort_id AND r.prompt_id = p.id"
        "  AND r.prompt_cycle = ?)"
        " ORDER BY p.position LIMIT 1",
        (cohort_id, cycle),
    )


def structure_of(row: Row) -> tuple[str, ...]:
    return tuple(json.loads(row["structure"]))
