"""Members' control of their own data: export it, forget it; and retention of texts.

``forget`` keeps what facilitators need only as anonymous tallies: every row the
member wrote is re-keyed to a random pseudonym (unlinkable to their account) with its
text removed, so round figures stay right while nothing says who wrote what.
"""

from __future__ import annotations

import json
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from bot.core.clock import to_db
from bot.storage import privacy as store
from bot.storage.db import Database


async def export(db: Database, guild_id: int, user_id: int, now: datetime) -> bytes:
    """What the member wrote, was sent, and chose here, as readable JSON (their settings,
    posts, feedback received and reminders; feedback pairs and excusals are facilitators'
    working records and are not included)."""
    settings = await store.settings(db, guild_id, user_id)
    authored = await store.authored(db, guild_id, user_id)
    document = {
        "about": "Your data in Praxis for this server, as stored on the date below.",
        "exported_at": to_db(now),
        "user_id": str(user_id),
        "settings": dict(settings) if settings else {"nudges": 1},
        "reflections": [_post(row) for row in authored if row["kind"] == "reflection"],
        "feedback_given": [_post(row) for row in authored if row["kind"] == "feedback"],
        "comments": [_post(row) for row in authored if row["kind"] in ("comment", "facilitator")],
        "feedback_received": [
            {**_post(row), "from": row["author_name"]}
            for row in await store.received(db, guild_id, user_id)
        ],
        "nudges": [dict(row) for row in await store.notes(db, guild_id, user_id)],
    }
    return json.dumps(document, ensure_ascii=False, indent=2).encode("utf-8")


def _post(row) -> dict:
    return {
        "cohort": row["cohort"],
        "round": row["round"],
        "prompt": row["prompt_title"],
        "kind": row["kind"],
        "posted_at": row["posted_at"],
        "edited_at": row["edited_at"],
        "late": bool(row["late"]),
        "word_count": row["word_count"],
        "text": row["text"],
        "deleted": row["deleted_at"] is not None,
        "text_removed_by_retention": row["purged_at"] is not None,
    }


@dataclass(frozen=True, slots=True)
class Forgotten:
    rows: int
    form_messages: tuple[tuple[int, int], ...]  # (thread id, message id) the bot posted for them


async def forget(db: Database, guild_id: int, user_id: int, now: datetime) -> Forgotten:
    """Delete the member's texts and settings here; keep counts under a pseudonym."""
    posted = await store.form_messages(db, guild_id, user_id)
    pseudonym = -secrets.randbelow(2**62) - 1  # negative: can never collide with a real id
    async with db.transaction() as tx:
        rows = await store.anonymise(tx, guild_id, user_id, pseudonym, to_db(now))
    return Forgotten(rows, tuple((row["thread_id"], row["message_id"]) for row in posted))


async def purge_expired(db: Database, now: datetime) -> int:
    """Retention: drop texts older than each cohort's ``retention_days``; numbers stay."""
    total = 0
    for cohort in await store.cohorts_with_retention(db):
        cutoff = to_db(now - timedelta(days=cohort["retention_days"]))
        async with db.transaction() as tx:
            total += await store.purge_before(tx, cohort["id"], cutoff, to_db(now))
    return total
