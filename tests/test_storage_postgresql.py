"""The PostgreSQL backend's own pieces: placeholders, and which errors mean an outage."""

from __future__ import annotations

import pytest

from bot.core.errors import StorageUnavailable
from bot.storage.postgres import numbered


def test_placeholders_are_numbered_outside_quoted_text_only():
    sql = "SELECT '?', ? FROM t WHERE a = ? AND b = 'it''s ?' AND \"c?\" = ?"

    assert numbered(sql) == ("SELECT '?', $1 FROM t WHERE a = $2 AND b = 'it''s ?' AND \"c?\" = $3")


@pytest.mark.postgresql_only
async def test_a_mistake_in_the_code_is_not_taken_for_an_outage(world):
    db = world.db

    with pytest.raises(Exception) as raised:
        async with db.transaction() as tx:
            await tx.execute("SELECT ?", ())  # one placeholder, no value
    with pytest.raises(OSError):
        async with db.transaction():
            raise OSError("a file the caller writes")

    assert not isinstance(raised.value, StorageUnavailable)
    assert db.write_failures == 0
    assert await db.fetch_value("SELECT COUNT(*) FROM cohorts") == 0, "still answering"
