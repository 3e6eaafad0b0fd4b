"""SQL for ``assignments`` (feedback pairs) and the round columns that track them."""

from __future__ import annotations

from collections.abc import Iterable

from bot.storage.db import Database, Row, Tx


async def unassigned_due(db: Database, now: str) -> list[Row]:
    """Rounds whose reflection deadline has passed and whose pairs are not made yet."""
    return await db.fetch_all(
        "SELECT * FROM rounds WHERE state IN ('posted', 'closed') AND thread_id IS NOT NULL"
        " AND assigned_at IS NULL AND reflect_due <= ? ORDER BY id",
        (now,),
    )


async def insert(tx: Tx, round_id: int, pairs: Iterable[tuple[int, int]], late: bool) -> None:
    await tx.executemany(
        "INSERT INTO assignments (round_id, reviewer_id, author_id, late) VALUES (?, ?, ?, ?)"
        " ON CONFLICT DO NOTHING",
        [(round_id, reviewer, author, int(late)) for reviewer, author in pairs],
    )


async def assignment_state(db: Database, round_id: int) -> Row | None:
    return await db.fetch_one(
        "SELECT assigned_at, assignment_message_id FROM rounds WHERE id = ?", (round_id,)
    )


async def mark_assigned(tx: Tx, round_id: int, now: str) -> None:
    await tx.execute("UPDATE rounds SET assigned_at = ? WHERE id = ?", (now, round_id))


async def set_message(tx: Tx, round_id: int, message_id: int) -> None:
    await tx.execute(
        "UPDATE rounds SET assignment_message_id = ? WHERE id = ?", (message_id, round_id)
    )


async def unannounced_rounds(db: Database) -> list[Row]:
    """Paired rounds whose pairs list still has parts to post."""
    return await db.fetch_all(
        "SELECT * FROM rounds WHERE assigned_at IS NOT NULL AND pairs_announced_at IS NULL"
        " AND state IN ('posted', 'closed') AND thread_id IS NOT NULL ORDER BY id"
    )


async def unannounced_plan(db: Database, round_id: int) -> tuple[dict[int, tuple[int, ...]], bool]:
    """The first list's pairs not posted yet, by reviewer; and whether any part was posted."""
    rows = await db.fetch_all(
        "SELECT reviewer_id, author_id, message_id FROM assignments"
        " WHERE round_id = ? AND late = 0 ORDER BY reviewer_id, author_id",
        (round_id,),
    )
    plan: dict[int, list[int]] = {}
    for row in rows:
        if row["message_id"] is None:
            plan.setdefault(row["reviewer_id"], []).append(row["author_id"])
    started = any(row["message_id"] is not None for row in rows)
    return {reviewer: tuple(authors) for reviewer, authors in plan.items()}, started


async def set_part_message(
    tx: Tx, round_id: int, reviewers: list[int], message_id: int, late: bool
) -> None:
    """Record the message that listed these reviewers' pairs (the first list, or addenda)."""
    marks = ", ".join("?" for _ in reviewers)
    await tx.execute(
        "UPDATE assignments SET message_id = ? WHERE round_id = ? AND late = ?"
        f" AND message_id IS NULL AND reviewer_id IN ({marks})",
        (message_id, round_id, int(late), *reviewers),
    )


async def mark_announced(tx: Tx, round_id: int, now: str) -> None:
    await tx.execute("UPDATE rounds SET pairs_announced_at = ? WHERE id = ?", (now, round_id))


async def plan_for(db: Database, round_id: int) -> dict[int, tuple[int, ...]]:
    rows = await db.fetch_all(
        "SELECT reviewer_id, author_id FROM assignments WHERE round_id = ?"
        " ORDER BY reviewer_id, author_id",
        (round_id,),
    )
    plan: dict[int, list[int]] = {}
    for row in rows:
        plan.setdefault(row["reviewer_id"], []).append(row["author_id"])
    return {reviewer: tuple(authors) for reviewer, authors in plan.items()}


async def recent_pairs(db: Database, cohort_id: int, before_number: int, rounds: int) -> list[Row]:
    """Pairs from the cohort's ``rounds`` rounds before this one."""
    return await db.fetch_all(
        "SELECT a.reviewer_id, a.author_id FROM assignments a JOIN rounds r ON r.id = a.round_id"
        " WHERE r.cohort_id = ? AND r.number < ? AND r.number >= ?",
        (cohort_id, before_number, before_number - rounds),
    )
