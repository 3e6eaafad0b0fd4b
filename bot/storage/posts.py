"""SQL for ``posts`` (what members write in rounds) and ``member_notes`` (private notes sent)."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any, NamedTuple

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


class NewPost(NamedTuple):
    """A thread message's row, as :func:`insert_new` stores it."""

    message_id: int
    round_id: int
    author_id: int
    author_name: str
    kind: str
    reply_to_id: int | None
    target_id: int | None
    text: str
    word_count: int
    late: int
    acked: int
    posted_at: str


#: SQLite's smallest limit on bound values per statement (older builds: 999).
MAX_VARIABLES = 999
_NEW_POST = "('thread', " + ", ".join("?" for _ in NewPost._fields) + ")"
_NEW_POSTS_AT_ONCE = MAX_VARIABLES // len(NewPost._fields)


async def insert_new(tx: Tx, rows: list[NewPost]) -> None:
    """New thread messages of one batch (their ids are known not to be stored yet).

    Many rows per statement, all statements in one hand-off: ``executemany`` steps once
    per row, and each step hands the GIL to the event loop and waits to get it back (up
    to 5 ms while the loop is busy), so 500 rows took 100–600 ms.
    """
    statements = []
    for start in range(0, len(rows), _NEW_POSTS_AT_ONCE):
        chunk = rows[start : start + _NEW_POSTS_AT_ONCE]
        statements.append((
            f"INSERT INTO posts (source, {', '.join(NewPost._fields)})"
            f" VALUES {', '.join([_NEW_POST] * len(chunk))} ON CONFLICT (message_id) DO NOTHING",
            [value for row in chunk for value in row],
        ))  # fmt: skip
    if statements:
        await tx.run_all(statements)


async def batch_state(
    tx: Tx, message_ids: list[int], reply_ids: set[int], pairs: set[tuple[int, int]]
) -> tuple[set[int], dict[int, tuple[int, str]], dict[tuple[int, int], list[int]]]:
    """What storing a batch of thread messages needs to know, read in one hand-off: which
    ids are stored already, the (author, kind) of the posts they reply to, and per
    (round, author) [live reflection words, 1 if a message carries the ✅]."""
    reads = [_in_list(_EXISTING, chunk) for chunk in _chunks(message_ids)]
    replies_from = len(reads)
    reads += [_in_list(_REPLIED, chunk) for chunk in _chunks(sorted(reply_ids))]
    totals_from = len(reads)
    reads += [_in_pairs(_TOTALS, chunk) for chunk in _chunks(sorted(pairs), 400)]
    results = await tx.run_all(reads)
    existing = {row[0] for rows in results[:replies_from] for row in rows}
    replied = {r[0]: (r[1], r[2]) for rows in results[replies_from:totals_from] for r in rows}
    totals = {(r[0], r[1]): [r[2], r[3]] for rows in results[totals_from:] for r in rows}
    return existing, replied, totals


_EXISTING = "SELECT message_id FROM posts WHERE message_id IN ({})"
_REPLIED = "SELECT message_id, author_id, kind FROM posts WHERE message_id IN ({})"
_TOTALS = (
    "SELECT round_id, author_id,"
    " SUM(CASE WHEN deleted_at IS NULL THEN word_count ELSE 0 END), MAX(acked)"
    " FROM posts WHERE kind = 'reflection' AND (round_id, author_id) IN (VALUES {})"
    " GROUP BY round_id, author_id"
)


def _in_list(template: str, values: list) -> tuple[str, list]:
    return template.format(", ".join("?" for _ in values)), values


def _in_pairs(template: str, pairs: list[tuple]) -> tuple[str, list]:
    placeholders = ", ".join(_TYPED_PAIR for _ in pairs)
    return template.format(placeholders), [value for pair in pairs for value in pair]


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


async def claim_new_notes(
    tx: Tx, keys: list[tuple[int, int]], kind: str, channel: str, sent_at: str
) -> set[tuple[int, int]]:
    """:func:`claim_note` for many (round, member) at once: the ones not noted before. A
    constant number of statements, whatever the count (call inside one transaction)."""
    noted: set[tuple[int, int]] = set()
    for chunk in _chunks(sorted(set(keys)), 400):
        rows = await tx.fetch_all(
            "SELECT round_id, member_id FROM member_notes WHERE kind = ? AND"
            f" (round_id, member_id) IN (VALUES {', '.join(_TYPED_PAIR for _ in chunk)})",
            [kind, *(value for key in chunk for value in key)],
        )
        noted.update((row["round_id"], row["member_id"]) for row in rows)
    new = sorted(set(keys) - noted)
    await tx.executemany(
        "INSERT INTO member_notes (round_id, member_id, kind, channel, outcome, sent_at)"
        " VALUES (?, ?, ?, ?, 'sending', ?) ON CONFLICT DO NOTHING",
        [(round_id, member_id, kind, channel, sent_at) for round_id, member_id in new],
    )
    return set(new)


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


async def set_note_outcomes(
    tx: Tx, outcomes: list[tuple[int, int, str]], kind: str, channel: str
) -> None:
    """:func:`set_note_outcome` for many (round, member, outcome) at once."""
    await tx.executemany(
        "UPDATE member_notes SET channel = ?, outcome = ?"
        " WHERE round_id = ? AND member_id = ? AND kind = ?",
        [(channel, outcome, round_id, member, kind) for round_id, member, outcome in outcomes],
    )


async def set_note_outcome(
    tx: Tx, round_id: int, member_id: int, kind: str, channel: str, outcome: str
) -> None:
    await tx.execute(
        "UPDATE member_notes SET channel = ?, outcome = ?"
        " WHERE round_id = ? AND member_id = ? AND kind = ?",
        (channel, outcome, round_id, member_id, kind),
    )
