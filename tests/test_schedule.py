"""Schedule math: local wall-clock time holds across DST; jumps equal a plain weekly walk."""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta

from hypothesis import given, settings
from hypothesis import strategies as st

from bot.core.schedule import WeeklySchedule
from tests.helpers import create_cohort, tick_at


def weekly(zone: str, weekday: int = 0, at: time = time(9), every: int = 1, anchor=None):
    anchor = anchor or datetime(2026, 1, 1, tzinfo=UTC)
    return WeeklySchedule(zone, weekday, at, every, anchor)


def utc(*args) -> datetime:
    return datetime(*args, tzinfo=UTC)


def test_us_spring_and_autumn_changes_keep_nine_local():
    schedule = weekly("America/New_York")
    spring = list(schedule.slots(utc(2026, 3, 1), utc(2026, 3, 10)))
    assert spring == [utc(2026, 3, 2, 14), utc(2026, 3, 9, 13)]  # EST, then EDT (8 March)
    autumn = list(schedule.slots(utc(2026, 10, 25), utc(2026, 11, 3)))
    assert autumn == [utc(2026, 10, 26, 13), utc(2026, 11, 2, 14)]  # EDT, then EST (1 Nov)


def test_eu_spring_and_autumn_changes_keep_nine_local():
    schedule = weekly("Europe/Berlin")
    spring = list(schedule.slots(utc(2026, 3, 22), utc(2026, 3, 31)))
    assert spring == [utc(2026, 3, 23, 8), utc(2026, 3, 30, 7)]  # CET, then CEST (29 March)
    autumn = list(schedule.slots(utc(2026, 10, 18), utc(2026, 10, 27)))
    assert autumn == [utc(2026, 10, 19, 7), utc(2026, 10, 26, 8)]  # CEST, then CET (25 Oct)


def test_time_skipped_by_dst_moves_forward_and_repeated_time_takes_the_first():
    sunday_0230 = weekly("America/New_York", weekday=6, at=time(2, 30))
    [gap] = sunday_0230.slots(utc(2026, 3, 8), utc(2026, 3, 9))
    assert gap == utc(2026, 3, 8, 7, 30)  # 02:30 does not exist; posts at 03:30 EDT
    sunday_0130 = weekly("America/New_York", weekday=6, at=time(1, 30))
    [fold] = sunday_0130.slots(utc(2026, 11, 1), utc(2026, 11, 2))
    assert fold == utc(2026, 11, 1, 5, 30)  # the first 01:30 (EDT), posted once


def test_every_two_weeks_counts_from_the_anchor():
    schedule = weekly("UTC", every=2, anchor=utc(2026, 1, 6))  # a Tuesday
    assert list(schedule.slots(utc(2026, 1, 1), utc(2026, 2, 10))) == [
        utc(2026, 1, 12, 9),
        utc(2026, 1, 26, 9),
        utc(2026, 2, 9, 9),
    ]


def test_next_slot_is_strictly_after():
    schedule = weekly("UTC")
    assert schedule.next_slot(utc(2026, 1, 5, 9)) == utc(2026, 1, 12, 9)
    assert schedule.next_slot(utc(2026, 1, 5, 8, 59)) == utc(2026, 1, 5, 9)


ZONES = ["UTC", "America/New_York", "Europe/Berlin", "Australia/Sydney", "Asia/Kolkata"]


@settings(max_examples=150, deadline=None)
@given(
    zone=st.sampled_from(ZONES),
    weekday=st.integers(0, 6),
    hour=st.integers(0, 23),
    every=st.integers(1, 4),
    anchor_days=st.integers(0, 400),
    start_days=st.integers(0, 800),
    span_days=st.integers(0, 120),
)
def test_slots_equal_a_plain_walk(zone, weekday, hour, every, anchor_days, start_days, span_days):
    anchor = utc(2025, 1, 1) + timedelta(days=anchor_days, hours=7)
    schedule = weekly(zone, weekday, time(hour, 15), every, anchor)
    start = utc(2025, 1, 1) + timedelta(days=start_days)
    end = start + timedelta(days=span_days)
    walked, slot = [], next(schedule.slots(anchor, anchor + timedelta(days=7 * every + 1)))
    while slot <= end:
        if slot >= start:
            walked.append(slot)
        slot = schedule.next_slot(slot)
    assert list(schedule.slots(start, end)) == walked
    assert all(s.astimezone(schedule.zone).hour in (hour, hour + 1) for s in walked)


async def test_bot_posts_at_nine_new_york_time_across_the_us_change(world):
    await tick_at(world, utc(2026, 2, 28))
    await create_cohort(world, "Evening", timezone="America/New_York")
    posted = []
    for moment in (utc(2026, 3, 2, 13, 59, 59), utc(2026, 3, 2, 14)):
        posted.append(bool((await tick_at(world, moment)).rounds.posted))
    for moment in (utc(2026, 3, 9, 12, 59, 59), utc(2026, 3, 9, 13)):
        posted.append(bool((await tick_at(world, moment)).rounds.posted))
    assert posted == [False, True, False, True]
