"""A member's report reads that member's rows, and says what the whole-cohort history says."""

from __future__ import annotations

from datetime import timedelta

import pytest

from bench.reports import START, build
from bot.core import reports
from bot.core.ports import Person

ROUNDS = 8


@pytest.fixture
async def cohort(tmp_path):
    db, cohort, roster, _, _ = await build(tmp_path / "c.db", 40, ROUNDS)
    yield db, cohort, roster
    await db.close()


@pytest.mark.parametrize("hours_into_last_round", [1, 24 * 6])  # open for reflections; past
async def test_member_report_matches_the_whole_cohort_history(cohort, hours_into_last_round):
    db, found, roster = cohort
    now = START + timedelta(weeks=ROUNDS - 1, hours=hours_into_last_round)
    stranger = Person(1, "Never wrote")
    history = await reports.load_history(db, found, [*roster, stranger], now=now)
    statuses = set()
    for person in [*roster, stranger]:
        mine = await reports.member_report(db, found, [], person, now)
        assert mine == reports.member_summary(history, person, now), person
        statuses |= {standing.status for _, standing in mine.per_round}
    assert statuses >= {"on_time", "late", "short", "missing", "excused"}, "a varied cohort"


async def sqlite_steps(db, work) -> int:
    """SQLite virtual-machine steps (in thousands) ``work`` costs: deterministic, unlike time."""
    steps = 0

    def count() -> int:
        nonlocal steps
        steps += 1
        return 0

    await db._conn.set_progress_handler(count, 1000)
    try:
        await work
    finally:
        await db._conn.set_progress_handler(None, 1000)
    return steps


async def test_member_report_costs_one_members_rows_whatever_the_cohort_size(tmp_path):
    costs = []
    for members in (40, 160):
        db, found, roster, _, _ = await build(tmp_path / f"{members}.db", members, ROUNDS)
        try:
            now = START + timedelta(weeks=ROUNDS)
            person = roster[7]
            report = reports.member_report(db, found, [], person, now)
            costs.append(await sqlite_steps(db, report))
        finally:
            await db.close()
    small, big = costs
    assert big < small * 1.5, f"4× the members cost {big / small:.1f}× the work ({costs})"
