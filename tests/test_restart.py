"""Nothing lost across a restart: open forms, and edits or deletions the database refused.

A restart here is a freshly built bot attached to the same database file
(``tests.helpers.restart``); a crash is the same without closing anything first.
"""

from __future__ import annotations

import logging
from datetime import timedelta
from pathlib import Path

from simcord import assert_error

from bot.app import create_bot
from bot.core.errors import PraxisError
from tests.helpers import (
    create_cohort,
    outage_ends_with_the_process,
    refuse_writes,
    restart,
    tick_at,
)
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
    done = await ben.submit_modal(shown, {"feedback_0": text})

    assert "Your feedback is posted" in private_text(done)
    [reply] = form_posts(thread)
    assert reply.reference.message_id == reflection.id
    stored = (await posts(world))[reply.id]
    assert (stored["kind"], stored["author_id"], stored["target_id"], stored["text"]) == (
        "feedback",
        ben.id,
        ada.id,
        f"**What stood out**\n{text}",  # the default guide's first question heads it
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


async def crash(env, settings, bots):
    """A new process on the same files; the old one closes nothing and keeps no memory."""
    new = create_bot(settings)
    bots.append(new)
    await env.restart_bot(new)
    return new


def journal(settings) -> Path:
    return settings.database_path.with_name(settings.database_path.name + ".pending.jsonl")


async def test_a_deletion_refused_in_an_outage_is_applied_after_a_crash(world, settings, bots):
    thread, _ = await open_round(world)
    ada = world.members[0]
    message = await ada.send(thread, words(60, "tender"))
    await refuse_writes(world.db)  # the database refuses writes

    await ada.delete(message)
    assert (await posts(world))[message.id]["text"], "refused for now"
    held = journal(settings).read_text()
    assert str(message.id) in held and "tender" not in held, "ids only, never the text"

    await outage_ends_with_the_process(world.db)
    await crash(world.env, settings, bots)  # the new bot's connection takes writes
    stored = (await posts(world))[message.id]
    assert stored["text"] is None and stored["deleted_at"] is not None
    assert not journal(settings).exists(), "done, so nothing is kept"
    assert "No reflection yet" in private_text(await ada.slash(world.channel, "me progress"))


async def test_an_edit_refused_in_an_outage_is_applied_after_a_crash_in_its_latest_form(
    world, settings, bots
):
    thread, _ = await open_round(world)
    ada = world.members[0]
    message = await ada.send(thread, words(60, "tender"))
    await refuse_writes(world.db)
    await ada.edit(message, words(20, "shorter"))
    await ada.edit(message, words(25, "latest"))
    assert "tender" not in journal(settings).read_text()

    await outage_ends_with_the_process(world.db)
    await crash(world.env, settings, bots)
    stored = (await posts(world))[message.id]
    assert (stored["text"], stored["word_count"]) == (words(25, "latest"), 25)
    assert not has_ack(next(m for m in thread.history() if m.id == message.id)), "too short now"
    assert not journal(settings).exists()


async def test_an_edit_discord_wont_show_again_does_not_hold_up_a_deletion(
    world, settings, bots, caplog
):
    """A replayed edit reads the message again. If Discord refuses that for good (403:
    no access to the thread any more), the edit is given up with the old text kept, and
    the deletion noted after it still reaches the stored text. Edits of messages Praxis
    never stored are noted too (any channel's) but never read again."""
    thread, _ = await open_round(world)
    ada, ben = world.members[:2]
    edited = await ada.send(thread, words(60, "tender"))
    deleted = await ben.send(thread, words(60, "private"))
    elsewhere = await ada.send(world.channel, "Not a reflection, in the cohort's channel")
    await refuse_writes(world.db)
    await ada.edit(edited, words(70, "revised"))
    await ada.edit(elsewhere, "Still not a reflection")
    await ben.delete(deleted)
    world.env.inject_error(
        "GET", f"/channels/{thread.id}/messages/{edited.id}", status=403, code=50001, times=None
    )

    await outage_ends_with_the_process(world.db)
    await crash(world.env, settings, bots)
    stored = await posts(world)
    assert stored[deleted.id]["text"] is None, "the deletion reached the stored text"
    assert stored[edited.id]["text"] == words(60, "tender"), "unreadable: kept as it was"
    assert "An edit can't be read again (HTTP 403)" in caplog.text
    assert not journal(settings).exists(), "nothing left to redo"
    read_again = [r.path for r in world.env.http_requests if r.method == "GET"]
    assert f"/channels/{thread.id}/messages/{edited.id}" in read_again
    assert f"/channels/{world.channel.id}/messages/{elsewhere.id}" not in read_again


async def test_a_message_refused_before_a_stored_one_is_read_back_after_a_crash(
    world, settings, bots
):
    """The catch-up reads a thread after its newest stored message; one refused before
    that would be skipped for good unless its place was noted."""
    thread, _ = await open_round(world)
    ada, ben = world.members[:2]
    await refuse_writes(world.db)
    refused = await ada.send(thread, words(60, "refused"))
    await refuse_writes(world.db, False)
    stored_later = await ben.send(thread, words(60, "stored"))
    assert set(await posts(world)) == {stored_later.id}

    await crash(world.env, settings, bots)
    assert set(await posts(world)) == {refused.id, stored_later.id}
    assert not journal(settings).exists()


async def test_without_room_for_the_note_a_refusal_is_still_redone_in_memory(
    world, settings, caplog
):
    thread, _ = await open_round(world)
    ada = world.members[0]
    message = await ada.send(thread, words(60, "tender"))
    journal(settings).mkdir()  # the note can't be written, as on a full disk
    await refuse_writes(world.db)
    await ada.delete(message)
    said = [r.getMessage() for r in caplog.records if r.levelno >= logging.WARNING]
    assert any("kept in memory only" in line for line in said)
    await tick_at(world, FIRST_SLOT + timedelta(minutes=1))  # the outage is noticed

    await refuse_writes(world.db, False)
    await tick_at(world, FIRST_SLOT + timedelta(minutes=2))
    assert (await posts(world))[message.id]["text"] is None


async def test_a_privacy_check_answered_after_a_restart_says_so_kindly(world, settings, bots):
    thread, prompt = await open_round(world)
    ada = world.members[0]
    shown = await ada.click(prompt, label="Write reflection")
    named = "Today my client Maria Lopez told me she felt judged. " + words(50)
    warned = await ada.submit_modal(shown, {"section_0": named})
    assert "Maria Lopez" in warned.response.content

    await restart(world.env, settings, bots)
    answered = await ada.click(warned.response, label="Post anyway")
    said = private_text(answered)
    assert "no longer holds that text (it has restarted since" in said
    assert form_posts(thread) == [] and await posts(world) == {}
    assert_error(world.env, PraxisError)
