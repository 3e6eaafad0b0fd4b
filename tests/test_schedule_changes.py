"""Schedules that change mid-round, and `/prompt post` at the instant another round opens.

The rule: after a schedule change (or a resume), the next scheduled round opens at the
first slot of the new schedule once the round already running has reached the end of its
feedback window. Two `/prompt post` runs, or one at the moment a round opens, start one
round and get a kind answer.
"""

from __future__ import annotations

import asyncio
import logging
from datetime import UTC, datetime, timedelta

from bot.core import cohorts as core_cohorts
from bot.core import rounds as core_rounds
from bot.core.clock import from_db, unix
from tests.helpers import advance_to, bot_posts, create_cohort, show_command_to, tick_at

# SimCord's clock starts on Thursday 2026-01-01; a default cohort opens Mondays 09:00 UTC.
FIRST_SLOT = datetime(2026, 1, 5, 9, 0, tzinfo=UTC)
WEEK = timedelta(days=7)


def utc(*args: int) -> datetime:
    return datetime(*args, tzinfo=UTC)


async def slots_opened(world) -> list[datetime]:
    """The opening instant of every round stored, in order."""
    rows = await world.db.fetch_all("SELECT slot_at FROM rounds ORDER BY number")
    return [from_db(row["slot_at"]) for row in rows]


async def ticks_open_nothing(world, start: datetime, end: datetime, step: timedelta) -> None:
    moment = start
    while moment < end:
        report = await tick_at(world, moment)
        assert report.rounds.claimed == [], f"a round was opened at {moment:%a %d %b %H:%M}"
        assert report.failed_steps == []
        moment += step


async def next_round_on_card(world, name: str = "Autumn") -> str:
    shown = await world.admin.slash(world.channel, "cohort show", name=name)
    return next(f for f in shown.response.embeds[0].fields if f.name == "Next round").value


def no_errors_logged(caplog) -> None:
    errors = [r for r in caplog.records if r.levelno >= logging.ERROR]
    assert errors == [], [r.getMessage() for r in errors]


# ------------------------------------------------------------- schedule edits mid-round


async def test_later_time_mid_round_waits_for_round_1s_feedback_window(world):
    await create_cohort(world, "Autumn")
    await tick_at(world, FIRST_SLOT)
    await advance_to(world.env, FIRST_SLOT + timedelta(minutes=30))

    edited = await world.admin.slash(world.channel, "cohort edit", name="Autumn", time="10:00")

    second = FIRST_SLOT + WEEK + timedelta(hours=1)  # Monday 12 January, 10:00
    reply = edited.response.content
    assert "next round opens Monday 12 January 2026 at 10:00 (UTC)" in reply
    assert "round 1 is still running" in reply.lower()
    assert f"<t:{unix(second)}:F>" in await next_round_on_card(world)
    await ticks_open_nothing(world, FIRST_SLOT + timedelta(hours=1), second, timedelta(hours=6))
    assert len((await tick_at(world, second)).rounds.posted) == 1
    first_feedback_due = FIRST_SLOT + timedelta(hours=144)
    assert await slots_opened(world) == [FIRST_SLOT, second]
    assert second >= first_feedback_due


async def test_friday_to_tuesday_waits_instead_of_opening_four_days_later(world):
    await create_cohort(world, "Autumn", weekday="friday")
    friday = utc(2026, 1, 2, 9)
    await tick_at(world, friday)
    await advance_to(world.env, friday + timedelta(hours=3))

    edited = await world.admin.slash(world.channel, "cohort edit", name="Autumn", weekday="tuesday")

    tuesday = utc(2026, 1, 13, 9)  # not Tuesday 6 January: round 1 runs until Thursday 8th
    assert "Tuesday 13 January 2026 at 09:00 (UTC)" in edited.response.content
    assert f"<t:{unix(tuesday)}:F>" in await next_round_on_card(world)
    await ticks_open_nothing(world, friday + timedelta(hours=4), tuesday, timedelta(hours=12))
    await tick_at(world, tuesday)
    assert await slots_opened(world) == [friday, tuesday]


async def test_timezone_change_in_the_week_the_clocks_change(world):
    """London to Paris mid-round, with feedback open all week: Paris's 09:00 on 30 March
    (07:00 UTC, after the EU change) falls inside round 1's feedback window."""
    await tick_at(world, utc(2026, 3, 20))
    await create_cohort(world, "Autumn", timezone="Europe/London", feedback_hours=168)
    first = utc(2026, 3, 23, 9)
    await tick_at(world, first)
    await advance_to(world.env, first + timedelta(minutes=30))

    edited = await world.admin.slash(
        world.channel, "cohort edit", name="Autumn", timezone="Europe/Paris"
    )

    second = utc(2026, 4, 6, 7)  # Monday 09:00 in Paris (CEST)
    assert "Monday 6 April 2026 at 09:00 (Europe/Paris)" in edited.response.content
    await ticks_open_nothing(world, first + timedelta(hours=1), second, timedelta(hours=4))
    await tick_at(world, second)
    assert await slots_opened(world) == [first, second]


async def test_resume_keeps_the_rule_and_a_clock_change_costs_no_week(world):
    """Paused after round 1 opened, moved to 09:15 and resumed at 09:10: not a second round
    the same morning. Feedback runs the whole week, and the US clocks change on 8 March:
    the new schedule still opens the next Monday, as the unchanged schedule would have."""
    await tick_at(world, utc(2026, 2, 28))
    await create_cohort(world, "Autumn", timezone="America/New_York", feedback_hours=168)
    first = utc(2026, 3, 2, 14)  # 09:00 EST
    await tick_at(world, first)
    await advance_to(world.env, first + timedelta(minutes=5))
    await world.admin.slash(world.channel, "cohort pause", name="Autumn")
    await world.admin.slash(world.channel, "cohort edit", name="Autumn", time="09:15")
    await advance_to(world.env, first + timedelta(minutes=10))

    resumed = await world.admin.slash(world.channel, "cohort resume", name="Autumn")

    second = utc(2026, 3, 9, 13, 15)  # 09:15 EDT
    assert "Monday 9 March 2026 at 09:15 (America/New_York)" in resumed.response.content
    await ticks_open_nothing(world, first + timedelta(minutes=15), second, timedelta(hours=8))
    await tick_at(world, second)
    assert await slots_opened(world) == [first, second]


async def test_claim_step_enforces_the_rule_whatever_changed_the_schedule(world):
    """A schedule restarted by some other path (here, straight in the database) still waits."""
    await create_cohort(world, "Autumn")
    await tick_at(world, FIRST_SLOT)
    await advance_to(world.env, FIRST_SLOT + timedelta(minutes=30))
    async with world.db.transaction() as tx:
        await tx.execute(
            "UPDATE cohorts SET post_time = '10:00', schedule_from = ?",
            ("2026-01-05T09:30:00.000000Z",),
        )
    await world.bot.schedule_changed(world.env.now())

    second = FIRST_SLOT + WEEK + timedelta(hours=1)
    assert f"<t:{unix(second)}:F>" in await next_round_on_card(world)
    await ticks_open_nothing(world, FIRST_SLOT + timedelta(hours=1), second, timedelta(hours=12))
    await tick_at(world, second)
    assert await slots_opened(world) == [FIRST_SLOT, second]


# ------------------------------------------------------------ /prompt post at one instant


async def test_prompt_post_at_the_instant_the_scheduled_round_opened(world, caplog):
    await create_cohort(world, "Autumn")
    await tick_at(world, FIRST_SLOT)
    [thread] = world.channel.threads

    result = await world.admin.slash(world.channel, "prompt post", cohort="Autumn")

    assert result.ephemeral
    assert "Round 1" in result.response.content and "just opened" in result.response.content
    assert f"<#{thread.id}>" in result.response.content
    assert len(bot_posts(world)) == 1 and await slots_opened(world) == [FIRST_SLOT]
    no_errors_logged(caplog)


async def test_prompt_post_at_a_slot_instant_before_the_tick_stands_in_for_it(world, caplog):
    await create_cohort(world, "Autumn")
    await advance_to(world.env, FIRST_SLOT)

    result = await world.admin.slash(world.channel, "prompt post", cohort="Autumn")

    assert "Round 1" in result.response.content and "is open" in result.response.content
    again = await tick_at(world, FIRST_SLOT + timedelta(minutes=1))
    assert again.rounds.claimed == [] and again.failed_steps == []
    assert len(bot_posts(world)) == 1
    no_errors_logged(caplog)
    # The schedule carries on the week after.
    report = await tick_at(world, FIRST_SLOT + WEEK)
    assert len(report.rounds.posted) == 1 and report.failed_steps == []
    assert await slots_opened(world) == [FIRST_SLOT, FIRST_SLOT + WEEK]


async def test_prompt_post_twice_in_one_instant_posts_one_round(world, caplog):
    await create_cohort(world, "Autumn")
    await show_command_to(world, "prompt", world.facilitators)
    first = await world.admin.slash(world.channel, "prompt post", cohort="Autumn")
    second = await world.facilitator.slash(world.channel, "prompt post", cohort="Autumn")

    assert "Round 1" in first.response.content
    assert second.ephemeral and "just opened" in second.response.content
    [thread] = world.channel.threads
    assert f"<#{thread.id}>" in second.response.content
    assert len(bot_posts(world)) == 1
    no_errors_logged(caplog)


async def test_double_click_a_second_apart_posts_one_round(world):
    await create_cohort(world, "Autumn")
    await world.admin.slash(world.channel, "prompt post", cohort="Autumn")
    await world.env.advance_time(1)
    again = await world.admin.slash(world.channel, "prompt post", cohort="Autumn")
    assert "just opened" in again.response.content
    assert len(bot_posts(world)) == 1


async def test_concurrent_claims_at_one_instant_make_one_round(world, caplog):
    """Two facilitators and the scheduler, all at the slot instant, truly interleaved."""
    await create_cohort(world, "Autumn")
    await advance_to(world.env, FIRST_SLOT)
    [cohort] = await core_cohorts.list_active_cohorts(world.db)

    *started, report = await asyncio.gather(
        core_rounds.start_round_now(world.db, cohort, FIRST_SLOT),
        core_rounds.start_round_now(world.db, cohort, FIRST_SLOT),
        world.bot.tick(FIRST_SLOT),
    )

    assert report.failed_steps == []
    assert await world.db.fetch_value("SELECT COUNT(*) FROM rounds") == 1
    assert [s.fresh for s in started].count(True) <= 1
    assert len({s.round.id for s in started}) == 1
    no_errors_logged(caplog)
