"""Members' forms on Slack, end to end: Write reflection, Give feedback, the privacy check."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest_asyncio

from bot.core import reflections
from bot.slack.reflect import DRAFT_GONE, FEEDBACK_SHORTCUT
from tests.slack_helpers import (
    assert_no_errors_logged,
    open_round,
    running_praxis,
    start_praxis,
)

REFLECT = "praxis_reflect"
EMAIL = "jo.bloggs@example.org"
CLOSED_AT = datetime(2026, 1, 11, 9, 1, tzinfo=UTC)  # the first round's feedback window is over


@pytest_asyncio.fixture
async def world(tmp_path, caplog):
    async with running_praxis(tmp_path) as world:
        yield world
    assert_no_errors_logged(caplog)


def words(count: int, start: int = 0) -> str:
    return " ".join(f"word{i}" for i in range(start, start + count))


def thread_posts(world, prompt):
    """What the bot posted in the round's thread (form posts, feedback), oldest first."""
    thread = world.ws.messages(world.room, thread_ts=prompt.ts)
    return [m for m in thread if m.bot_id and m.ts != prompt.ts]


async def stored(world, kind: str = "reflection"):
    async with world.db.reading() as tx:
        return await tx.fetch_all("SELECT * FROM posts WHERE kind = ? ORDER BY message_id", (kind,))


async def headings(world) -> list[str]:
    """The open round's headings, copied from its prompt."""
    async with world.db.reading() as tx:
        return json.loads(await tx.fetch_value("SELECT structure FROM rounds"))


async def number(world, person) -> int:
    return await world.bot.slack.ids.known("user", person.id)


async def test_the_button_opens_the_rounds_headings_and_posts_in_the_members_name(world):
    prompt = await open_round(world, min_words="5")
    ada = world.members[0]
    opened = await ada.click(prompt, REFLECT)
    form = opened.view
    inputs = [b for b in form.body["blocks"] if b.get("block_id", "").startswith("section_")]
    labels = [b["label"]["text"] for b in inputs]
    heads = await headings(world)
    assert labels == heads and len(heads) >= 3
    assert all(b["element"]["max_length"] <= 3000 and b["element"]["multiline"] for b in inputs)
    assert len(form.body["title"]["text"]) <= 24 and not inputs[0]["optional"]

    done = await ada.submit(form, {"section_0": "A client went quiet.", "section_2": "Ask."})
    assert not form.open and not done.errors
    (post,) = thread_posts(world, prompt)
    assert post.username == ada.user.name and post.icon_url == ada.user.avatar(192)
    shown = " ".join(b["text"]["text"] for b in post.blocks if b["type"] == "section")
    assert f"*{heads[0]}*\nA client went quiet." in shown and heads[1] not in shown
    (row,) = await stored(world)
    assert (row["source"], row["author_id"]) == ("form", await number(world, ada))
    assert row["message_id"] == await world.bot.slack.ids.known_message(world.room.id, post.ts)
    assert post.reactions == {"white_check_mark": [world.ws.bot_user.id]}
    (said,) = [e for e in ada.private_messages() if e.thread_ts == prompt.ts]
    assert "posted in the round's thread (5 words)" in said.text

    ben = world.members[1]
    short = (await ben.click(prompt, REFLECT)).view
    await ben.submit(short, {"section_0": "Too short."})
    note = ben.private_messages()[-1].text
    assert "at least 5" in note and "2 words" in note  # said at once, so no DM follows
    async with world.db.reading() as tx:
        channel = await tx.fetch_value(
            "SELECT channel FROM member_notes WHERE kind = 'short_reflection'"
        )
    assert channel == "ephemeral"


async def test_a_long_reflection_is_split_without_loss_and_sending_again_edits_it(world):
    prompt = await open_round(world)
    ada = world.members[0]
    texts = {f"section_{i}": words(330, 1000 * (i + 1)) for i in range(3)}
    assert all(2900 < len(text) <= 3000 for text in texts.values())
    await ada.submit((await ada.click(prompt, REFLECT)).view, texts)
    posts = thread_posts(world, prompt)
    rows = await stored(world)
    assert len(posts) == len(rows) >= 3
    assert {row["form_group"] for row in rows} == {rows[0]["message_id"]}
    written = " ".join(row["text"] for row in rows).split()
    marks = " ".join(f"**{h}**" for h in (await headings(world))[:3]).split()
    assert [w for w in written if w not in marks] == " ".join(texts.values()).split()
    for post in posts:
        assert all(len(b["text"]["text"]) <= 3000 for b in post.blocks if b["type"] == "section")
        assert post.username == ada.user.name
    assert sum(row["word_count"] for row in rows) == 3 * 330

    first = posts[0]
    again = (await ada.click(prompt, REFLECT)).view
    await ada.submit(again, {"section_0": "Rewritten, much shorter now."})
    assert [p.ts for p in thread_posts(world, prompt)] == [first.ts]  # edited, the rest gone
    assert "Rewritten" in first.blocks[-1]["text"]["text"] and first.edited_ts
    (row,) = await stored(world)
    assert row["message_id"] == rows[0]["message_id"] and row["word_count"] == 4
    assert "updated" in ada.private_messages()[-1].text
    assert world.slack.calls_to("chat.update") and world.slack.calls_to("chat.delete")


async def test_a_form_sent_after_the_round_closed_posts_nothing_and_gives_the_text_back(world):
    prompt = await open_round(world)
    ada = world.members[0]
    form = (await ada.click(prompt, REFLECT)).view
    world.slack.set_time(CLOSED_AT)
    await world.bot.tick(world.slack.now())
    long = {f"section_{i}": words(330, 1000 * (i + 1)) for i in range(3)}
    await ada.submit(form, long)
    assert thread_posts(world, prompt) == [] and await stored(world) == []
    reason, *parts = ada.dms()
    assert "closed" in reason.text and "nothing is lost" in reason.text and len(parts) >= 2
    given = " ".join(b["text"]["text"] for part in parts for b in part.blocks).split()
    assert [w for w in given if w.startswith("word")] == " ".join(long.values()).split()

    refused = await ada.click(prompt, REFLECT)
    assert refused.view is None and "closed" in refused.text


async def test_a_text_that_may_name_a_client_is_checked_before_it_is_posted(world):
    prompt = await open_round(world)
    ada = world.members[0]
    form = (await ada.click(prompt, REFLECT)).view
    checked = await ada.submit(form, {"section_0": f"She wrote to me from {EMAIL} at night."})
    warning = checked.view
    assert warning.previous_view_id == form.id and form.open
    assert warning.body["submit"]["text"] == "Post anyway"
    assert warning.body["close"]["text"] == "Edit"
    assert EMAIL in warning.body["blocks"][0]["text"]["text"]
    assert thread_posts(world, prompt) == [] and await stored(world) == []

    await ada.close(warning)  # Edit: back to the form, the text as it was
    assert ada.open_views() == [form] and form.typed[("section_0", "text")].endswith("at night.")
    again = await ada.submit(form)  # unchanged: checked again
    assert again.view.body["submit"]["text"] == "Post anyway"
    await ada.submit(again.view)  # Post anyway
    assert ada.open_views() == []
    (post,) = thread_posts(world, prompt)
    assert EMAIL in post.blocks[-1]["text"]["text"]
    (row,) = await stored(world)
    assert EMAIL in row["text"]


async def test_editing_after_the_check_posts_the_new_text_only(world):
    prompt = await open_round(world)
    ada = world.members[0]
    form = (await ada.click(prompt, REFLECT)).view
    warning = (await ada.submit(form, {"section_0": f"Mail from {EMAIL}."})).view
    await ada.close(warning)
    assert world.bot.slack.reflect.drafts._held == {}  # let go of at once
    await ada.submit(form, {"section_0": "Mail from a client, details changed."})
    (row,) = await stored(world)
    assert EMAIL not in row["text"] and "details changed" in row["text"]


async def test_post_anyway_after_a_restart_says_the_text_is_gone_and_the_form_still_has_it(world):
    prompt = await open_round(world)
    ada = world.members[0]
    form = (await ada.click(prompt, REFLECT)).view
    warning = (await ada.submit(form, {"section_0": f"Mail from {EMAIL}."})).view
    await world.bot.close()
    await start_praxis(world, world.path)  # a new process on the same database
    gone = await ada.submit(warning)
    assert gone.view is warning and DRAFT_GONE in warning.body["blocks"][0]["text"]["text"]
    assert "submit" not in warning.body and thread_posts(world, prompt) == []
    await ada.close(warning)
    again = await ada.submit(form)  # the text is still in the form: checked again
    await ada.submit(again.view)
    assert len(thread_posts(world, prompt)) == 1 and len(await stored(world)) == 1


async def test_a_form_opened_before_a_restart_is_posted_after_it(world):
    prompt = await open_round(world)
    ada = world.members[0]
    form = (await ada.click(prompt, REFLECT)).view
    await world.bot.close()
    await start_praxis(world, world.path)
    await ada.submit(form, {"section_0": "Written across a restart, and it arrived."})
    (post,) = thread_posts(world, prompt)
    assert post.username == ada.user.name
    (row,) = await stored(world)
    assert row["author_id"] == await number(world, ada)


async def test_reflect_command_opens_the_current_rounds_form(world):
    prompt = await open_round(world)
    ada = world.members[0]
    opened = await ada.command("/praxis", "reflect", channel=world.room)
    assert opened.view is not None and opened.view.body["callback_id"] == "praxis_reflect_form"
    await ada.submit(opened.view, {"section_0": "From the command, into the thread."})
    assert len(thread_posts(world, prompt)) == 1
    refused = await world.fran.command("/praxis", "reflect Autumn", channel=world.room)
    assert refused.view is None and "aren't a member" in refused.text


async def test_a_thread_reply_that_may_name_a_client_gets_one_private_reminder(world):
    prompt = await open_round(world)
    ada, ben = world.members[:2]
    await ada.reply(prompt, f"My client wrote from {EMAIL} this week.")
    (reminder,) = ada.private_messages()
    assert reminder.thread_ts == prompt.ts and EMAIL in reminder.text
    assert "Nobody else has been told" in reminder.text
    await ada.reply(prompt, "Another one: k.ahmed@example.com wrote too.")
    await ben.reply(prompt, "Nothing to flag in mine, just practice.")
    assert len(ada.private_messages()) == 1 and ben.private_messages() == []
    assert not any(EMAIL in m.text for m in thread_posts(world, prompt))
    async with world.db.reading() as tx:
        notes = await tx.fetch_all("SELECT kind, channel, outcome FROM member_notes")
    assert [tuple(n) for n in notes] == [("privacy_reminder", "ephemeral", "sent")]


async def test_give_feedback_posts_in_the_givers_name_mentions_the_peer_and_counts(world):
    prompt = await open_round(world, feedback_required="1", feedback_min_words="5")
    ada, ben, cleo = world.members[:3]
    reflection = await ada.reply(prompt, "I sat with a client who was quiet for a long time.")
    opened = await ben.shortcut(reflection, FEEDBACK_SHORTCUT)
    assert opened.view.body["title"]["text"] == "Give feedback"
    await ben.submit(opened.view, {"feedback_0": "The silence part stayed with me, thank you."})
    (post,) = thread_posts(world, prompt)
    assert post.username == ben.user.name and f"<@{ada.id}>" in post.text
    (row,) = await stored(world, "feedback")
    assert row["target_id"] == await number(world, ada)
    assert row["author_id"] == await number(world, ben) and row["source"] == "form"
    ctx = await reflections.context_for_thread(
        world.db, await world.bot.slack.ids.known_message(world.room.id, prompt.ts)
    )
    progress = await reflections.member_progress(world.db, ctx, await number(world, ben))
    assert progress.feedback_given == 1 and progress.feedback_owed == 0
    assert f"<@{ada.id}>" in ben.private_messages()[-1].text

    # On a reflection written with the form (the bot's message), too.
    form = (await cleo.click(prompt, REFLECT)).view
    await cleo.submit(form, {"section_0": "Cleo's reflection, written in the form."})
    cleos = thread_posts(world, prompt)[-1]
    opened = await ben.shortcut(cleos, FEEDBACK_SHORTCUT)
    await ben.submit(opened.view, {"feedback_0": "Short."})
    target = (await stored(world, "feedback"))[-1]["target_id"]
    assert target == await number(world, cleo)
    assert "at least" in ben.private_messages()[-1].text  # short feedback, said at once


async def test_give_feedback_is_refused_kindly_where_it_does_not_apply(world):
    prompt = await open_round(world)
    ada, ben = world.members[:2]
    reflection = await ada.reply(prompt, "A reflection of mine, long enough to count.")
    comment = await world.fran.reply(prompt, "A facilitator's note.")
    cases = [
        (ben, prompt, "works on a peer's reflection"),
        (ben, comment, "works on a peer's reflection"),
        (ada, reflection, "your own reflection"),
        (world.fran, reflection, "written by its members"),
        (world.admin, reflection, "written by its members"),
    ]
    for person, message, sentence in cases:
        refused = await person.shortcut(message, FEEDBACK_SHORTCUT)
        assert refused.view is None and sentence in refused.text, (person, refused.text)
    world.slack.set_time(CLOSED_AT)
    await world.bot.tick(world.slack.now())
    closed = await ben.shortcut(reflection, FEEDBACK_SHORTCUT)
    assert closed.view is None and "closed" in closed.text
    assert await stored(world, "feedback") == [] and len(thread_posts(world, prompt)) == 0


async def test_feedback_on_a_reflection_deleted_meanwhile_is_given_back(world):
    prompt = await open_round(world)
    ada, ben = world.members[:2]
    reflection = await ada.reply(prompt, "A reflection that will be taken down.")
    opened = await ben.shortcut(reflection, FEEDBACK_SHORTCUT)
    await ada.delete(reflection)
    await ben.submit(opened.view, {"feedback_0": "Kind words that must not be lost."})
    assert await stored(world, "feedback") == [] and thread_posts(world, prompt) == []
    reason, text = ben.dms()
    assert "deleted" in reason.text and "must not be lost" in text.blocks[0]["text"]["text"]
