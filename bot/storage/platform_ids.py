"""SQL for ``platform_ids``: the integer each Slack id is known by in every other table."""

from __future__ import annotations

from collections.abc import Iterable

from bot.storage.db import Database, Tx


async def number_for(tx: Tx, platform: str, kind: str, external: str) -> int:
    """The integer for ``external``, given it the first time it is seen."""
    await tx.execute(
        "INSERT INTO platform_ids (platform, kind, external) VALUES (?, ?, ?) "
        "ON CONFLICT (platform, kind, external) DO NOTHING",
        (platform, kind, external),
    )
    return await tx.fetch_value(
        "SELECT id FROM platform_ids WHERE platform = ? AND kind = ? AND external = ?",
        (platform, kind, external),
    )


async def find_numbers(
    db: Database, platform: str, kind: str, externals: Iterable[str]
) -> dict[str, int]:
    """The integers already given to some of ``externals`` (none are created)."""
    wanted = sorted(set(externals))
    if not wanted:
        return {}
    marks = ", ".join("?" * len(wanted))
    rows = await db.fetch_all(
        f"SELECT external, id FROM platform_ids WHERE platform = ? AND kind = ? "
        f"AND external IN ({marks})",
        (platform, kind, *wanted),
    )
    return {row["external"]: row["id"] for row in rows}


async def externals_for(db: Database, numbers: Iterable[int]) -> dict[int, tuple[str, str]]:
    """``number -> (kind, external)`` for the numbers that stand for a platform id."""
    wanted = sorted(set(numbers))
    if not wanted:
        return {}
    marks = ", ".join("?" * len(wanted))
    rows = await db.fetch_all(
        f"SELECT id, kind, external FROM platform_ids WHERE id IN ({marks})", wanted
    )
    return {row["id"]: (row["kind"], row["external"]) for row in rows}
