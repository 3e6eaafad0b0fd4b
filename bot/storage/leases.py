"""Leases on scheduled work (see :mod:`bot.core.leases`): one row per scope.

Taking a lease is one upsert that only wins over an expired lease or the caller's own:
``INSERT … ON CONFLICT (scope) DO UPDATE … WHERE``, which both SQLite and PostgreSQL run
atomically per row (on PostgreSQL two processes racing for one scope serialise on the
row; the loser's condition is re-checked against the winner's row and fails).
"""

from __future__ import annotations

from collections.abc import Iterable

from bot.storage.db import Database, Tx


async def cohort_scopes(db: Database) -> list[tuple[int, str, int]]:
    """(cohort id, platform, server or workspace id) of every cohort."""
    rows = await db.fetch_all("SELECT id, platform, guild_id FROM cohorts")
    return [(row[0], row[1], row[2]) for row in rows]


async def renew(tx: Tx, owner: str, now: str, until: str) -> None:
    """Push back the expiry of every lease ``owner`` still holds (not ones it lost)."""
    await tx.execute(
        "UPDATE leases SET expires_at = ? WHERE owner = ? AND expires_at > ?", (until, owner, now)
    )


async def take(tx: Tx, scopes: Iterable[str], owner: str, now: str, until: str) -> None:
    """Take each scope that is free, expired, or already ``owner``'s."""
    await tx.executemany(
        "INSERT INTO leases (scope, owner, expires_at) VALUES (?, ?, ?)"
        " ON CONFLICT (scope) DO UPDATE SET owner = excluded.owner,"
        " expires_at = excluded.expires_at"
        " WHERE leases.owner = excluded.owner OR leases.expires_at <= ?",
        [(scope, owner, until, now) for scope in scopes],
    )


async def mark_ticked(tx: Tx, owner: str, now: str, at: str) -> None:
    """Note that ``owner``'s scopes are ticked ``at``."""
    await tx.execute(
        "UPDATE leases SET ticked_at = ? WHERE owner = ? AND expires_at > ?", (at, owner, now)
    )


async def held(tx: Tx, owner: str, now: str) -> dict[str, str | None]:
    """The scopes ``owner`` holds, each with when it was last ticked (by any process;
    None for never)."""
    rows = await tx.fetch_all(
        "SELECT scope, ticked_at FROM leases WHERE owner = ? AND expires_at > ?", (owner, now)
    )
    return {row[0]: row[1] for row in rows}


async def release(db: Database, owner: str, now: str) -> None:
    """Give up every lease ``owner`` holds (a clean stop: others needn't wait for expiry).
    The rows stay, expired, so each scope keeps when it was last ticked."""
    async with db.transaction() as tx:
        await tx.execute(
            "UPDATE leases SET expires_at = ? WHERE owner = ? AND expires_at > ?",
            (now, owner, now),
        )
