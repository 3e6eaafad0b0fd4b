"""Confidentiality care: reminders to de-identify, and a private check for likely identifiers."""

from __future__ import annotations

from datetime import UTC, datetime

from tests.helpers import create_cohort, tick_at

FIRST_SLOT = datetime(2026, 1, 5, 9, 0, tzinfo=UTC)
NAMED = "Today my client Maria Lopez told me she felt judged, and I froze for a moment."
CLEAN = "Today my client told me she felt judged, and I froze for a moment."


async def open_round(world):
    await create_cohort(world, "Autumn")
    await tick_at(world, FIRST_SLOT)
    [thread] = world.channel.threads
    [prompt] = [m for m in world.channel.history() if m.author.bot and m.embeds]
    return thread, prompt


async def stored(world) -> int:
    return await world.db.fetch_value("SELECT COUNT(*) FROM posts")


async def test_prompt_and_form_remind_members_to_de_identify(world):
    _, prompt = await open_round(world)
    assert "Change names and details" in prompt.embeds[0].description
    shown = await world.members[0].click(prompt, label="Write reflection")
    assert "Change names and details" in str(shown.modal)


async def test_form_with_a_name_is_checked_then_edited(world):
    thread, prompt = await open_round(world)
    ada = world.members[0]
    shown = await ada.click(prompt, label="Write reflection")
    warned = await ada.submit_modal(shown, {"section_0": NAMED})
    assert warned.ephemeral and "Maria Lopez" in warned.response.content
    assert await stored(world) == 0, "nothing is stored before the member decides"
    assert not [m for m in thread.history() if m.author.bot and m.embeds]

    reopened = await ada.click(warned.response, label="Edit")
    assert NAMED in str(reopened.modal), "the form comes back with their text"
    done = await ada.submit_modal(reopened, {"section_0": CLEAN})
    assert "Your reflection is posted" in done.response.content
    [row] = await world.db.fetch_all("SELECT text FROM posts")
    assert "Maria" not in row["text"]


async def test_form_can_be_posted_anyway(world):
    _, prompt = await open_round(world)
    ada = world.members[0]
    shown = await ada.click(prompt, label="Write reflection")
    warned = await ada.submit_modal(shown, {"section_0": NAMED})
    posted = await ada.click(warned.response, label="Post anyway")
    assert posted.ephemeral and "Your reflection is posted" in posted.response.content
    assert await stored(world) == 1


async def test_thread_message_gets_one_private_reminder_never_a_public_one(world):
    thread, _ = await open_round(world)
    ada = world.members[0]
    await ada.send(thread, "I rang her on 07700 900123 to follow up.")
    await ada.send(thread, "She emailed from jo@example.org later.")
    reminders = [
        m.content for m in ada.user.dm_channel.history() if "private reminder" in m.content
    ]
    assert len(reminders) == 1 and "07700 900123" in reminders[0]
    public = [m for m in thread.history() if m.author.bot]
    assert not any("reminder" in (m.content or "") for m in public)
    assert await stored(world) == 2, "the message is stored as written; the member decides"
