"""Private reflections: sent to the cohort's facilitators only, counted, never in the thread,
never assigned for peer feedback, and refused kindly when the cohort turned them off."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import pytest_asyncio

from bot.slack.reflect import _private_choice
from tests.helpers import create_cohort, refused, tick_at
from tests.slack_helpers import assert_no_errors_logged, running_praxis
from tests.slack_helpers import open_round as open_round_on_slack

FIRST_SLOT = datetime(2026, 1, 5, 9, 0, tzinfo=UTC)
REFLECT_DUE = FIRST_SLOT + timedelta(hours=72)
SECRET = "sensitive"


def words(n: int, word: str = "listening") -> str:
    return " ".join([word] * n)


async def open_round(world, **options):
    options.setdefault("min_words", 20)
    await create_cohort(world, "Autumn", **options)
    await tick_at(world, FIRST_SLOT)
    [thread] = world.channel.threads
    return thread


async def reflect_privately(member, world, text: str):
    shown = await member.slash(world.channel, "reflect", private=True)
    return await member.submit_modal(shown, {"section_0": text})


def dm_text(person) -> str:
    channel = person.user.dm_channel
    if channel is None:
        return ""
    return "\n".join(
        f"{m.content} {' '.join(f'{e.title} {e.description}' for e in m.embeds)}"
        for m in channel.history()
    )


def thread_text(thread) -> str:
    return "\n".join(
        f"{m.content} {' '.join(str(e.description) for e in m.embeds)}" for m in thread.history()
    )


async def test_a_private_reflection_counts_reaches_facilitators_only(world):
    thread = await open_round(world)
    ada = world.members[0]
    done = await reflect_privately(ada, world, words(30, SECRET))

    reply = done.response.content
    assert done.ephemeral and "facilitators" in reply and "counts" in reply
    assert SECRET not in thread_text(thread), "never in the thread"
    assert SECRET in dm_text(world.facilitator), "the facilitator gets it by DM"
    assert all(SECRET not in dm_text(m) for m in world.members)
    [row] = await world.db.fetch_all("SELECT * FROM posts WHERE author_id = ?", (ada.id,))
    assert (row["private"], row["kind"], row["source"], row["late"]) == (1, "reflection", "form", 0)

    report = await world.admin.slash(world.channel, "report round", cohort="Autumn")
    field = report.response.embeds[0].fields[0].value
    assert report.ephemeral and field.startswith("1 of 4 counted") and "1 private" in field


async def test_nobody_is_asked_to_review_a_private_reflection(world):
    thread = await open_round(world, feedback_required=2)
    ada, *others = world.members
    await reflect_privately(ada, world, words(30))
    for member in others:
        await member.send(thread, words(30))
    await tick_at(world, REFLECT_DUE)

    rows = await world.db.fetch_all("SELECT reviewer_id, author_id FROM assignments")
    assert rows, "the pairs were made"
    assert all(row["author_id"] != ada.id for row in rows), "no one reviews it"
    assert any(row["reviewer_id"] == ada.id for row in rows), "Ada still reviews peers"


async def test_the_member_keeps_it_in_export_and_portfolio_and_forget_removes_it(world):
    await open_round(world)
    ada = world.members[0]
    await reflect_privately(ada, world, words(30, SECRET))

    exported = await ada.slash(world.channel, "me export")
    data = json.loads(await exported.response.attachments[0].read())
    [mine] = data["reflections"]
    assert mine["private"] is True and SECRET in mine["text"]
    page = await ada.slash(world.channel, "me portfolio")
    html = (await page.response.attachments[0].read()).decode("utf-8")
    assert SECRET in html and "private (sent to the facilitators only)" in html
    csv = await world.admin.slash(world.channel, "report export", cohort="Autumn")
    header, row = (await csv.response.attachments[0].read()).decode("utf-8-sig").splitlines()
    assert header.split(",")[-1] == "private" and row.split(",")[-1] == "yes"

    asked = await ada.slash(world.channel, "me forget")
    await ada.click(asked.response, label="Delete my data")
    assert await world.db.fetch_all("SELECT * FROM posts WHERE text LIKE ?", (f"%{SECRET}%",)) == []


async def test_a_private_reflection_that_may_name_a_client_is_checked_first(world):
    await open_round(world)
    ada = world.members[0]
    asked = await reflect_privately(ada, world, f"{words(30, SECRET)} jo.bloggs@example.org")
    assert asked.ephemeral and "could identify a client" in asked.response.content
    assert await world.db.fetch_all("SELECT * FROM posts") == []
    assert SECRET not in dm_text(world.facilitator)

    await ada.click(asked.response, label="Post anyway")
    assert SECRET in dm_text(world.facilitator)
    [row] = await world.db.fetch_all("SELECT private FROM posts")
    assert row["private"] == 1


async def test_a_cohort_can_turn_private_reflections_off(world):
    await open_round(world)
    edit = await world.admin.slash(
        world.channel, "cohort edit", name="Autumn", private_reflections=False
    )
    assert edit.ephemeral
    ada = world.members[0]
    result = await ada.slash(world.channel, "reflect", private=True)
    refused(world.env, result, "doesn't take private reflections")
    assert await world.db.fetch_all("SELECT * FROM posts") == []
    assert SECRET not in dm_text(world.facilitator)


# ----------------------------------------------------------------------------------- Slack


@pytest_asyncio.fixture
async def slack(tmp_path, caplog):
    async with running_praxis(tmp_path) as world:
        yield world
    assert_no_errors_logged(caplog)


async def test_on_slack_the_form_sends_it_to_the_facilitators_dms_only(slack):
    prompt = await open_round_on_slack(slack, min_words="5")
    ada = slack.members[0]
    form = (await ada.click(prompt, "praxis_reflect")).view
    done = await ada.submit(form, {"section_0": words(12, SECRET), "private": ["private"]})

    assert not done.errors and not form.open
    thread = slack.ws.messages(slack.room, thread_ts=prompt.ts)
    assert all(SECRET not in (m.text or "") for m in thread), "never in the thread"
    assert any(SECRET in str(m.blocks) + m.text for m in slack.fran.dms())
    assert all(SECRET not in str(m.blocks) + m.text for p in slack.members for m in p.dms())
    (said,) = [e for e in ada.private_messages() if e.thread_ts == prompt.ts]
    assert "facilitators" in said.text and "counts" in said.text
    async with slack.db.reading() as tx:
        (row,) = await tx.fetch_all("SELECT private, kind FROM posts")
    assert tuple(row) == (1, "reflection")


async def test_on_slack_a_cohort_without_private_reflections_refuses_the_form(slack):
    prompt = await open_round_on_slack(slack, min_words="5")
    async with slack.db.transaction() as tx:
        await tx.execute("UPDATE cohorts SET private_reflections = 0")
    ada = slack.members[0]
    form = (await ada.click(prompt, "praxis_reflect")).view
    assert "private" not in {b.get("block_id") for b in form.body["blocks"]}
    form.body["blocks"].append(_private_choice())  # a form opened before it was turned off
    done = await ada.submit(form, {"section_0": words(12, SECRET), "private": ["private"]})
    assert "doesn't take private reflections" in done.errors["section_0"]
    async with slack.db.reading() as tx:
        assert await tx.fetch_all("SELECT * FROM posts") == []
    assert all(SECRET not in str(m.blocks) + m.text for m in slack.fran.dms())
