"""SQL for ``ratings``: whether the writer of a reflection found each feedback helpful."""

from __future__ import annotations

from bot.storage.db import Database, Row, Tx


async def claim_ask(tx: Tx, post: Row, now: str) -> bool:
    """Note that Praxis asks about this feedback; False if it already asked (or it is rated)."""
    changed = await tx.execute_rowcount(
        "INSERT INTO ratings (feedback_message_id, round_id, rater_id, giver_id, asked_at)"
        " VALUES (?, ?, ?, ?, ?) ON CONFLICT (feedback_message_id) DO NOTHING",
        (post["message_id"], post["round_id"], post["target_id"], post["author_id"], now),
    )
    return changed > 0


_ROUNDS_AT_ONCE = 500  # round ids bound in one statement (SQLite allows 999 at least)


async def unasked(db: Database, round_ids: list[int]) -> list[int]:
    """Feedback in these rounds on a member's reflection (not the giver's own, not deleted
    or purged) with no ratings row yet, oldest first in each round."""
    found = []
    for start in range(0, len(round_ids), _ROUNDS_AT_ONCE):
        chunk = round_ids[start : start + _ROUNDS_AT_ONCE]
        marks = ", ".join("?" * len(chunk))
        rows = await db.fetch_all(
            "SELECT p.message_id FROM posts p"
            f" WHERE p.round_id IN ({marks}) AND p.kind = 'feedback'"
            " AND p.target_id IS NOT NULL AND p.target_id > 0 AND p.target_id != p.author_id"
            " AND p.deleted_at IS NULL AND p.purged_at IS NULL AND NOT EXISTS"
            " (SELECT 1 FROM ratings r WHERE r.feedback_message_id = p.message_id)"
            " ORDER BY p.round_id, p.message_id",
            chunk,
        )
        found += [row["message_id"] for row in rows]
    return found


async def set_rating(tx: Tx, post: Row, helpful: bool, now: str) -> None:
    """Store (or change) the writer's answer; asking later finds it already there."""
    await tx.execute(
        "INSERT INTO ratings"
        " (feedback_message_id, round_id, rater_id, giver_id, helpful, asked_at, rated_at)"
        " VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT (feedback_message_id)"
        " DO UPDATE SET helpful = excluded.helpful, rated_at = excluded.rated_at",
        (
            post["message_id"],
            post["round_id"],
            post["target_id"],
            post["author_id"],
            int(helpful),
            now,
            now,
        ),
    )


async def by_giver(db: Database, cohort_id: int, round_id: int | None = None) -> list[Row]:
    """Per (round, giver): how many of their feedbacks were rated, and how many helpful."""
    only_round = "" if round_id is None else " AND g.round_id = ?"
    return await db.fetch_all(
        "SELECT g.round_id, g.giver_id, COUNT(g.helpful) AS rated,"
        " COALESCE(SUM(g.helpful), 0) AS helpful FROM ratings g"
        f" WHERE g.round_id IN (SELECT id FROM rounds WHERE cohort_id = ?){only_round}"
        " GROUP BY g.round_id, g.giver_id",
        (cohort_id,) if round_id is None else (cohort_id, round_id),
    )


async def given(db: Database, guild_id: int, user_id: int) -> list[Row]:
    """Ratings this member gave, for ``/me export``."""
    return await _involving(db, "g.rater_id", guild_id, user_id)


async def received(db: Database, guild_id: int, user_id: int) -> list[Row]:
    """Ratings this member's feedback received, for ``/me export``."""
    return await _involving(db, "g.giver_id", guild_id, user_id)


async def _involving(db: Database, column: str, guild_id: int, user_id: int) -> list[Row]:
    return await db.fetch_all(
        "SELECT c.name AS cohort, r.number AS round, g.feedback_message_id, g.helpful,"
        " g.rated_at FROM ratings g JOIN rounds r ON r.id = g.round_id"
        " JOIN cohorts c ON c.id = r.cohort_id"
        f" WHERE {column} = ? AND g.helpful IS NOT NULL AND c.guild_id = ?"
        " ORDER BY g.feedback_message_id",
        (user_id, guild_id),
    )
