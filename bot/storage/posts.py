"""SQL for ``posts`` (what members write in rounds) and ``member_notes`` (private notes sent)."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from bot.storage.db import Database, Row, Tx

_COLUMNS = (
    "message_id", "round_id", "author_id", "author_name", "kind", "source", "form_group",
    "reply_to_id", "target_id", "text", "word_count", "late", "acked", "posted_at", "anonymous",
    "private",
)  # fmt: skip


#: The giver's label number for anonymous form feedback (NULL otherwise), as ``peer_number``.
PEER_NUMBER = (
    "(SELECT l.number FROM feedback_labels l WHERE p.anonymous = 1"
    " AND l.round_id = p.round_id AND l.author_id = p.author_id) AS peer_number"
)


async def feedback_label(tx: Tx, round_id: int, author_id: int) -> int:
    """The giver's number for anonymous feedback in this round, assigned on first use."""
    await tx.execute(
        "INSERT INTO feedback_labels (round_id, author_id, number) SELECT ?, ?,"
        " COALESCE(MAX(number), 0) + 1 FROM feedback_labels WHERE round_id = ?"
        " ON CONFLICT (round_id, author_id) DO NOTHING",
        (round_id, author_id, round_id),
    )
    return await tx.fetch_value(
        "SELECT number FROM feedback_labels WHERE round_id = ? AND author_id = ?",
        (round_id, author_id),
    )


async def insert_if_new(tx: Tx, values: Mapping[str, Any]) -> bool:
    """Store a message once; returns False when its id was already stored.

    Only a duplicate id is ignored: any other constraint violation raises, loudly.
    """
    columns = [c for c in _COLUMNS if c in values]
    changed = await tx.execute_rowcount(
        f"INSERT INTO posts ({', '.join(columns)}) VALUES ({', '.join('?' for _ in columns)})"
        " ON CONFLICT (message_id) DO NOTHING",
        [values[c] for c in columns],
    )
    return changed > 0


async def insert_many(tx: Tx, rows: list[dict]) -> None:
    """New thread messages of one batch (their ids are known not to be stored yet)."""
    if not rows:
        return
    columns = list(rows[0])
    await tx.executemany(
        f"INSERT INTO posts ({', '.join(columns)}) VALUES ({', '.join('?' for _ in columns)})"
        " ON CONFLICT (message_id) DO NOTHING",
        [[row[c] for c in columns] for row in rows],
    )


#: A (round, author) pair in a VALUES list. PostgreSQL types a bare ``?`` there as text,
#: which it won't compare with a BIGINT column; the cast is the same on SQLite.
_TYPED_PAIR = "(CAST(? AS BIGINT), CAST(? AS BIGINT))"


def _chunks(values: list, size: int = 500) -> list[list]:
    """SQLite limits bound parameters per statement; batches stay well under it."""
    return [values[i : i + size] for i in range(0, len(values), size)]


async def existing_ids(tx: Tx, message_ids: list[int]) -> set[int]:
    found: set[int] = set()
    for chunk in _chunks(message_ids):
        rows = await tx.fetch_all(
            f"SELECT message_id FROM posts WHERE message_id IN ({', '.join('?' for _ in chunk)})",
            chunk,
        )
        found.update(row["message_id"] for row in rows)
    return found


async def reply_targets(tx: Tx, message_ids: set[int]) -> dict[int, tuple[int, str]]:
    """(author, kind) of the posts these messages reply to."""
    found: dict[int, tuple[int, str]] = {}
    for chunk in _chunks(sorted(message_ids)):
        rows = await tx.fetch_all(
            "SELECT message_id, author_id, kind FROM posts"
            f" WHERE message_id IN ({', '.join('?' for _ in chunk)})",
            chunk,
        )
        found.update((row["message_id"], (row["author_id"], row["kind"])) for row in rows)
    return found


async def reflection_totals(
    tx: Tx, pairs: set[tuple[int, int]]
) -> dict[tuple[int, int], list[int]]:
    """Per (round, author): [live reflection words, 1 if a message carries the ✅]."""
    found: dict[tuple[int, int], list[int]] = {}
    for chunk in _chunks(sorted(pairs), 400):
        rows = await tx.fetch_all(
            "SELECT round_id, author_id,"
            " SUM(CASE WHEN deleted_at IS NULL THEN word_count ELSE 0 END) AS words,"
            " MAX(acked) AS acked FROM posts"
            f" WHERE kind = 'reflection' AND (round_id, author_id) IN"
            f" (VALUES {', '.join(_TYPED_PAIR for _ in chunk)})"
            " GROUP BY round_id, author_id",
            [value for pair in chunk for value in pair],
        )
        found.update(((r["round_id"], r["author_id"]), [r["words"], r["acked"]]) for r in rows)
    return found


async def claim_notes(tx: Tx, notes: list[tuple[int, int, str, str, str]]) -> None:
    """(round, member, kind, channel, time): notes already given, recorded as sent."""
    await tx.executemany(
        "INSERT INTO member_notes (round_id, member_id, kind, channel, outcome, sent_at)"
        " VALUES (?, ?, ?, ?, 'sent', ?) ON CONFLICT DO NOTHING",
        notes,
    )


async def short_posts(
    db: Database, round_id: int, reflection_need: int, feedback_need: int, quiet_since: str
) -> list[Row]:
    """Members whose reflection, or whose latest feedback, is still under the minimum and
    who haven't written anything for a while (so they aren't interrupted mid-writing)."""
    return await db.fetch_all(
        """
        SELECT author_id, MAX(author_name) AS author_name, 'reflection' AS kind,
               SUM(word_count) AS words
          FROM posts
         WHERE round_id = ? AND kind = 'reflection' AND deleted_at IS NULL
         GROUP BY author_id
        HAVING SUM(word_count) > 0 AND SUM(word_count) < ? AND MAX(posted_at) <= ?
        UNION ALL
        SELECT author_id, MAX(author_name), 'feedback', MIN(word_count)
          FROM posts
         WHERE round_id = ? AND kind = 'feedback' AND deleted_at IS NULL
         GROUP BY author_id
        HAVING MAX(word_count) < ? AND MAX(posted_at) <= ?
        """,
        (round_id, reflection_need, quiet_since, round_id, feedback_need, quiet_since),
    )


async def get(tx: Tx, message_id: int) -> Row | None:
    return await tx.fetch_one(
        f"SELECT p.*, {PEER_NUMBER} FROM posts p WHERE p.message_id = ?", (message_id,)
    )


async def update_text(tx: Tx, message_id: int, text: str, words: int, edited_at: str) -> None:
    await tx.execute(
        "UPDATE posts SET text = ?, word_count = ?, edited_at = ? WHERE message_id = ?",
        (text, words, edited_at, message_id),
    )


async def mark_deleted(tx: Tx, message_id: int, deleted_at: str) -> None:
    await tx.execute(
        "UPDATE posts SET text = NULL, word_count = 0, deleted_at = ?, acked = 0"
        " WHERE message_id = ? AND deleted_at IS NULL",
        (deleted_at, message_id),
    )


async def reflection_words(tx: Tx, round_id: int, author_id: int) -> int:
    return await tx.fetch_value(
        "SELECT COALESCE(SUM(word_count), 0) FROM posts WHERE round_id = ? AND author_id = ?"
        " AND kind = 'reflection' AND deleted_at IS NULL",
        (round_id, author_id),
    )


async def acked_reflections(tx: Tx, round_id: int, author_id: int) -> list[int]:
    rows = await tx.fetch_all(
        "SELECT message_id FROM posts WHERE round_id = ? AND author_id = ?"
        " AND kind = 'reflection' AND acked = 1",
        (round_id, author_id),
    )
    return [row["message_id"] for row in rows]


async def latest_live_reflection(tx: Tx, round_id: int, author_id: int) -> int | None:
    return await tx.fetch_value(
        "SELECT MAX(message_id) FROM posts WHERE round_id = ? AND author_id = ?"
        " AND kind = 'reflection' AND deleted_at IS NULL",
        (round_id, author_id),
    )


async def set_acked(tx: Tx, message_ids: Iterable[int], acked: bool) -> None:
    await tx.executemany(
        "UPDATE posts SET acked = ? WHERE message_id = ?", [(int(acked), m) for m in message_ids]
    )


async def form_group(tx: Tx, round_id: int, author_id: int, kind: str) -> list[Row]:
    """The messages of a member's form-written reflection, in order."""
    return await tx.fetch_all(
        "SELECT * FROM posts WHERE round_id = ? AND author_id = ? AND kind = ?"
        " AND source = 'form' AND deleted_at IS NULL ORDER BY message_id",
        (round_id, author_id, kind),
    )


async def private_reflectors(db: Database, round_id: int) -> set[int]:
    """Members whose reflection in the round went to the facilitators only."""
    rows = await db.fetch_all(
        "SELECT DISTINCT author_id FROM posts WHERE round_id = ? AND kind = 'reflection'"
        " AND private = 1 AND deleted_at IS NULL",
        (round_id,),
    )
    return {row["author_id"] for row in rows}


async def delete_rows(tx: Tx, message_ids: Iterable[int]) -> None:
    await tx.executemany("DELETE FROM posts WHERE message_id = ?", [(m,) for m in message_ids])


async def last_thread_message(db: Database, round_id: int) -> tuple[int | None, str | None]:
    """Newest stored id of what members posted in the thread (form posts are the bot's
    own), and the newest time among forgotten posts (their ids are no longer Discord's)."""
    row = await db.fetch_one(
        "SELECT MAX(message_id), MAX(CASE WHEN message_id < 0 THEN posted_at END) FROM posts"
        " WHERE round_id = ? AND source = 'thread'",
        (round_id,),
    )
    return row[0], row[1]


async def round_tallies(db: Database, round_id: int, feedback_min_words: int) -> list[Row]:
    """Per author: reflection words (all, and on time), counted feedback given."""
    return await db.fetch_all(
        """
        SELECT author_id,
               MAX(author_name) AS author_name,
               SUM(CASE WHEN kind = 'reflection' AND deleted_at IS NULL
                        THEN word_count ELSE 0 END) AS reflection_words,
               SUM(CASE WHEN kind = 'reflection' AND deleted_at IS NULL AND late = 0
                        THEN word_count ELSE 0 END) AS reflection_words_on_time,
               COUNT(DISTINCT CASE WHEN kind = 'feedback' AND deleted_at IS NULL
                                    AND word_count >= ? THEN target_id END) AS feedback_given,
               SUM(CASE WHEN kind = 'feedback' AND deleted_at IS NULL
                         AND word_count < ? THEN 1 ELSE 0 END) AS short_feedback
          FROM posts
         WHERE round_id = ? AND kind IN ('reflection', 'feedback')
         GROUP BY author_id
        """,
        (feedback_min_words, feedback_min_words, round_id),
    )


async def feedback_targets(db: Database, round_id: int, author_id: int, min_words: int) -> set[int]:
    rows = await db.fetch_all(
        "SELECT DISTINCT target_id FROM posts WHERE round_id = ? AND author_id = ?"
        " AND kind = 'feedback' AND deleted_at IS NULL AND word_count >= ?",
        (round_id, author_id, min_words),
    )
    return {row["target_id"] for row in rows}


# ----------------------------------------------------------------------- member notes


async def claim_note(
    tx: Tx, round_id: int, member_id: int, kind: str, channel: str, sent_at: str
) -> bool:
    """Record that a note is being sent; False if this member already had this kind."""
    changed = await tx.execute_rowcount(
        "INSERT INTO member_notes (round_id, member_id, kind, channel, outcome, sent_at)"
        " VALUES (?, ?, ?, ?, 'sending', ?) ON CONFLICT DO NOTHING",
        (round_id, member_id, kind, channel, sent_at),
    )
    return changed > 0


async def delete_note(tx: Tx, round_id: int, member_id: int, kind: str) -> None:
    await tx.execute(
        "DELETE FROM member_notes WHERE round_id = ? AND member_id = ? AND kind = ?",
        (round_id, member_id, kind),
    )


async def notes_sent(db: Database, round_id: int) -> set[tuple[int, str]]:
    rows = await db.fetch_all(
        "SELECT member_id, kind FROM member_notes WHERE round_id = ?", (round_id,)
    )
    return {(row["member_id"], row["kind"]) for row in rows}


async def set_note_outcome(
    tx: Tx, round_id: int, member_id: int, kind: str, channel: str, outcome: str
) -> None:
    await tx.execute(
        "UPDATE member_notes SET channel = ?, outcome = ?"
        " WHERE round_id = ? AND member_id = ? AND kind = ?",
        (channel, outcome, round_id, member_id, kind),
    )
