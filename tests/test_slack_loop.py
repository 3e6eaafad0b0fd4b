"""The weekly loop on Slack, through the real slack-bolt against the simulated Slack."""

from __future__ import annotations

from datetime import timedelta

import pytest_asyncio

from bot.storage import posts as post_store
from slacksim import SlackSim
from tests.slack_helpers import build_slack_world, create_cohort, prompts, start_praxis


@pytest_asyncio.fixture
async def world(tmp_path):
    async with SlackSim() as slack:
        world = build_slack_world(slack)
        await start_praxis(world, tmp_path / "praxis.db")
        yield world
        for bot in world.bots:
            await bot.close()


async def test_an_admin_sets_a_cohort_up_and_the_prompt_is_posted_once_at_its_slot(world):
    await create_cohort(world, timezone="Europe/London", weekday="monday", time="09:00")
    await world.bot.tick(world.slack.now())
    assert prompts(world) == []  # 08:00: not yet

    world.slack.advance_time(timedelta(hours=1))
    report = await world.bot.tick(world.slack.now())
    await world.bot.tick(world.slack.now())
    (prompt,) = prompts(world)
    assert report.rounds.posted
    assert prompt.metadata["event_type"] == "praxis_round"
    assert "Round 1" in prompt.text
    assert world.slack.calls_to("chat.postMessage")[0].args["channel"] == world.room.id


async def test_reflections_and_mention_feedback_are_counted_with_a_check(world):
    await create_cohort(world, timezone="Europe/London", weekday="monday", time="09:00",
                        min_words="5")  # fmt: skip
    world.slack.advance_time(timedelta(hours=1))
    await world.bot.tick(world.slack.now())
    (prompt,) = prompts(world)
    ada, ben = world.members[:2]
    short = await ada.reply(prompt, "Too short.")
    assert short.reactions == {}
    more = await ada.reply(prompt, "I sat with a client who was quiet for a long time.")
    assert more.reactions == {"white_check_mark": [world.ws.bot_user.id]}
    feedback = await ben.reply(prompt, f"<@{ada.id}> thank you, the silence part stayed with me.")

    async with world.db.reading() as tx:
        rows = {r["kind"] for r in await tx.fetch_all("SELECT kind FROM posts")}
        stored = await post_store.get(tx, await world.bot.slack.ids.known_message(world.room.id, feedback.ts))
    assert rows == {"reflection", "feedback"}
    assert stored["kind"] == "feedback"
    assert stored["target_id"] == await world.bot.slack.ids.known("user", ada.id)

    await ada.delete(more)
    assert world.room.find(more.ts) is None
    async with world.db.reading() as tx:
        kept = await tx.fetch_value("SELECT COUNT(*) FROM posts WHERE deleted_at IS NOT NULL")
    assert kept == 1
