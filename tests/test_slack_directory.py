"""Who someone is on Slack: asked for once, then kept current by ``user_change`` events."""

from __future__ import annotations

from datetime import timedelta

import pytest_asyncio

from bot.core.cohorts import list_active_cohorts
from tests.slack_helpers import (
    assert_no_errors_logged,
    create_cohort,
    running_praxis,
)


@pytest_asyncio.fixture
async def world(tmp_path, caplog):
    async with running_praxis(tmp_path) as world:
        yield world
    assert_no_errors_logged(caplog)


async def _roster_names(world) -> list[str]:
    (cohort,) = await list_active_cohorts(world.db)
    return sorted(p.name for p in await world.bot.slack.chat.roster(cohort))


async def test_a_day_later_the_roster_asks_slack_only_for_channel_and_group(world):
    await create_cohort(world)
    await _roster_names(world)
    asked = len(world.slack.calls_to("users.info"))
    world.slack.advance_time(timedelta(hours=24))  # a reminder round to its last call
    await _roster_names(world)
    assert len(world.slack.calls_to("users.info")) == asked


async def test_a_deactivation_reaches_the_roster_by_event_without_a_call(world):
    await create_cohort(world)
    ada = world.members[0]
    assert ada.user.name in await _roster_names(world)
    asked = len(world.slack.calls_to("users.info"))
    ada.deactivate()
    await world.slack.send_event(world.ws, {"type": "user_change", "user": ada.user.payload()})
    assert ada.user.name not in await _roster_names(world)
    assert len(world.slack.calls_to("users.info")) == asked
