"""The App Home tab: each person's own view, published on opening and in batches after."""

from __future__ import annotations

import asyncio
import json
from collections import Counter
from datetime import UTC, datetime, timedelta

import pytest_asyncio

from bot.slack.home import INTERVAL
from slacksim import SlackSim
from tests.slack_helpers import (
    assert_no_errors_logged,
    build_slack_world,
    create_cohort,
    prompts,
    start_praxis,
)

REFLECTION = "I noticed how much I wanted to fix things for my client this week."


def world_fixture(n_members: int):
    @pytest_asyncio.fixture
    async def fixture(tmp_path, caplog):
        async with SlackSim() as slack:
            world = build_slack_world(slack, n_members=n_members)
            await start_praxis(world, tmp_path / "praxis.db")
            world.bot.slack.home.delay = 3600  # the timer never fires by itself: tests flush
            yield world
            for bot in world.bots:
                await bot.close()
        assert_no_errors_logged(caplog)

    return fixture


world = world_fixture(4)
big_world = world_fixture(20)


async def open_round(world, **values):
    await create_cohort(world, timezone="Europe/London", weekday="monday", time="09:00", **values)
    world.slack.advance_time(timedelta(hours=1))  # Monday 09:00: the round opens
    await world.bot.tick(world.slack.now())
    (prompt,) = prompts(world)
    return prompt


async def batch(world, after: timedelta = INTERVAL):
    """Let time pass and the batcher's timer fire (tests fire it by hand)."""
    world.slack.advance_time(after)
    await world.bot.slack.home.flush()


def text_of(view) -> str:
    """Every piece of text a Home view shows, one line per block."""

    def texts(node) -> list[str]:
        if isinstance(node, dict):
            found = [node["text"]] if isinstance(node.get("text"), str) else []
            return found + [t for value in node.values() for t in texts(value)]
        if isinstance(node, list):
            return [t for item in node for t in texts(item)]
        return []

    return "\n".join(" ".join(texts(block)) for block in view.body["blocks"])


def buttons(view, action_id: str) -> list[str]:
    found = []
    for block in view.body["blocks"]:
        for element in [*block.get("elements", []), block.get("accessory") or {}]:
            if element.get("action_id") == action_id:
                found.append(element["value"])
    return found


async def name_of(world, person) -> str:
    return (await world.bot.slack.people.person(person.id)).name


async def round_id(world) -> int:
    async with world.db.reading() as tx:
        return await tx.fetch_value("SELECT id FROM rounds")


async def test_a_member_sees_what_they_owe_then_what_is_done(world):
    prompt = await open_round(world, feedback_required="1")
    ada, ben = world.members[:2]
    home = await ada.open_home()
    text = text_of(home)
    assert "Autumn" in text and "Round 1" in text and "Reflection owed" in text
    assert "<!date^" in text  # deadlines, in each reader's own timezone
    assert buttons(home, "praxis_reflect") == [str(await round_id(world))]
    assert "facilitate" not in text

    await ada.reply(prompt, REFLECTION)
    await ben.reply(prompt, "Ben's reflection about a long silence in a session.")
    await batch(world)
    text = text_of(ada.home)
    assert "Reflection counted" in text and "Reflection owed" not in text
    assert buttons(ada.home, "praxis_reflect") == []
    assert "pairs are posted when reflections close" in text
    assert await name_of(world, ben) not in text  # no names before the pairs

    world.slack.set_time(datetime(2026, 1, 8, 9, 0, tzinfo=UTC))  # reflections were due
    report = await world.bot.tick(world.slack.now())
    assert report.assigned
    await world.bot.slack.home.flush()
    text = text_of(ada.home)
    assert "Feedback owed to 1 more peer(s)" in text and await name_of(world, ben) in text
    assert ":fire: Streak: 1 round(s)" in text

    await ada.reply(prompt, f"<@{ben.id}> the silence part stayed with me, thank you.")
    await batch(world)
    assert "Feedback given to 1 of 1 peers" in text_of(ada.home)


async def test_a_facilitator_sees_each_cohorts_round_at_a_glance(world):
    prompt = await open_round(world)
    home = await world.fran.open_home()
    text = text_of(home)
    assert "Cohorts you facilitate" in text and "Your rounds" not in text
    assert "Reflected *0* of 4" in text and "not yet 4" in text
    async with world.db.reading() as tx:
        cohort_id = await tx.fetch_value("SELECT id FROM cohorts")
    assert buttons(home, "praxis_report_round") == [str(cohort_id)]
    assert buttons(home, "praxis_report_chart") == [str(cohort_id)]

    ada, ben = world.members[:2]
    await ada.reply(prompt, REFLECTION)
    await ben.reply(prompt, f"<@{ada.id}> this helped me think about my own sessions.")
    await ben.reply(prompt, "And my reflection: I rushed to reassure a client.")
    await batch(world)
    text = text_of(world.fran.home)
    assert "Reflected *2* of 4" in text and "feedback given *1*" in text
    assert "missing *0*" in text and "not yet 2" in text

    world.slack.set_time(datetime(2026, 1, 8, 9, 1, tzinfo=UTC))  # reflections were due
    await world.bot.tick(world.slack.now())
    await world.bot.slack.home.flush()
    assert "missing *2*" in text_of(world.fran.home)

    await world.fran.click(world.fran.home, "praxis_report_round")
    (report,) = world.fran.dms()
    assert "Report" in report.text and "Autumn" in report.text
    await world.fran.click(world.fran.home, "praxis_report_chart")
    assert world.fran.dms()[-1].files[0]["name"].endswith("participation.png")
    admin_home = await world.admin.open_home()
    assert "Reflected *2* of 4" in text_of(admin_home)  # admins facilitate every cohort


async def test_someone_outside_every_cohort_is_welcomed(world):
    await open_round(world)
    home = await world.outsider.open_home()
    text = text_of(home)
    assert "not in a Praxis cohort yet" in text
    assert "Round" not in text and buttons(home, "praxis_reflect") == []


async def test_an_admin_of_an_empty_workspace_is_shown_how_to_start(world):
    home = await world.admin.open_home()
    assert "/praxis create" in text_of(home)


async def test_a_burst_of_replies_costs_at_most_one_publish_per_person_who_looks(big_world):
    world = big_world
    prompt = await open_round(world, feedback_required="1")
    lookers = [world.fran, *world.members[:5]]
    for person in lookers:
        await person.open_home()
    opened = len(world.slack.calls_to("views.publish"))
    assert opened == len(lookers)
    world.slack.advance_time(timedelta(minutes=1))

    writers = world.members[:15]
    for i in range(30):
        author = writers[i % len(writers)]
        text = REFLECTION if i < 15 else f"<@{writers[i - 15].id}> thank you for this."
        await author.reply(prompt, text)
    assert len(world.slack.calls_to("views.publish")) == opened  # nothing yet: batched

    before = len(world.slack.calls)
    await world.bot.slack.home.flush()
    calls = world.slack.calls[before:]
    published = Counter(c.args["user_id"] for c in calls if c.method == "views.publish")
    assert published == Counter({person.id: 1 for person in lookers})
    assert [c.method for c in calls].count("conversations.members") <= 1  # read once, shared
    assert "Reflected *15* of 20" in text_of(world.fran.home)
    assert "Reflection counted" in text_of(world.members[0].home)
    for person in world.members[5:]:
        assert person.home is None  # never opened: never published

    await world.bot.slack.home.flush()  # nothing changed since
    assert len(world.slack.calls_to("views.publish")) == opened + len(lookers)


async def test_changes_within_the_interval_wait_for_it_and_the_timer_publishes(world):
    prompt = await open_round(world)
    ada, ben = world.members[:2]
    await ada.open_home()
    home = world.bot.slack.home
    home.delay = 0.05
    await ada.reply(prompt, REFLECTION)  # moments after ada's view was published
    await asyncio.sleep(0.3)
    assert len(world.slack.calls_to("views.publish")) == 1  # waits for the interval
    assert "Reflection owed" in text_of(ada.home)

    world.slack.advance_time(INTERVAL)
    await ben.reply(prompt, "Ben's reflection about a long silence in a session.")
    for _ in range(100):  # the timer fires by itself, a moment later
        if len(world.slack.calls_to("views.publish")) == 2:
            break
        await asyncio.sleep(0.05)
    assert len(world.slack.calls_to("views.publish")) == 2
    assert "Reflection counted" in text_of(ada.home)
    await ada.open_home()  # opened again: the view is current, nothing to publish
    assert len(world.slack.calls_to("views.publish")) == 2


def assert_within_slack_limits(view) -> None:
    blocks = view.body["blocks"]
    assert len(blocks) <= 100
    assert len(json.dumps(view.body)) < 250_000
    for block in blocks:
        if block["type"] == "header":
            assert len(block["text"]["text"]) <= 150
        if block["type"] == "section":
            assert len(block["text"]["text"]) <= 3000
        if block["type"] == "context":
            assert len(block["elements"]) <= 10
            assert all(len(e["text"]) <= 3000 for e in block["elements"])
        for element in [*block.get("elements", []), block.get("accessory") or {}]:
            if element.get("type") == "button":
                assert len(element["text"]["text"]) <= 75 and len(element["value"]) <= 2000
        if block["type"] == "actions":
            assert len(block["elements"]) <= 25


async def test_the_view_stays_within_slacks_limits_with_25_cohorts(world):
    for i in range(25):
        name = f"Cohort {i:02d} " + "x" * 40  # the longest name allowed, 50 characters
        await create_cohort(world, name=name, timezone="Europe/London", weekday="monday",
                            time="09:00")  # fmt: skip
    world.slack.advance_time(timedelta(hours=1))
    await world.bot.tick(world.slack.now())
    assert len(prompts(world)) == 25

    member = await world.members[0].open_home()  # a member of all 25
    assert_within_slack_limits(member)
    assert text_of(member).count("Reflection owed") == 25
    assert len(buttons(member, "praxis_reflect")) == 25

    facilitator = await world.admin.open_home()
    assert_within_slack_limits(facilitator)
    assert text_of(facilitator).count("Reflected *0* of 4") == 25
    assert len(buttons(facilitator, "praxis_report_round")) == 25


async def test_an_excused_member_owes_nothing_and_the_facilitator_sees_it(world):
    await open_round(world)
    cleo = world.members[2]
    await cleo.open_home()
    await world.fran.open_home()
    answer = await world.fran.command("/praxis", f"excuse Autumn <@{cleo.id}>", channel=world.room)
    assert "excused" in answer.text
    await batch(world)
    assert "You're excused from this round" in text_of(cleo.home)
    assert buttons(cleo.home, "praxis_reflect") == []
    assert "excused 1" in text_of(world.fran.home) and "of 3" in text_of(world.fran.home)


async def test_a_deleted_reflection_is_owed_again_on_the_home_tab(world):
    prompt = await open_round(world)
    ada = world.members[0]
    reflection = await ada.reply(prompt, REFLECTION)
    assert "Reflection counted" in text_of(await ada.open_home())
    await ada.delete(reflection)
    await batch(world)
    assert "Reflection owed" in text_of(ada.home)
