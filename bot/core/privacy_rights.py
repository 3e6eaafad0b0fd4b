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
from bot.core.text import giver_shown
from bot.storage import posts as posts_store
from bot.storage import privacy as store
from bot.storage import ratings
from bot.storage.db import Database, Tx


async def export(
    db: Database, guild_id: int, user_id: int, now: datetime, *, shown_id: str | None = None
) -> bytes:
    """What the member wrote, was sent, and chose here, as readable JSON (their settings,
    posts, feedback received and reminders; feedback pairs and excusals are facilitators'
    working records and are not included). ``shown_id`` is the id the member knows
    themselves by, where the platform's differs from the stored number (Slack's ``U…``)."""
    settings = await store.settings(db, guild_id, user_id)
    authored = await store.authored(db, guild_id, user_id)
    document = {
        "about": "Your data in Praxis for this server, as stored on the date below.",
        "exported_at": to_db(now),
        "user_id": shown_id or str(user_id),
        "settings": dict(settings) if settings else {"nudges": 1},
        "reflections": [_post(row) for row in authored if row["kind"] == "reflection"],
        "feedback_given": [_post(row) for row in authored if row["kind"] == "feedback"],
        "comments": [_post(row) for row in authored if row["kind"] in ("comment", "facilitator")],
        "feedback_received": [
            {**_post(row), "from": giver_shown(row)}
            for row in await store.received(db, guild_id, user_id)
        ],
        "nudges": [dict(row) for row in await store.notes(db, guild_id, user_id)],
        "ratings_given": [_rating(row) for row in await ratings.given(db, guild_id, user_id)],
        "ratings_received": [_rating(row) for row in await ratings.received(db, guild_id, user_id)],
    }
    return json.dumps(document, ensure_ascii=False, indent=2).encode("utf-8")


def _rating(row) -> dict:
    return {
        "cohort": row["cohort"],
        "round": row["round"],
        "feedback_message_id": str(row["feedback_message_id"]),
        "helpful": bool(row["helpful"]),
        "rated_at": row["rated_at"],
    }


def _post(row) -> dict:
    return {
        "cohort": row["cohort"],
        "round": row["round"],
        "prompt": row["prompt_title"],
        "kind": row["kind"],
        "posted_at": row["posted_at"],
        "edited_at": row["edited_at"],
        "late": bool(row["late"]),
        "private": bool(row["private"]),  # sent to the facilitators only
        "word_count": row["word_count"],
        "text": row["text"],
        "deleted": row["deleted_at"] is not None,
        "text_removed_by_retention": row["purged_at"] is not None,
    }


@dataclass(frozen=True, slots=True)
class Forgotten:
    rows: int
    form_messages: tuple[tuple[int, int], ...]  # (thread id, message id) the bot posted for them
    scrubbed: bool  # no copy of the texts is left in the database files (else: next tick)
    #: Ids that no longer lead anywhere: the member's old message ids and their DM channel.
    #: Slack's numbers for them are deleted from ``platform_ids``; a cache must drop them too.
    unlinked: tuple[int, ...] = ()


async def form_messages(db: Database, guild_id: int, user_id: int) -> tuple[tuple[int, int], ...]:
    """(thread id, message id) of each post Praxis made for the member from a form: a
    platform that must look these ids up (Slack's numbers) does so before :func:`forget`."""
    rows = await store.form_messages(db, guild_id, user_id)
    return tuple((row["thread_id"], row["message_id"]) for row in rows)


async def forget(db: Database, guild_id: int, user_id: int, now: datetime) -> Forgotten:
    """Delete the member's texts and settings here; keep counts under a pseudonym.

    The whole database file is then rebuilt and its WAL reset (:meth:`Database.scrub`),
    so the texts and ids are gone from the disk too, not only from the tables.
    """
    posted = await form_messages(db, guild_id, user_id)
    pseudonym = _random_negative()
    async with db.transaction() as tx:
        posts = await store.authored_links(tx, guild_id, user_id)
        dm = await store.dm_channel(tx, guild_id, user_id)
        renamed = await _fresh_ids(tx, [row["message_id"] for row in posts])
        rows = await store.anonymise(tx, guild_id, user_id, pseudonym, posts, renamed, to_db(now))
    scrubbed = await db.scrub(vacuum=True)
    unlinked = (*renamed, *([dm] if dm is not None else []))
    return Forgotten(rows, posted, scrubbed, unlinked)


def _random_negative() -> int:
    """Negative, so it can never be a real platform id; random, so it says nothing."""
    return -secrets.randbelow(2**62) - 1


async def _fresh_ids(tx: Tx, old_ids: list[int]) -> dict[int, int]:
    """A new, unused random negative id for each of ``old_ids``."""
    while True:
        renamed = {old: _random_negative() for old in old_ids}
        fresh = set(renamed.values())
        if len(fresh) == len(old_ids) and not await posts_store.existing_ids(tx, list(fresh)):
            return renamed


async def purge_expired(db: Database, now: datetime) -> int:
    """Retention: drop texts older than each cohort's ``retention_days``; numbers stay.

    When anything was dropped, the WAL is reset so no old copy survives on disk; if
    that can't happen now, ``db.scrub_pending`` stays set and the tick retries it.
    """
    total = 0
    for cohort in await store.cohorts_with_retention(db):
        cutoff = to_db(now - timedelta(days=cohort["retention_days"]))
        async with db.transaction() as tx:
            total += await store.purge_before(tx, cohort["id"], cutoff, to_db(now))
    if total:
        db.scrub_pending = True
    return total
