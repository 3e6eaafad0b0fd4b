"""Reflections and feedback, exactly as the round thread shows them, across edits and restarts."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime

import discord

from tests.helpers import create_cohort, restart, tick_at

FIRST_SLOT = datetime(2026, 1, 5, 9, 0, tzinfo=UTC)


def words(n: int, word: str = "listening") -> str:
    return " ".join([word] * n)


async def open_round(world, **options):
    options.setdefault("min_words", 50)
    options.setdefault("feedback_min_words", 10)
    await create_cohort(world, "Autumn", **options)
    await tick_at(world, FIRST_SLOT)
    [thread] = world.channel.threads
    return thread


async def posts(world) -> dict[int, dict]:
    rows = await world.db.fetch_all("SELECT * FROM posts ORDER BY message_id")
    return {row["message_id"]: dict(row) for row in rows}


def has_ack(message: discord.Message) -> bool:
    """The bot's ✅ (members in these tests never react, so any ✅ is the bot's)."""
    return any(str(r.emoji) == "✅" and r.count for r in message.reactions)


def fresh(thread, message_id: int) -> discord.Message:
    return next(m for m in thread.history() if m.id == message_id)


def dms(member) -> list[str]:
    return [m.content for m in member.user.dm_channel.history()]


async def progress_of(world, member) -> str:
    result = await member.slash(world.channel, "me progress")
    assert result.ephemeral
    return result.response.embeds[0].description


async def test_a_round_as_the_thread_shows_it(world):
    thread = await open_round(world)
    ada, ben, cleo, dev = world.members
    fran = world.facilitator

    part_one = await ada.send(thread, words(30, "boundaries"))
    assert not has_ack(fresh(thread, part_one.id)), "30 of 50 words: not counted yet"
    part_two = await ada.send(thread, words(25, "supervision"))
    assert has_ack(fresh(thread, part_two.id))

    feedback = await ben.send(
        thread,
        "This reminded me how hard it is to step back and let the client lead.",
        reply_to=part_one,
    )
    [post] = [m for m in world.channel.history() if m.author.bot and m.embeds]
    shown = await ben.click(post, label="Write reflection")
    await ben.submit_modal(
        shown,
        {
            "section_0": words(20, "what"),
            "section_1": words(20, "so"),
            "section_2": words(20, "now"),
        },
    )
    short = await cleo.send(thread, "So well said!", reply_to=part_one)
    note = await fran.send(thread, "Lovely honesty here, everyone.")

    stored = await posts(world)
    assert stored[part_one.id]["kind"] == stored[part_two.id]["kind"] == "reflection"
    assert stored[part_one.id]["word_count"] + stored[part_two.id]["word_count"] == 55
    assert stored[feedback.id]["kind"] == "feedback"
    assert stored[feedback.id]["target_id"] == ada.id
    assert stored[short.id]["kind"] == "feedback" and stored[short.id]["word_count"] == 3
    assert stored[note.id]["kind"] == "facilitator"
    ben_form = [p for p in stored.values() if p["author_id"] == ben.id and p["source"] == "form"]
    assert len(ben_form) == 1 and ben_form[0]["word_count"] == 60
    assert not any(p["author_id"] == dev.id for p in stored.values())

    assert "Reflection counted: 55 words" in await progress_of(world, ada)
    ben_progress = await progress_of(world, ben)
    assert "Reflection counted: 60 words" in ben_progress
    assert "Feedback given to 1 of 2 peers" in ben_progress
    cleo_progress = await progress_of(world, cleo)
    assert "No reflection yet" in cleo_progress
    assert "Feedback given to 0 of 2 peers" in cleo_progress
    assert "You could respond to:" in cleo_progress
    assert "No reflection yet" in await progress_of(world, dev)

    # Short posts are explained privately once the member has stopped writing for a while:
    # Ada finished her reflection in her second message, so she is never interrupted.
    assert dms(cleo) == []
    from datetime import timedelta

    await tick_at(world, FIRST_SLOT + timedelta(minutes=30))
    [cleo_note] = [m.embeds[0].description for m in cleo.user.dm_channel.history() if m.embeds]
    assert "at least 10 words" in cleo_note and "yours has 3" in cleo_note
    assert all(not m.embeds or m.embeds[0].title != "About your reflection"
               for m in ada.user.dm_channel.history())  # fmt: skip
    assert [m for m in dev.user.dm_channel.history() if m.embeds] == []
    await tick_at(world, FIRST_SLOT + timedelta(minutes=60))
    assert len([m for m in cleo.user.dm_channel.history() if m.embeds]) == 1, "once only"
    assert not any("So well said" in m.content for m in world.channel.history())


async def test_form_resubmission_edits_the_same_post(world):
    thread = await open_round(world)
    ben = world.members[1]
    [prompt] = [m for m in world.channel.history() if m.author.bot and m.embeds]
    first = await ben.click(prompt, label="Write reflection")
    done = await ben.submit_modal(first, {"section_0": words(10)})
    assert "at least 50" in done.response.content, "a short form post is explained privately"
    again = await ben.click(prompt, label="Write reflection")
    await ben.submit_modal(again, {"section_0": words(60)})

    bot_posts = [m for m in thread.history() if m.author.bot and m.embeds]
    assert len(bot_posts) == 1
    assert bot_posts[0].embeds[0].author.name == ben.member.display_name
    stored = await posts(world)
    assert [p["word_count"] for p in stored.values()] == [60]
    assert has_ack(bot_posts[0])


async def test_give_feedback_context_menu(world):
    thread = await open_round(world)
    ada, ben = world.members[:2]
    reflection = await ada.send(thread, words(60))
    shown = await ben.context_menu(thread, "Give feedback", reflection)
    await ben.submit_modal(
        shown, {"feedback_0": "You named the pull to rescue so clearly; thank you."}
    )
    reply = [m for m in thread.history() if m.author.bot and m.embeds][-1]
    assert reply.reference.message_id == reflection.id
    stored = (await posts(world))[reply.id]
    assert (stored["kind"], stored["author_id"], stored["target_id"]) == (
        "feedback",
        ben.id,
        ada.id,
    )

    own = await ada.context_menu(thread, "Give feedback", reflection)
    assert own.ephemeral and "your own reflection" in own.response.content
    from simcord import assert_error

    assert_error(world.env, Exception)


async def test_edits_and_deletes_including_uncached_messages(world, settings, bots):
    thread = await open_round(world)
    ada = world.members[0]
    message = await ada.send(thread, words(60))
    assert has_ack(fresh(thread, message.id))

    await restart(world.env, settings, bots)  # the new bot has none of these messages cached
    await ada.edit(message, words(20))
    stored = (await posts(world))[message.id]
    assert stored["word_count"] == 20 and stored["edited_at"] is not None
    assert not has_ack(fresh(thread, message.id)), "no longer long enough: ✅ removed"

    await ada.edit(message, words(70))
    assert has_ack(fresh(thread, message.id))
    await ada.delete(message)
    stored = (await posts(world))[message.id]
    assert stored["text"] is None and stored["deleted_at"] is not None
    assert "No reflection yet" in await progress_of(world, ada)


async def test_messages_posted_while_down_are_ingested_once(world, settings, bots):
    thread = await open_round(world)
    ada, ben = world.members[:2]
    await ada.send(thread, words(60))
    world.bot._db, old_db = None, world.bot.db  # simulate the bot being down: it cannot store
    await old_db.close()
    first = await ben.send(thread, words(30, "missed"))
    second = await ben.send(thread, words(30, "also"))
    assert not fresh(thread, second.id).reactions, "the down bot could not store it"

    await restart(world.env, settings, bots)
    stored = await posts(world)
    assert first.id in stored and second.id in stored
    assert has_ack(fresh(thread, second.id))
    await restart(world.env, settings, bots)
    assert len(await posts(world)) == 3, "backfill again stores nothing twice"


async def test_same_gateway_message_twice_is_stored_once(world):
    thread = await open_round(world)
    message = await world.members[0].send(thread, words(60))
    reflections_cog = world.bot.get_cog("Reflections")
    reflections_cog.take_message(message)  # the gateway redelivers the same message
    await reflections_cog.settle()
    stored = await posts(world)
    assert list(stored) == [message.id]
    assert [str(r.emoji) for r in fresh(thread, message.id).reactions] == ["✅"]


async def test_hostile_and_unusual_text_is_stored_verbatim(world):
    thread = await open_round(world, min_words=0)
    ada, ben = world.members[:2]
    weird = "Robert'); DROP TABLE posts;-- 🙂 zero\u200bwidth ﷽ \u202eevil"
    message = await ada.send(thread, weird)
    assert (await posts(world))[message.id]["text"] == weird

    [prompt] = [m for m in world.channel.history() if m.author.bot and m.embeds]
    shown = await ben.click(prompt, label="Write reflection")
    long_field = ("é🙂 " * 1333) + "x"  # 4000 characters
    assert len(long_field) == 4000
    await ben.submit_modal(shown, {"section_0": long_field, "section_1": weird})
    rows = [p for p in (await posts(world)).values() if p["author_id"] == ben.id]
    joined = "".join(p["text"] for p in rows)
    assert long_field in joined and weird in joined
    shown_back = "".join(
        m.embeds[0].description for m in thread.history() if m.author.bot and m.embeds
    )
    assert long_field in shown_back and weird in shown_back
    assert await world.db.integrity_ok()


async def test_invisible_fillers_are_no_words(world):
    thread = await open_round(world, min_words=5)
    ada, ben = world.members[:2]
    blank = "\u3164 " * 30 + "\u200b\u2800\u115f\u0301 \ufe0f"
    filler = await ada.send(thread, blank)
    assert not has_ack(fresh(thread, filler.id)), "a wall of Hangul fillers is no reflection"
    real = await ada.send(thread, "नमस्ते, I noticed my own hurry")
    assert has_ack(fresh(thread, real.id))
    assert not has_ack(fresh(thread, filler.id))
    empty_feedback = await ben.send(thread, blank, reply_to=real)
    stored = await posts(world)
    assert [stored[m.id]["word_count"] for m in (filler, real, empty_feedback)] == [0, 6, 0]
    assert "Feedback given to 0 of 2 peers" in await progress_of(world, ben)


async def test_outsiders_bots_and_other_channels_are_ignored(world):
    thread = await open_round(world)
    await world.outsider.send(thread, words(60))
    await world.members[0].send(world.channel, words(60))  # not in a round thread
    assert await posts(world) == {}


async def test_backfill_costs_one_request_per_open_thread_when_nothing_was_missed(
    world, settings, bots
):
    await create_cohort(world, "Autumn")
    await create_cohort(world, "Spring", channel=world.guild.create_text_channel("spring"))
    await tick_at(world, FIRST_SLOT)
    threads = {t.id for t in world.channel.threads} | {
        t.id for t in world.guild.channels["spring"].threads
    }
    assert len(threads) == 2
    before = len(world.env.http_requests)
    await restart(world.env, settings, bots)
    reads = [
        r
        for r in world.env.http_requests[before:]
        if r.method == "GET" and r.path.endswith("/messages")
    ]
    assert sorted(int(r.path.split("/")[2]) for r in reads) == sorted(threads)


async def test_without_message_content_the_form_still_works(world, settings, bots):
    await create_cohort(world, "Autumn", min_words=5)
    await restart(world.env, replace(settings, message_content_intent=False), bots)
    await tick_at(world, FIRST_SLOT)
    [thread] = world.channel.threads
    await world.members[0].send(thread, words(60))
    assert await posts(world) == {}, "thread text is not read without the intent"

    [prompt] = [m for m in world.channel.history() if m.author.bot and m.embeds]
    shown = await world.members[1].click(prompt, label="Write reflection")
    await world.members[1].submit_modal(shown, {"section_0": words(20)})
    [stored] = (await posts(world)).values()
    assert stored["word_count"] == 20 and stored["source"] == "form"
    card = await world.admin.slash(world.channel, "cohort show", name="Autumn")
    heads_up = next(f for f in card.response.embeds[0].fields if f.name == "Heads-up")
    assert "not reading reflections posted as thread messages" in heads_up.value


async def test_the_check_mark_follows_what_counts(world):
    thread = await open_round(world)
    ada, ben = world.members[:2]
    first = await ada.send(thread, words(40))
    second = await ada.send(thread, words(40))
    assert has_ack(fresh(thread, second.id)) and not has_ack(fresh(thread, first.id))
    await ada.delete(second)  # the rest still counts: the ✅ moves, it doesn't vanish
    await ada.edit(first, words(55))
    assert has_ack(fresh(thread, first.id))

    [prompt] = [m for m in world.channel.history() if m.author.bot and m.embeds]
    shown = await ben.click(prompt, label="Write reflection")
    await ben.submit_modal(shown, {"section_0": words(60)})
    [form_post] = [m for m in thread.history() if m.author.bot and m.embeds]
    assert has_ack(form_post)
    again = await ben.click(prompt, label="Write reflection")
    await ben.submit_modal(again, {"section_0": words(10)})
    assert not has_ack(fresh(thread, form_post.id)), "a shorter resubmission loses the ✅"


async def test_an_emoji_reply_is_kind_but_not_feedback(world):
    thread = await open_round(world, feedback_min_words=0)
    ada, ben = world.members[:2]
    reflection = await ada.send(thread, words(60))
    await ben.send(thread, "👏🙂", reply_to=reflection)
    assert "Feedback given to 0 of 2 peers" in await progress_of(world, ben)


async def test_a_reflection_mostly_written_after_the_deadline_is_late(world):
    from datetime import timedelta

    thread = await open_round(world)
    ada = world.members[0]
    await ada.send(thread, words(5))  # on time, but far too short to count
    await tick_at(world, FIRST_SLOT + timedelta(hours=73))
    await ada.send(thread, words(60))
    assert "(after the deadline)" in await progress_of(world, ada)


async def test_closed_round_refuses_the_form(world):
    from datetime import timedelta

    from simcord import assert_error

    await open_round(world)
    await tick_at(world, FIRST_SLOT + timedelta(hours=145))
    [prompt] = [m for m in world.channel.history() if m.author.bot and m.embeds]
    clicked = await world.members[0].click(prompt, label="Write reflection")
    assert clicked.ephemeral and "has closed" in clicked.response.content
    assert_error(world.env, Exception)


async def test_messages_reach_other_listeners_too_and_a_failing_handler_stops_nothing(
    world, caplog
):
    """Messages are handed to Praxis's handlers without a task each (PraxisBot.dispatch);
    a ``wait_for`` still sees them, and one handler's error is logged, not raised into
    discord.py's gateway reader."""
    import asyncio

    await create_cohort(world, "Autumn", min_words=10)
    await tick_at(world, FIRST_SLOT)
    [thread] = world.channel.threads
    ada = world.members[0]

    def broken(message):
        raise RuntimeError("a handler's bug")

    world.bot.message_handlers.insert(0, broken)
    seen = asyncio.ensure_future(world.bot.wait_for("message", timeout=5))
    sent = await ada.send(thread, " ".join(["practice"] * 20))
    assert (await seen).id == sent.id
    assert (
        await world.db.fetch_value("SELECT acked FROM posts WHERE message_id = ?", (sent.id,)) == 1
    ), "the handlers after the broken one still ran"
    world.bot.message_handlers.remove(broken)
    assert "A message handler failed" in caplog.text
