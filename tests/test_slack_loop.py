"""The weekly loop on Slack, through the real slack-bolt against the simulated Slack."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest_asyncio

from bot.storage import posts as post_store
from tests.slack_helpers import (
    assert_no_errors_logged,
    create_cohort,
    open_round,
    prompts,
    running_praxis,
    start_praxis,
)


@pytest_asyncio.fixture
async def world(tmp_path, caplog):
    async with running_praxis(tmp_path) as world:
        yield world
    assert_no_errors_logged(caplog)


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
        stored = await post_store.get(
            tx, await world.bot.slack.ids.known_message(world.room.id, feedback.ts)
        )
    assert rows == {"reflection", "feedback"}
    assert stored["kind"] == "feedback"
    assert stored["target_id"] == await world.bot.slack.ids.known("user", ada.id)

    await ada.delete(more)
    assert world.room.find(more.ts) is None
    async with world.db.reading() as tx:
        kept = await tx.fetch_value("SELECT COUNT(*) FROM posts WHERE deleted_at IS NOT NULL")
    assert kept == 1


async def test_the_slot_follows_the_cohorts_clock_across_a_dst_change(world):
    world.slack.set_time(datetime(2026, 3, 23, 12, 0, tzinfo=UTC))  # a Monday, GMT
    await create_cohort(world, timezone="Europe/London", weekday="monday", time="09:00")
    world.slack.set_time(datetime(2026, 3, 30, 7, 59, tzinfo=UTC))  # 08:59 BST, after the change
    await world.bot.tick(world.slack.now())
    assert prompts(world) == []
    world.slack.set_time(datetime(2026, 3, 30, 8, 0, tzinfo=UTC))  # 09:00 BST
    await world.bot.tick(world.slack.now())
    assert len(prompts(world)) == 1


async def test_a_500_or_a_lost_answer_never_posts_a_prompt_twice(world, tmp_path):
    await create_cohort(world, timezone="Europe/London", weekday="monday", time="09:00")
    world.slack.advance_time(timedelta(hours=1))
    world.slack.inject_error("chat.postMessage", status=500)
    await world.bot.tick(world.slack.now())
    assert prompts(world) == []  # refused, to be retried

    world.slack.advance_time(timedelta(minutes=2))
    world.slack.inject_error("chat.postMessage", status=500, effect=True)  # posted, answer lost
    await world.bot.tick(world.slack.now())
    assert len(prompts(world)) == 1

    await world.bot.close()
    await start_praxis(world, tmp_path / "praxis.db")  # a restart on the same file
    for _ in range(3):
        world.slack.advance_time(timedelta(minutes=30))
        await world.bot.tick(world.slack.now())
    assert len(prompts(world)) == 1
    async with world.db.reading() as tx:
        state = await tx.fetch_value("SELECT state FROM rounds")
    assert state == "posted"


async def test_replies_posted_while_praxis_was_down_are_read_back(world, tmp_path):
    prompt = await open_round(world)
    ada, ben = world.members[:2]
    await ada.reply(prompt, "Written while Praxis was up.")
    await world.bot.close()
    world.slack.disconnect()
    missed = await ben.reply(prompt, "Written while Praxis was down.")
    assert world.slack.events_dropped == 1

    await start_praxis(world, tmp_path / "praxis.db")
    async with world.db.reading() as tx:
        texts = [r["text"] for r in await tx.fetch_all("SELECT text FROM posts ORDER BY posted_at")]
    assert texts == ["Written while Praxis was up.", "Written while Praxis was down."]
    assert missed.reactions == {"white_check_mark": [world.ws.bot_user.id]}
    await start_praxis(world, tmp_path / "praxis.db")  # again: nothing is stored twice
    async with world.db.reading() as tx:
        assert await tx.fetch_value("SELECT COUNT(*) FROM posts") == 2


async def test_nudges_go_once_by_dm_never_to_the_opted_out_and_privately_in_channel(world):
    prompt = await open_round(world)
    ada, ben, cleo, dev = world.members
    await ada.reply(prompt, "My reflection on this week.")
    await ben.command("/praxis", "me nudges off", channel=world.room)
    cleo.refuse_dms()
    world.slack.set_time(datetime(2026, 1, 7, 9, 30, tzinfo=UTC))  # 24 h before the deadline
    await world.bot.tick(world.slack.now())
    await world.bot.tick(world.slack.now() + timedelta(minutes=5))

    assert [m.text for m in ada.dms()] == []
    assert [m.text for m in ben.dms()] == []
    assert len(dev.dms()) == 1 and "reflection" in dev.dms()[0].text
    assert cleo.dms() == []
    (note,) = [e for e in cleo.private_messages() if e.thread_ts == prompt.ts]
    assert "nudge" in note.text
    assert not any(
        f"<@{cleo.id}>" in m.text for m in world.ws.messages(world.room, thread_ts=prompt.ts)
    )
    assert len(world.slack.calls_to("conversations.open")) == 2  # dev, and the refused cleo

    world.slack.set_time(datetime(2026, 1, 8, 9, 0, tzinfo=UTC))  # the deadline: last call
    await world.bot.tick(world.slack.now())
    assert len(dev.dms()) == 2
    assert len(world.slack.calls_to("conversations.open")) == 2  # dev's DM was remembered


async def test_the_digest_goes_privately_to_the_facilitators(world):
    prompt = await open_round(world)
    await world.members[0].reply(prompt, "A reflection for the digest.")
    world.slack.set_time(datetime(2026, 1, 11, 9, 1, tzinfo=UTC))  # feedback window closed
    report = await world.bot.tick(world.slack.now())
    assert report.digests
    (digest,) = world.fran.dms()
    assert "Digest" in digest.text and digest.files[0]["name"] == "participation.png"
    for member in world.members:
        assert member.dms() == [] or all("Digest" not in m.text for m in member.dms())


async def test_the_form_offers_the_creators_timezone_and_finds_others(world):
    opened = await world.admin.command("/praxis", "create", channel=world.room)
    (zone,) = [b for b in opened.view.body["blocks"] if b["block_id"] == "timezone"]
    assert zone["element"]["initial_option"]["value"] == "Europe/London"
    found = await world.admin.search(opened.view, "timezone", "Kolk")
    assert found == ["Asia/Kolkata"]


async def test_an_edit_moves_the_check_and_a_429_is_retried_without_doubling(world):
    world.slack.inject_error("chat.postMessage", error="ratelimited", retry_after=0)
    prompt = await open_round(world, min_words="6")
    assert len(prompts(world)) == 1
    assert [c.status for c in world.slack.calls_to("chat.postMessage")] == [429, 200]
    ada = world.members[0]
    reply = await ada.reply(prompt, "Only four words here.")
    assert reply.reactions == {}
    await ada.edit(reply, "Now there are enough words in this reflection.")
    assert reply.reactions == {"white_check_mark": [world.ws.bot_user.id]}
    await ada.edit(reply, "Short again.")
    assert reply.reactions == {}
    async with world.db.reading() as tx:
        row = await tx.fetch_one("SELECT text, word_count, edited_at FROM posts")
    assert (row["text"], row["word_count"]) == ("Short again.", 2) and row["edited_at"]


async def test_feedback_pairs_are_announced_in_the_thread_after_the_deadline(world):
    prompt = await open_round(world, feedback_required="1")
    for member in world.members:
        await member.reply(prompt, f"{member.user.name} reflects on a session this week.")
    world.slack.set_time(datetime(2026, 1, 8, 9, 0, tzinfo=UTC))  # reflections were due
    report = await world.bot.tick(world.slack.now())
    assert report.assigned
    thread = world.ws.messages(world.room, thread_ts=prompt.ts)
    (pairs,) = [m for m in thread if m.bot_id and "Feedback pairs" in m.text]
    for member in world.members:
        assert f"<@{member.id}>" in pairs.text
    await world.bot.tick(world.slack.now() + timedelta(minutes=1))
    thread = world.ws.messages(world.room, thread_ts=prompt.ts)
    assert len([m for m in thread if m.bot_id and "Feedback pairs" in m.text]) == 1


async def test_post_now_opens_one_round_even_when_asked_twice(world):
    await create_cohort(world)
    first = await world.fran.command("/praxis", "post Autumn", channel=world.room)
    assert "is open" in first.text and len(prompts(world)) == 1
    again = await world.admin.command("/praxis", "post Autumn", channel=world.room)
    assert "just opened" in again.text and len(prompts(world)) == 1
    shown = await world.fran.command("/praxis", "show Autumn", channel=world.room)
    assert "Round 1" in shown.text and "posted" in shown.text


async def test_a_reminder_links_to_the_rounds_thread(world):
    prompt = await open_round(world)
    world.slack.set_time(datetime(2026, 1, 7, 9, 30, tzinfo=UTC))
    await world.bot.tick(world.slack.now())
    (reminder,) = world.members[0].dms()
    stamp = prompt.ts.replace(".", "")
    link = f"https://{world.ws.domain}.slack.com/archives/{world.room.id}/p{stamp}"
    assert link in reminder.text


async def test_a_reply_costs_one_call_once_people_are_known(world):
    prompt = await open_round(world)
    ada = world.members[0]
    await ada.reply(prompt, "A first reflection, enough to count.")
    before = len(world.slack.calls)
    await ada.reply(prompt, "And a second message that joins it.")
    await world.members[1].reply(prompt, f"<@{ada.id}> that joined-up thinking helps.")
    methods = [c.method for c in world.slack.calls[before:]]
    assert methods.count("usergroups.users.list") == 0
    assert len([m for m in methods if m != "users.info"]) <= 2  # at most the ✅s


async def test_a_thread_not_read_back_yet_holds_its_rounds_nudges(world, tmp_path):
    prompt = await open_round(world)
    ada, ben = world.members[:2]
    await world.bot.close()
    world.slack.disconnect()
    await ada.reply(prompt, "A first reflection, enough to count.")  # while Praxis is down
    world.slack.inject_error("conversations.replies", status=500)
    bot = await start_praxis(world, tmp_path / "praxis.db")
    assert bot.unread.pending, "the thread couldn't be read: its round waits"

    world.slack.set_time(datetime(2026, 1, 7, 9, 30, tzinfo=UTC))  # reminders are due
    report = await bot.tick(world.slack.now())  # held; the read-back after it goes through
    assert report.held and ada.dms() == [] and ben.dms() == []
    assert not bot.unread.pending
    await bot.tick(world.slack.now())
    assert ada.dms() == [], "her reply was read back before anyone was nudged"
    assert len(ben.dms()) == 1
