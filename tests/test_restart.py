"""Nothing lost across a restart: open forms, and edits or deletions the database refused.

A restart here is a freshly built bot attached to the same database file
(``tests.helpers.restart``); a crash is the same without closing anything first.
"""

from __future__ import annotations

from datetime import timedelta

from tests.helpers import create_cohort, restart, tick_at
from tests.test_reflections import FIRST_SLOT, has_ack, posts, words


async def open_round(world):
    await create_cohort(world, "Autumn", min_words=50, feedback_min_words=10)
    await tick_at(world, FIRST_SLOT)
    [thread] = world.channel.threads
    [prompt] = [m for m in world.channel.history() if m.author.bot and m.embeds]
    return thread, prompt


def form_posts(thread) -> list:
    return [m for m in thread.history() if m.author.bot and m.embeds]


def private_text(result) -> str:
    """Everything the member was shown privately: contents and embed texts."""
    assert result.ephemeral
    messages = [result.response, *result.followups]
    return "\n".join(
        (m.content or "") + "".join(e.description or "" for e in m.embeds) for m in messages
    )


async def test_a_reflection_form_opened_before_a_restart_is_posted_after_it(world, settings, bots):
    thread, prompt = await open_round(world)
    ada = world.members[0]
    name = ada.member.display_name
    shown = await ada.click(prompt, label="Write reflection")

    await restart(world.env, settings, bots)
    done = await ada.submit_modal(shown, {"section_0": words(60, "steady")})

    assert done.ephemeral and "Your reflection is posted" in private_text(done)
    [posted] = form_posts(thread)
    assert posted.embeds[0].author.name == name
    stored = await posts(world)
    assert list(stored) == [posted.id]
    assert (stored[posted.id]["author_id"], stored[posted.id]["word_count"]) == (ada.id, 60)
    assert has_ack(next(m for m in thread.history() if m.id == posted.id))


async def test_a_feedback_form_opened_before_a_restart_is_posted_after_it(world, settings, bots):
    thread, _ = await open_round(world)
    ada, ben = world.members[:2]
    reflection = await ada.send(thread, words(60))
    shown = await ben.context_menu(thread, "Give feedback", reflection)

    await restart(world.env, settings, bots)
    text = "You named the pull to rescue so clearly; thank you for that."
    done = await ben.submit_modal(shown, {"feedback": text})

    assert "Your feedback is posted" in private_text(done)
    [reply] = form_posts(thread)
    assert reply.reference.message_id == reflection.id
    stored = (await posts(world))[reply.id]
    assert (stored["kind"], stored["author_id"], stored["target_id"], stored["text"]) == (
        "feedback",
        ben.id,
        ada.id,
        text,
    )


async def test_a_reflection_submitted_after_its_round_closed_comes_back_privately(
    world, settings, bots
):
    thread, prompt = await open_round(world)
    ada = world.members[0]
    shown = await ada.click(prompt, label="Write reflection")
    await restart(world.env, settings, bots)
    await tick_at(world, FIRST_SLOT + timedelta(hours=145))  # past the feedback deadline
    assert await world.db.fetch_value("SELECT state FROM rounds") == "closed"

    fields = {
        "section_0": "First thoughts, kept. " + words(390, "unhurried"),
        "section_1": words(500, "gently"),
        "section_2": words(10, "onwards"),
    }  # together far more than one private message can hold
    returned = await ada.submit_modal(shown, fields)

    said = private_text(returned)
    assert "This round has closed" in said
    assert "First thoughts, kept." in said
    said_words = said.split()
    assert [said_words.count(w) for w in ("unhurried", "gently", "onwards")] == [390, 500, 10]
    assert form_posts(thread) == [] and await posts(world) == {}, "nothing posted or stored"


async def test_the_same_form_is_handled_the_same_without_a_restart(world):
    """The custom-id path is the only path: a submission never depends on memory."""
    thread, prompt = await open_round(world)
    ada = world.members[0]
    shown = await ada.click(prompt, label="Write reflection")
    assert shown.modal["custom_id"].startswith("praxis:reflect-form:")
    assert not world.bot._connection._view_store._modals, "discord.py keeps no copy"
    done = await ada.submit_modal(shown, {"section_0": words(60)})
    assert "Your reflection is posted" in private_text(done)
    assert len(form_posts(thread)) == 1 and len(await posts(world)) == 1
