"""Read-only aggregate queries for reports: a handful per cohort, never one per member.

Every function takes an optional ``round_id`` so a one-round report reads one round. The
``member_*`` twins read one member's rows through the (round, author) and (round, target)
indexes, so a member's report costs their rows, not the cohort's.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

from bot.storage.db import Database, Row, read_only_connection


def _round_filter(round_id: int | None) -> tuple[str, list[int]]:
    return ("AND p.round_id = ?", [round_id]) if round_id is not None else ("", [])


async def reported_rounds(db: Database, cohort_id: int) -> list[Row]:
    """Rounds that were posted (open or closed), oldest first."""
    return await db.fetch_all(
        "SELECT * FROM rounds WHERE cohort_id = ? AND state IN ('posted', 'closed')"
        " ORDER BY number",
        (cohort_id,),
    )


#: Per round and author: reflection words (all / on time), counted feedback (by distinct
#: peer) and feedback under the minimum. Two ``?``: the feedback threshold, twice.
_TALLY_COLUMNS = """SELECT p.round_id, p.author_id,
               MAX(p.author_name) AS author_name,
               SUM(CASE WHEN p.kind = 'reflection' AND p.deleted_at IS NULL
                        THEN p.word_count ELSE 0 END) AS words,
               SUM(CASE WHEN p.kind = 'reflection' AND p.deleted_at IS NULL AND p.late = 0
                        THEN p.word_count ELSE 0 END) AS words_on_time,
               COUNT(DISTINCT CASE WHEN p.kind = 'feedback' AND p.deleted_at IS NULL
                                    AND p.word_count >= ? THEN p.target_id END) AS feedback_given,
               SUM(CASE WHEN p.kind = 'feedback' AND p.deleted_at IS NULL
                         AND p.word_count < ? THEN 1 ELSE 0 END) AS short_feedback,
               MAX(CASE WHEN p.kind = 'reflection' AND p.deleted_at IS NULL
                        THEN p.private ELSE 0 END) AS private"""


async def tallies(
    db: Database, cohort_id: int, feedback_threshold: int, round_id: int | None = None
) -> list[Row]:
    """Per round and author: reflection words (all / on time), feedback given, short feedback."""
    where, extra = _round_filter(round_id)
    return await db.fetch_all(
        f"""
        {_TALLY_COLUMNS}
          FROM posts p JOIN rounds r ON r.id = p.round_id
         WHERE r.cohort_id = ? AND p.kind IN ('reflection', 'feedback') {where}
         GROUP BY p.round_id, p.author_id
        """,
        [feedback_threshold, feedback_threshold, cohort_id, *extra],
    )


async def received(
    db: Database, cohort_id: int, feedback_threshold: int, round_id: int | None = None
) -> list[Row]:
    """Per round and member: how many peers gave them counted feedback."""
    where, extra = _round_filter(round_id)
    return await db.fetch_all(
        f"""
        SELECT p.round_id, p.target_id, COUNT(DISTINCT p.author_id) AS n
          FROM posts p JOIN rounds r ON r.id = p.round_id
         WHERE r.cohort_id = ? AND p.kind = 'feedback' AND p.deleted_at IS NULL
           AND p.word_count >= ? {where}
         GROUP BY p.round_id, p.target_id
        """,
        [cohort_id, feedback_threshold, *extra],
    )


async def excusals(db: Database, cohort_id: int, round_id: int | None = None) -> list[Row]:
    where = "AND e.round_id = ?" if round_id is not None else ""
    extra = [round_id] if round_id is not None else []
    return await db.fetch_all(
        f"SELECT e.round_id, e.member_id FROM excusals e JOIN rounds r ON r.id = e.round_id"
        f" WHERE r.cohort_id = ? {where}",
        [cohort_id, *extra],
    )


_COHORT_ROUNDS = "p.round_id IN (SELECT id FROM rounds WHERE cohort_id = ?)"


async def member_tallies(
    db: Database, cohort_id: int, member_id: int, feedback_threshold: int
) -> list[Row]:
    """:func:`tallies` for one author, every round of the cohort."""
    return await db.fetch_all(
        f"""
        {_TALLY_COLUMNS}
          FROM posts p
         WHERE {_COHORT_ROUNDS} AND p.author_id = ? AND p.kind IN ('reflection', 'feedback')
         GROUP BY p.round_id, p.author_id
        """,
        [feedback_threshold, feedback_threshold, cohort_id, member_id],
    )


async def member_received(
    db: Database, cohort_id: int, member_id: int, feedback_threshold: int
) -> list[Row]:
    """:func:`received` for one member, every round of the cohort."""
    return await db.fetch_all(
        f"""
        SELECT p.round_id, p.target_id, COUNT(DISTINCT p.author_id) AS n
          FROM posts p
         WHERE {_COHORT_ROUNDS} AND p.target_id = ? AND p.kind = 'feedback'
           AND p.deleted_at IS NULL AND p.word_count >= ?
         GROUP BY p.round_id, p.target_id
        """,
        [cohort_id, member_id, feedback_threshold],
    )


async def member_excusals(db: Database, cohort_id: int, member_id: int) -> list[Row]:
    return await db.fetch_all(
        "SELECT e.round_id, e.member_id FROM excusals e JOIN rounds r ON r.id = e.round_id"
        " WHERE r.cohort_id = ? AND e.member_id = ?",
        (cohort_id, member_id),
    )


async def nudges_sent(db: Database, round_id: int) -> int:
    return await db.fetch_value(
        "SELECT COUNT(*) FROM member_notes WHERE round_id = ? AND outcome = 'sent'"
        " AND kind IN ('reflect_reminder', 'reflect_last_call', 'feedback_reminder')",
        (round_id,),
    )


_EXPORT_ORDER = "ORDER BY r.number, p.kind DESC, p.author_id, p.message_id"
_EXPORT_FROM = """
          FROM posts p JOIN rounds r ON r.id = p.round_id
         WHERE r.cohort_id = ? AND p.kind IN ('reflection', 'feedback')
           AND p.deleted_at IS NULL
"""


async def export_rows(db: Database, cohort_id: int) -> list[Row]:
    """Every live reflection part and feedback post of the cohort, in reading order."""
    return await db.fetch_all(
        f"SELECT r.number, r.title, r.id AS round_id, p.* {_EXPORT_FROM} {_EXPORT_ORDER}",
        (cohort_id,),
    )


def export_batches(
    source: tuple[str, str], cohort_id: int, size: int
) -> Iterator[tuple[str, list[Row]]]:
    """:func:`export_rows` for the export's worker process, on a connection of its own to
    ``source`` (:attr:`Database.elsewhere`), in batches of ``size`` so memory holds one
    batch, not the cohort: first ``("author", [(author_id, author_name), …])`` batches in
    the same order, then ``("post", rows)`` batches."""
    queries = [
        (f"SELECT p.author_id, p.author_name {_EXPORT_FROM} {_EXPORT_ORDER}", [cohort_id]),
        (f"SELECT r.number, r.title, r.id AS round_id, p.* {_EXPORT_FROM} {_EXPORT_ORDER}",
         [cohort_id]),
    ]  # fmt: skip
    kinds = ("author", "post")
    dialect, where = source
    if dialect == "postgresql":
        from bot.storage.postgres import stream_rows  # asyncpg only when it is used

        for index, batch in stream_rows(where, queries, size):
            yield kinds[index], batch
        return
    with read_only_connection(Path(where)) as conn:
        for kind, (sql, params) in zip(kinds, queries, strict=True):
            cursor = conn.execute(sql, params)
            while batch := cursor.fetchmany(size):
                yield kind, batch


async def undigested_closed(db: Database) -> list[Row]:
    return await db.fetch_all(
        "SELECT * FROM rounds WHERE state = 'closed' AND digest_sent_at IS NULL"
        " AND thread_id IS NOT NULL ORDER BY id"
    )


async def claim_digest(db: Database, round_id: int, now: str) -> bool:
    async with db.transaction() as tx:
        changed = await tx.execute_rowcount(
            "UPDATE rounds SET digest_sent_at = ? WHERE id = ? AND digest_sent_at IS NULL",
            (now, round_id),
        )
    return changed > 0


async def release_digest(db: Database, round_id: int) -> None:
    async with db.transaction() as tx:
        await tx.execute("UPDATE rounds SET digest_sent_at = NULL WHERE id = ?", (round_id,))
