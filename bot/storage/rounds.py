"""SQL for ``rounds``, ``skips`` and ``notices``."""

from __future__ import annotations

from collections.abc import Container, Mapping
from typing import Any

from bot.storage.db import Database, Row, Tx, insert_row, update_row

_WRITABLE = frozenset(
    {
        "cohort_id", "number", "slot_at", "manual", "state", "prompt_id", "prompt_cycle",
        "title", "text", "structure", "reflect_due", "feedback_due", "channel_id",
        "message_id", "thread_id", "posted_at", "late", "attempts", "next_attempt_at",
        "failure", "closed_at", "created_at",
    }
)  # fmt: skip


async def insert(tx: Tx, values: Mapping[str, Any]) -> int:
    return await insert_row(tx, "rounds", _WRITABLE, values)


async def claim_attempt(tx: Tx, round_id: int, attempts_seen: int, retry_at: str) -> bool:
    """Count one more attempt to post this round, unless someone else counted one since
    ``attempts_seen`` was read (another process, or a tick that raced this one)."""
    changed = await tx.execute_rowcount(
        "UPDATE rounds SET attempts = ?, next_attempt_at = ? WHERE id = ? AND attempts = ?",
        (attempts_seen + 1, retry_at, round_id, attempts_seen),
    )
    return changed > 0


async def update(tx: Tx, round_id: int, values: Mapping[str, Any]) -> None:
    await update_row(tx, "rounds", _WRITABLE, round_id, values)


async def get(tx: Tx, round_id: int) -> Row | None:
    return await tx.fetch_one("SELECT * FROM rounds WHERE id = ?", (round_id,))


async def next_number(tx: Tx, cohort_id: int) -> int:
    return 1 + await tx.fetch_value(
        "SELECT COALESCE(MAX(number), 0) FROM rounds WHERE cohort_id = ?", (cohort_id,)
    )


async def last_scheduled_slots(db: Database) -> dict[int, str]:
    """Per cohort, the latest scheduled (not manual) slot that has a round row."""
    rows = await db.fetch_all(
        "SELECT cohort_id, MAX(slot_at) AS slot FROM rounds WHERE manual = 0 GROUP BY cohort_id"
    )
    return {row["cohort_id"]: row["slot"] for row in rows}


async def latest_opened_before(tx: Tx, cohort_id: int, before: str) -> Row | None:
    """The latest scheduled round that opened (was not missed) before ``before``."""
    return await tx.fetch_one(
        "SELECT number, slot_at, feedback_due FROM rounds WHERE cohort_id = ? AND manual = 0"
        " AND state <> 'missed' AND slot_at < ? ORDER BY slot_at DESC LIMIT 1",
        (cohort_id, before),
    )


async def latest_opened_before_schedules(db: Database) -> dict[int, Row]:
    """Per active cohort, :func:`latest_opened_before` its ``schedule_from``, in one query."""
    rows = await db.fetch_all(
        "SELECT r.cohort_id, r.number, r.slot_at, r.feedback_due FROM ("
        " SELECT c.id AS cohort_id, (SELECT MAX(p.slot_at) FROM rounds p"
        "  WHERE p.cohort_id = c.id AND p.manual = 0 AND p.state <> 'missed'"
        "  AND p.slot_at < c.schedule_from) AS slot_at"
        " FROM cohorts c WHERE c.paused = 0) latest"
        " JOIN rounds r ON r.cohort_id = latest.cohort_id AND r.slot_at = latest.slot_at"
    )
    return {row["cohort_id"]: row for row in rows}


async def at_slot(tx: Tx, cohort_id: int, slot_at: str) -> Row | None:
    return await tx.fetch_one(
        "SELECT id, manual FROM rounds WHERE cohort_id = ? AND slot_at = ?", (cohort_id, slot_at)
    )


async def opened_since(tx: Tx, cohort_id: int, since: str) -> Row | None:
    """The cohort's latest round claimed at or after ``since`` that was not missed."""
    return await tx.fetch_one(
        "SELECT * FROM rounds WHERE cohort_id = ? AND state <> 'missed' AND created_at >= ?"
        " ORDER BY created_at DESC, id DESC LIMIT 1",
        (cohort_id, since),
    )


async def skips_from(db: Database, earliest_date: str) -> dict[int, set[str]]:
    rows = await db.fetch_all(
        "SELECT cohort_id, local_date FROM skips WHERE local_date >= ?", (earliest_date,)
    )
    found: dict[int, set[str]] = {}
    for row in rows:
        found.setdefault(row["cohort_id"], set()).add(row["local_date"])
    return found


async def pending(db: Database, now: str) -> list[Row]:
    """Rounds claimed or failed whose next attempt is due."""
    return await db.fetch_all(
        "SELECT * FROM rounds WHERE state IN ('claimed', 'failed') AND next_attempt_at <= ?"
        " ORDER BY next_attempt_at, id",
        (now,),
    )


async def close_finished(
    tx: Tx, now: str, keep: Container[int] = frozenset(), cohorts: Container[int] | None = None
) -> list[int]:
    """Close open rounds past their feedback deadline, except those in ``keep`` and, if
    ``cohorts`` is given, those of other cohorts."""
    rows = await tx.fetch_all(
        "SELECT id, cohort_id FROM rounds WHERE state = 'posted' AND feedback_due <= ?", (now,)
    )
    ids = [
        row["id"]
        for row in rows
        if row["id"] not in keep and (cohorts is None or row["cohort_id"] in cohorts)
    ]
    await tx.executemany(
        "UPDATE rounds SET state = 'closed', closed_at = ? WHERE id = ?", [(now, i) for i in ids]
    )
    return ids


async def earliest_pending_due(db: Database) -> str | None:
    return await db.fetch_value(
        "SELECT MIN(next_attempt_at) FROM rounds WHERE state IN ('claimed', 'failed')"
    )


async def earliest_open_deadline(db: Database) -> str | None:
    return await db.fetch_value("SELECT MIN(feedback_due) FROM rounds WHERE state = 'posted'")


async def latest_for_cohort(db: Database, cohort_id: int, limit: int = 5) -> list[Row]:
    return await db.fetch_all(
        "SELECT * FROM rounds WHERE cohort_id = ? ORDER BY number DESC LIMIT ?",
        (cohort_id, limit),
    )


async def by_number(db: Database, cohort_id: int, number: int) -> Row | None:
    return await db.fetch_one(
        "SELECT * FROM rounds WHERE cohort_id = ? AND number = ?", (cohort_id, number)
    )


async def by_thread(db: Database, thread_id: int) -> Row | None:
    return await db.fetch_one("SELECT * FROM rounds WHERE thread_id = ?", (thread_id,))


# ----------------------------------------------------------------------------- skips


async def add_skip(tx: Tx, cohort_id: int, local_date: str, created_at: str) -> bool:
    changed = await tx.execute_rowcount(
        "INSERT INTO skips (cohort_id, local_date, created_at) VALUES (?, ?, ?)"
        " ON CONFLICT DO NOTHING",
        (cohort_id, local_date, created_at),
    )
    return changed > 0


async def remove_skip(tx: Tx, cohort_id: int, local_date: str) -> bool:
    changed = await tx.execute_rowcount(
        "DELETE FROM skips WHERE cohort_id = ? AND local_date = ?", (cohort_id, local_date)
    )
    return changed > 0


async def upcoming_skips(db: Database, cohort_id: int, from_date: str) -> list[str]:
    rows = await db.fetch_all(
        "SELECT local_date FROM skips WHERE cohort_id = ? AND local_date >= ? ORDER BY local_date",
        (cohort_id, from_date),
    )
    return [row["local_date"] for row in rows]


# --------------------------------------------------------------------------- notices


async def add_notice(tx: Tx, cohort_id: int, text: str, created_at: str) -> None:
    await tx.execute(
        "INSERT INTO notices (cohort_id, text, created_at) VALUES (?, ?, ?)",
        (cohort_id, text, created_at),
    )


async def undelivered_notices(db: Database, cohort_ids: list[int]) -> list[Row]:
    if not cohort_ids:
        return []
    marks = ", ".join("?" for _ in cohort_ids)
    return await db.fetch_all(
        f"SELECT * FROM notices WHERE delivered_at IS NULL AND cohort_id IN ({marks}) ORDER BY id",
        cohort_ids,
    )


async def recent_notices(db: Database, cohort_id: int, limit: int = 5) -> list[Row]:
    return await db.fetch_all(
        "SELECT * FROM notices WHERE cohort_id = ? ORDER BY id DESC LIMIT ?", (cohort_id, limit)
    )


async def mark_delivered(tx: Tx, notice_ids: list[int], now: str) -> None:
    await tx.executemany(
        "UPDATE notices SET delivered_at = ? WHERE id = ?", [(now, i) for i in notice_ids]
    )


async def open_with_threads(tx: Tx) -> list[Row]:
    """Rounds whose threads are open, for backfill after a restart or reconnect."""
    return await tx.fetch_all(
        "SELECT * FROM rounds WHERE state = 'posted' AND thread_id IS NOT NULL ORDER BY id"
    )


async def platform_of_round(db: Database, round_id: int) -> str:
    return await db.fetch_value(
        "SELECT c.platform FROM rounds r JOIN cohorts c ON c.id = r.cohort_id WHERE r.id = ?",
        (round_id,),
    )


async def platform_of_thread(db: Database, thread_id: int) -> str:
    return await db.fetch_value(
        "SELECT c.platform FROM rounds r JOIN cohorts c ON c.id = r.cohort_id "
        "WHERE r.thread_id = ?",
        (thread_id,),
    )
