"""SQL for members' data rights (export, forget) and text retention."""

from __future__ import annotations

from bot.storage.db import Database, Row, Tx
from bot.storage.posts import PEER_NUMBER

_IN_GUILD = "r.cohort_id IN (SELECT id FROM cohorts WHERE guild_id = ?)"


async def authored(db: Database, guild_id: int, user_id: int) -> list[Row]:
    return await db.fetch_all(
        "SELECT c.name AS cohort, r.cohort_id, r.number AS round, r.title AS prompt_title, p.*"
        " FROM posts p JOIN rounds r ON r.id = p.round_id JOIN cohorts c ON c.id = r.cohort_id"
        f" WHERE p.author_id = ? AND {_IN_GUILD} ORDER BY p.message_id",
        (user_id, guild_id),
    )


async def received(db: Database, guild_id: int, user_id: int) -> list[Row]:
    return await db.fetch_all(
        "SELECT c.name AS cohort, r.cohort_id, r.number AS round, r.title AS prompt_title, p.*,"
        f" {PEER_NUMBER}"
        " FROM posts p JOIN rounds r ON r.id = p.round_id JOIN cohorts c ON c.id = r.cohort_id"
        f" WHERE p.target_id = ? AND p.kind = 'feedback' AND {_IN_GUILD} ORDER BY p.message_id",
        (user_id, guild_id),
    )


async def portfolio_rounds(db: Database, guild_id: int, cohort_ids: list[int]) -> list[Row]:
    """The posted rounds of these cohorts here (prompt title and text), oldest first."""
    if not cohort_ids:
        return []
    marks = ", ".join("?" * len(cohort_ids))
    return await db.fetch_all(
        "SELECT r.id, r.number, r.title, r.text, r.posted_at, r.reflect_due, r.feedback_due,"
        " c.id AS cohort_id, c.name AS cohort, c.timezone FROM rounds r"
        " JOIN cohorts c ON c.id = r.cohort_id"
        f" WHERE c.guild_id = ? AND c.id IN ({marks}) AND r.posted_at IS NOT NULL"
        " ORDER BY c.name_key, r.number",
        (guild_id, *cohort_ids),
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
    """Messages the bot posted on the member's behalf (form posts), to delete from Discord.
    A private reflection has none: it was never posted in a thread."""
    return await db.fetch_all(
        "SELECT p.message_id, r.thread_id FROM posts p JOIN rounds r ON r.id = p.round_id"
        " WHERE p.author_id = ? AND p.source = 'form' AND p.private = 0"
        f" AND p.deleted_at IS NULL AND {_IN_GUILD}",
        (user_id, guild_id),
    )


async def dm_channel(tx: Tx, guild_id: int, user_id: int) -> int | None:
    """The member's known DM channel here (NULL until a nudge opened one)."""
    return await tx.fetch_value(
        "SELECT dm_channel_id FROM member_settings WHERE guild_id = ? AND user_id = ?",
        (guild_id, user_id),
    )


async def authored_links(tx: Tx, guild_id: int, user_id: int) -> list[Row]:
    """The member's posts here and the message ids they carry (to replace, in :func:`anonymise`)."""
    return await tx.fetch_all(
        "SELECT p.message_id, p.round_id, p.form_group, p.reply_to_id FROM posts p"
        f" JOIN rounds r ON r.id = p.round_id WHERE p.author_id = ? AND {_IN_GUILD}",
        (user_id, guild_id),
    )


async def anonymise(
    tx: Tx,
    guild_id: int,
    user_id: int,
    pseudonym: int,
    posts: list[Row],
    renamed: dict[int, int],
    now: str,
) -> int:
    """Replace the member by an unlinkable pseudonym in every row of this guild; drop texts.

    ``posts`` are the member's (from :func:`authored_links`) and ``renamed`` maps each of
    their message ids to a fresh id that points at nothing in Discord, so the rows no
    longer lead to the messages (nor do edits or deletions of those messages find them).
    Replies to those posts follow the new ids, so feedback stays attached; the ids of
    messages the member replied to are dropped (nothing reads them back).
    """
    await tx.executemany(
        "UPDATE posts SET message_id = ?, author_id = ?, author_name = 'Former member',"
        " text = NULL, purged_at = ?, form_group = ?, reply_to_id = ? WHERE message_id = ?",
        [
            (
                renamed[row["message_id"]],
                pseudonym,
                now,
                renamed.get(row["form_group"]),
                renamed.get(row["reply_to_id"]),
                row["message_id"],
            )
            for row in posts
        ],
    )
    await tx.executemany(
        "UPDATE posts SET reply_to_id = ? WHERE round_id = ? AND reply_to_id = ?",
        [(renamed[row["message_id"]], row["round_id"], row["message_id"]) for row in posts],
    )
    rounds = f"round_id IN (SELECT r.id FROM rounds r WHERE {_IN_GUILD})"
    for table, column in (
        ("posts", "target_id"),
        ("member_notes", "member_id"),  # the round's "nudges sent" count stays right
        ("excusals", "member_id"),  # reports still say "excused" for those rounds
        ("excusals", "excused_by"),  # excusals they made as a facilitator
        ("ratings", "rater_id"),  # helpfulness counts stay; nobody can tell who rated
        ("ratings", "giver_id"),  # (the feedback's own id follows the posts' new ids)
        ("feedback_labels", "author_id"),  # "Peer 3" stays, leading to nobody
    ):
        await tx.execute(
            f"UPDATE {table} SET {column} = ? WHERE {column} = ? AND {rounds}",
            (pseudonym, user_id, guild_id),
        )
    await tx.execute(
        f"DELETE FROM assignments WHERE (reviewer_id = ? OR author_id = ?) AND {rounds}",
        (user_id, user_id, guild_id),
    )
    # On Slack the DM channel's number stands for the conversation with this member: once
    # their settings are gone nothing uses it, and it would still say who they were.
    await tx.execute(
        "DELETE FROM platform_ids WHERE kind = 'channel' AND id = (SELECT dm_channel_id"
        " FROM member_settings WHERE guild_id = ? AND user_id = ?)",
        (guild_id, user_id),
    )
    await tx.execute(
        "DELETE FROM member_settings WHERE guild_id = ? AND user_id = ?", (guild_id, user_id)
    )
    # On Slack a message's number stands for its channel and ts in platform_ids: once the
    # posts no longer carry those numbers, nothing should remember which messages they were.
    await tx.executemany(
        "DELETE FROM platform_ids WHERE id = ? AND kind = 'message'",
        [(row["message_id"],) for row in posts],
    )
    return len(posts)


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
