"""Guided feedback on Discord: the cohort's guide questions are the "Give feedback" form's
fields, and the posted feedback keeps them as headings that don't count as words."""

from __future__ import annotations

import pytest_asyncio

from bot.core.prompts import DEFAULT_FEEDBACK_GUIDE
from bot.slack.reflect import FEEDBACK_SHORTCUT
from tests.slack_helpers import assert_no_errors_logged, running_praxis
from tests.slack_helpers import open_round as slack_open_round
from tests.test_reflections import open_round, posts, words

CUSTOM = "What moved you | One question | A next step"


def labels(modal) -> list[str]:
    """Every field label of a modal as the member sees it, in order."""
    found: list[str] = []

    def walk(node) -> None:
        if isinstance(node, dict):
            if isinstance(node.get("label"), str):
                found.append(node["label"])
            for value in node.values():
                walk(value)
        elif isinstance(node, list):
            for value in node:
                walk(value)

    walk(modal.get("components", []))
    return found


async def feedback_form(world, thread):
    ada, ben = world.members[:2]
    reflection = await ada.send(thread, words(60))
    shown = await ben.context_menu(thread, "Give feedback", reflection)
    assert shown.modal is not None
    return shown, reflection


async def edit_guide(world, guide: str):
    return await world.admin.slash(
        world.channel, "cohort edit", name="Autumn", feedback_guide=guide
    )


async def guide_column(world):
    async with world.db.reading() as tx:
        return await tx.fetch_value("SELECT feedback_guide FROM cohorts")


async def test_the_default_guide_is_the_form(world):
    thread = await open_round(world)
    shown, _ = await feedback_form(world, thread)
    assert labels(shown.modal) == list(DEFAULT_FEEDBACK_GUIDE)


async def test_a_guide_set_by_edit_shapes_the_form_and_the_post(world):
    thread = await open_round(world, feedback_min_words=10)
    edited = await edit_guide(world, CUSTOM)
    assert edited.ephemeral and "Updated" in edited.response.content
    shown, reflection = await feedback_form(world, thread)
    assert labels(shown.modal) == ["What moved you", "One question", "A next step"]

    ben = world.members[1]
    done = await ben.submit_modal(
        shown, {"feedback_0": "Your calm voice", "feedback_2": "Name the feeling aloud"}
    )
    assert done.ephemeral
    reply = [m for m in thread.history() if m.author.bot and m.embeds][-1]
    assert reply.reference.message_id == reflection.id
    text = reply.embeds[0].description
    assert text == "**What moved you**\nYour calm voice\n\n**A next step**\nName the feeling aloud"
    stored = (await posts(world))[reply.id]
    assert stored["word_count"] == 7, "only the member's words count, not the headings"
    assert "10" in done.response.content, "7 words are short of 10: the member is told so"


async def test_headings_alone_never_make_feedback_long_enough(world):
    thread = await open_round(world, feedback_min_words=8)
    shown, _ = await feedback_form(world, thread)
    ben = world.members[1]
    await ben.submit_modal(
        shown, {"feedback_0": "Brave", "feedback_1": "Why then", "feedback_2": "Pause"}
    )
    reply = [m for m in thread.history() if m.author.bot and m.embeds][-1]
    assert "**What stood out**" in reply.embeds[0].description
    assert (await posts(world))[reply.id]["word_count"] == 4


async def test_none_gives_one_free_field_and_default_restores(world):
    thread = await open_round(world)
    await edit_guide(world, "none")
    assert await guide_column(world) == "[]"
    shown, reflection = await feedback_form(world, thread)
    assert labels(shown.modal) == ["Your response to this reflection"]
    await world.members[1].submit_modal(shown, {"feedback": words(12, "thanks")})
    reply = [m for m in thread.history() if m.author.bot and m.embeds][-1]
    assert reply.embeds[0].description == words(12, "thanks")
    assert (await posts(world))[reply.id]["word_count"] == 12

    await edit_guide(world, "default")
    assert await guide_column(world) is None
    again = await world.members[2].context_menu(thread, "Give feedback", reflection)
    assert labels(again.modal) == list(DEFAULT_FEEDBACK_GUIDE)


async def test_too_many_or_too_long_questions_are_refused_kindly(world):
    await open_round(world)
    await edit_guide(world, CUSTOM)
    before = await guide_column(world)

    six = await edit_guide(world, " | ".join(f"Question {n}" for n in range(6)))
    assert six.ephemeral and "at most 5" in six.response.content
    long = await edit_guide(world, "Fine | " + "x" * 46)
    assert long.ephemeral and "at most 45" in long.response.content
    assert await guide_column(world) == before, "a refused guide stores nothing"
    from simcord import assert_error

    assert_error(world.env, Exception)


# ------------------------------------------------------------------------------- Slack


@pytest_asyncio.fixture
async def slack(tmp_path, caplog):
    async with running_praxis(tmp_path) as world:
        yield world
    assert_no_errors_logged(caplog)


def slack_labels(view) -> list[str]:
    return [b["label"]["text"] for b in view.body["blocks"] if b["type"] == "input"]


async def slack_edit(world, guide: str):
    opened = await world.admin.command("/praxis", "edit Autumn", channel=world.room)
    return await world.admin.submit(opened.view, {"feedback_guide": guide})


async def slack_feedback_form(world, prompt):
    ada, ben = world.members[:2]
    reflection = await ada.reply(prompt, "I sat with a client who was quiet for a long time.")
    opened = await ben.shortcut(reflection, FEEDBACK_SHORTCUT)
    assert opened.view is not None, opened.text
    return opened.view


async def test_slack_default_guide_posts_headings_that_do_not_count(slack):
    prompt = await slack_open_round(slack, feedback_min_words="5")
    form = await slack_feedback_form(slack, prompt)
    assert slack_labels(form) == list(DEFAULT_FEEDBACK_GUIDE)
    ben = slack.members[1]
    done = await ben.submit(form, {"feedback_0": "Your patience", "feedback_1": "Why wait"})
    assert not done.errors
    post = [m for m in slack.ws.messages(slack.room, thread_ts=prompt.ts) if m.bot_id][-1]
    shown = " ".join(b["text"]["text"] for b in post.blocks if b["type"] == "section")
    assert "*What stood out*\nYour patience" in shown and "*A question you'd ask*" in shown
    async with slack.db.reading() as tx:
        row = await tx.fetch_one("SELECT * FROM posts WHERE kind = 'feedback'")
    assert row["word_count"] == 4, "the headings are Praxis's words, not the member's"
    assert "at least" in ben.private_messages()[-1].text, "4 words are short of 5"


async def test_slack_cohort_form_sets_a_guide_and_refuses_a_bad_one(slack):
    prompt = await slack_open_round(slack)
    refused = await slack_edit(slack, "\n".join(f"Question {n}" for n in range(6)))
    assert "at most 5" in refused.errors["feedback_guide"]
    refused = await slack_edit(slack, "Fine\n" + "x" * 46)
    assert "at most 45" in refused.errors["feedback_guide"]
    assert await guide_column(slack) is None, "a refused form stores nothing"

    done = await slack_edit(slack, "What moved you\nOne question")
    assert not done.errors
    assert await guide_column(slack) == '["What moved you", "One question"]'
    form = await slack_feedback_form(slack, prompt)
    assert slack_labels(form) == ["What moved you", "One question"]

    await slack_edit(slack, "")
    assert await guide_column(slack) == "[]", "an empty guide means free text"
    form = await slack.members[2].shortcut(
        slack.ws.messages(slack.room, thread_ts=prompt.ts)[-1], FEEDBACK_SHORTCUT
    )
    assert slack_labels(form.view) == ["Your response"]
