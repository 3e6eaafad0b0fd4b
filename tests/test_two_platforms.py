"""Discord and Slack in one process and one database: one tick drives both."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
import pytest_asyncio

from slacksim import SlackSim
from tests import slack_helpers
from tests.helpers import bot_posts, create_cohort, tick_at

FIRST_SLOT = datetime(2026, 1, 5, 9, 0, tzinfo=UTC)  # Monday 09:00 UTC, both cohorts' slot


@pytest_asyncio.fixture
async def slack():
    async with SlackSim() as sim:
        yield sim


@pytest.fixture
def slack_world(slack):
    return slack_helpers.build_slack_world(slack)


@pytest.fixture
def settings(slack, slack_world, db_path):
    """The one process serves both: SimCord's Discord and the simulated Slack."""
    return slack_helpers.slack_settings(slack, slack_world.ws, db_path)


async def test_one_tick_posts_a_discord_round_and_a_slack_round(world, slack, slack_world):
    bot = world.bot
    slack.set_time(world.env.now())
    bot.slack.clock = slack.now
    slack.connect(bot.slack.app)
    await bot.start_slack()
    slack_world.bots.append(bot)

    await create_cohort(world, "Autumn")
    await slack_helpers.create_cohort(slack_world, "Autumn", timezone="UTC", weekday="monday")
    async with bot.db.reading() as tx:
        platforms = [r["platform"] for r in await tx.fetch_all("SELECT platform FROM cohorts")]
    assert sorted(platforms) == ["discord", "slack"]

    slack.set_time(FIRST_SLOT)
    report = await tick_at(world, FIRST_SLOT)
    assert len(report.rounds.posted) == 2
    assert len(bot_posts(world)) == 1
    assert len(slack_helpers.prompts(slack_world)) == 1
    again = await bot.tick(FIRST_SLOT)
    assert again.rounds.posted == []
