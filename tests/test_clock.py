"""The stored form of an instant: fixed-width UTC text that sorts as time does."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bot.core.clock import _DB_FORMAT, from_db, to_db

ZONES = st.sampled_from(
    [UTC, timezone(timedelta(hours=5, minutes=30)), timezone(-timedelta(hours=8))]
)


@given(st.datetimes(min_value=datetime(1000, 1, 2), max_value=datetime(9999, 12, 30)), ZONES)
def test_to_db_is_the_documented_format_and_round_trips(moment: datetime, zone) -> None:
    aware = moment.replace(tzinfo=zone)
    stored = to_db(aware)
    assert stored == aware.astimezone(UTC).strftime(_DB_FORMAT)
    assert from_db(stored) == aware


def test_to_db_refuses_a_naive_time() -> None:
    with pytest.raises(ValueError):
        to_db(datetime(2026, 3, 2, 9, 0))
