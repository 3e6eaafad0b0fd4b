"""SQL for ``member_settings`` (nudge choice, DM channel) and ``excusals``."""

from __future__ import annotations

from bot.storage.db import Database, Row, Tx


async def settings_for(db: Database, guild_id: int, user_ids: list[int]) -> dict[int, Row]:
    if not user_ids:
        return {}
    marks = ", ".join("?" for _ in user_ids)
    rows = await db.fetch_all(
        f"SELECT * FROM member_settings WHERE guild_id = ? AND user_id IN ({marks})",
        [guild_id, *user_ids],
    )
    return {row["user_id"]: row for row in rows}


async def upsert(tx: Tx, guild_id: int, user_id: int, now: str, **values: object) -> None:
    """Set some of ``nudges``, ``dm_channel_id``, ``dms_closed`` for one member."""
    allowed = {"nudges", "dm_channel_id", "dms_closed"}
    if not values or set(values) - allowed:
        raise KeyError(f"member setting columns: {sorted(values)}")
    columns = list(values)
    await tx.execute(
        f"INSERT INTO member_settings (guild_id, user_id, updated_at, {', '.join(columns)})"
        f" VALUES (?, ?, ?, {', '.join('?' for _ in columns)})"
        " ON CONFLICT (guild_id, user_id) DO UPDATE SET updated_at = excluded.updated_at, "
        + ", ".join(f"{c} = excluded.{c}" for c in columns),
        [guild_id, user_id, now, *(values[c] for c in columns)],
    )


async def excuse(tx: Tx, round_id: int, member_id: int, by: int, now: str) -> bool:
    changed = await tx.execute_rowcount(
        "INSERT INTO excusals (round_id, member_id, excused_by, created_at) VALUES (?, ?, ?, ?)"
        " ON CONFLICT DO NOTHING",
        (round_id, member_id, by, now),
    )
    return changed > 0


async def excused(db: Database, round_id: int) -> set[int]:
    rows = await db.fetch_all("SELECT member_id FROM excusals WHERE round_id = ?", (round_id,))
    return {row["member_id"] for row in rows}
