"""SQL for members' data rights (export, forget) and text retention."""

from __future__ import annotations

from bot.storage.db import Database, Row, Tx

_IN_GUILD = "r.cohort_id IN (SELECT id FROM cohorts WHERE guild_id = ?)"


async def authored(db: Database, guild_id: int, user_id: int) -> list[Row]:
    return await db.fetch_all(
        "SELECT c.name AS cohort, r.number AS round, r.title AS prompt_title, p.*"
        " FROM posts p JOIN rounds r ON r.id = p.round_id JOIN cohorts c ON c.id = r.cohort_id"
        f" WHERE p.author_id = ? AND {_IN_GUILD} ORDER BY p.message_id",
        (user_id, guild_id),
    )


async def received(db: Database, guild_id: int, user_id: int) -> list[Row]:
    return await db.fetch_all(
        "SELECT c.name AS cohort, r.number AS round, r.title AS prompt_title, p.*"
        " FROM posts p JOIN rounds r ON r.id = p.round_id JOIN cohorts c ON c.id = r.cohort_id"
        f" WHERE p.target_id = ? AND p.kind = 'feedback' AND {_IN_GUILD} ORDER BY p.message_id",
        (user_id, guild_id),
    )


async def notes(db: Database, guild_id: int, user_id: int) -> list[Row]:
    return await db.fetch_all(
        "SELECT c.name AS cohort, r.number AS round, n.kind, n.channel, n.outcome, n.sent_at"
        " FROM member_notes n JOIN rounds r ON r.id = n.round_id"
        " JOIN cohorts c ON c.id = r.cohort_id"
        f" WHERE n.member_id = ? AND {_IN_GUILD} ORDER BY n.sent_at",
        (user_id, guild_id),
    )


async def settings(db: Database, guild_id: int, user_id: int) -> Row | None:
    return await db.fetch_one(
        "SELECT nudges, dms_closed, updated_at FROM member_settings"
        " WHERE guild_id = ? AND user_id = ?",
        (guild_id, user_id),
    )


async def form_messages(db: Database, guild_id: int, user_id: int) -> list[Row]:
    """Messages the bot posted on the member's behalf (form posts), to delete from Discord."""
    return await db.fetch_all(
        "SELECT p.message_id, r.thread_id FROM posts p JOIN rounds r ON r.id = p.round_id"
        f" WHERE p.author_id = ? AND p.source = 'form' AND p.deleted_at IS NULL AND {_IN_GUILD}",
        (user_id, guild_id),
    )


async def anonymise(tx: Tx, guild_id: int, user_id: int, pseudonym: int, now: str) -> int:
    """Replace the member by an unlinkable pseudonym in every row of this guild; drop texts."""
    rounds = f"round_id IN (SELECT r.id FROM rounds r WHERE {_IN_GUILD})"
    changed = await tx.execute_rowcount(
        f"UPDATE posts SET author_id = ?, author_name = 'Former member', text = NULL,"
        f" purged_at = ? WHERE author_id = ? AND {rounds}",
        (pseudonym, now, user_id, guild_id),
    )
    await tx.execute(
        f"UPDATE posts SET target_id = ? WHERE target_id = ? AND {rounds}",
        (pseudonym, user_id, guild_id),
    )
    for table, column in (("member_notes", "member_id"), ("excusals", "member_id")):
        await tx.execute(
            f"DELETE FROM {table} WHERE {column} = ? AND {rounds}", (user_id, guild_id)
        )
    await tx.execute(
        f"DELETE FROM assignments WHERE (reviewer_id = ? OR author_id = ?) AND {rounds}",
        (user_id, user_id, guild_id),
    )
    await tx.execute(
        "DELETE FROM member_settings WHERE guild_id = ? AND user_id = ?", (guild_id, user_id)
    )
    return changed


async def cohorts_with_retention(db: Database) -> list[Row]:
    return await db.fetch_all(
        "SELECT id, retention_days FROM cohorts WHERE retention_days IS NOT NULL"
    )


async def purge_before(tx: Tx, cohort_id: int, cutoff: str, now: str) -> int:
    """Drop the texts of this cohort's posts written before ``cutoff``; the numbers stay."""
    return await tx.execute_rowcount(
        "UPDATE posts SET text = NULL, purged_at = ? WHERE text IS NOT NULL AND posted_at < ?"
        " AND round_id IN (SELECT id FROM rounds WHERE cohort_id = ?)",
        (now, cutoff, cohort_id),
    )
