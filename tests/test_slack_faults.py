"""Faults on Slack behave as on Discord: Slack's refusals and a database that refuses writes.

Slack's side: 429s are waited out (slack-sdk honours ``Retry-After``) and, when they
outlast its retries, become a passing failure a later tick retries, never a double post.
A channel Praxis was removed from, an archived or vanished channel and a revoked token
give facilitators one kind notice (shown after their next ``/praxis`` answer), never a
crash loop. The database's side mirrors ``tests/test_storage_outage.py``: thread messages
are not acknowledged while it refuses writes, and are read back once it takes them.
"""

from __future__ import annotations

import logging
import time
from datetime import UTC, datetime, timedelta

import pytest_asyncio

from bot.storage import posts as post_store
from tests.helpers import outage_ends_with_the_process
from tests.helpers import refuse_writes as refuse_database_writes
from tests.slack_helpers import (
    create_cohort,
    open_round,
    prompts,
    running_praxis,
    start_praxis,
)

ACK = "white_check_mark"
SLOT = datetime(2026, 1, 5, 9, 0, tzinfo=UTC)  # the cohort's first round opens
SDK_RETRIES = 3  # runtime.py: AsyncRateLimitErrorRetryHandler(max_retry_count=3)


@pytest_asyncio.fixture
async def world(tmp_path, caplog):
    caplog.set_level(logging.INFO)
    async with running_praxis(tmp_path) as world:
        yield world
    troubles = [r for r in caplog.get_records("call") if r.levelno >= logging.ERROR]
    assert not troubles, [f"{r.name}: {r.getMessage()}" for r in troubles]


def expect_error(caplog, words: str) -> None:
    """The one error a test expects (the fixture fails on any other): checked, then dropped."""
    found = [r for r in caplog.records if r.levelno >= logging.ERROR]
    assert [words in r.getMessage() for r in found] == [True], [r.getMessage() for r in found]
    caplog.records.remove(found[0])


def tracebacks(caplog) -> list[str]:
    return [r.getMessage() for r in caplog.records if r.exc_info]


def warnings(caplog) -> list[str]:
    return [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]


def rate_limit(world, method: str, times: int = SDK_RETRIES + 1) -> None:
    """``times`` 429s in a row: by default one more than slack-sdk retries."""
    world.slack.inject_error(method, error="ratelimited", retry_after=0, times=times)


async def tick(world, at: datetime | None = None):
    if at is not None:
        world.slack.set_time(at)
    return await world.bot.tick(world.slack.now())


async def round_row(world):
    async with world.db.reading() as tx:
        return await tx.fetch_one("SELECT * FROM rounds")


async def stored_texts(world) -> dict[str, str | None]:
    async with world.db.reading() as tx:
        rows = await tx.fetch_all("SELECT message_id, text FROM posts")
    found = {}
    for row in rows:
        _, ts = await world.bot.slack.ids.message_ref(row["message_id"])
        found[ts] = row["text"]
    return found


def acked(message) -> bool:
    return message.reactions.get(ACK) is not None


# ------------------------------------------------------------------------ rate limits


async def test_retry_after_is_waited_out_before_the_one_retry(world):
    await create_cohort(world, timezone="Europe/London", weekday="monday", time="09:00")
    world.slack.inject_error("chat.postMessage", error="ratelimited", retry_after=1, times=1)
    started = time.monotonic()
    await tick(world, SLOT)
    assert time.monotonic() - started >= 1.0, "Slack asked for a second's pause"
    assert len(prompts(world)) == 1
    assert [c.status for c in world.slack.calls_to("chat.postMessage")] == [429, 200]


async def test_a_429_that_outlasts_the_retries_posts_the_prompt_once_a_tick_later(world, caplog):
    await create_cohort(world, timezone="Europe/London", weekday="monday", time="09:00")
    rate_limit(world, "chat.postMessage")
    await tick(world, SLOT)
    assert prompts(world) == []
    row = await round_row(world)
    assert row["state"] == "failed" and row["next_attempt_at"].startswith("2026-01-05T09:01")
    async with world.db.reading() as tx:
        assert await tx.fetch_value("SELECT COUNT(*) FROM notices") == 0, "passing: no notice"

    for minutes in (1, 2, 30):
        await tick(world, SLOT + timedelta(minutes=minutes))
    assert len(prompts(world)) == 1
    assert (await round_row(world))["state"] == "posted"
    assert not tracebacks(caplog)


async def test_a_nudge_that_meets_429s_is_sent_once_by_a_later_tick(world):
    await open_round(world)
    dev = world.members[3]
    rate_limit(world, "chat.postMessage", times=4 * (SDK_RETRIES + 1))  # every member's DM
    await tick(world, datetime(2026, 1, 7, 9, 30, tzinfo=UTC))
    assert dev.dms() == []
    for minutes in (1, 2, 3):
        await tick(world, datetime(2026, 1, 7, 9, 30 + minutes, tzinfo=UTC))
    assert len(dev.dms()) == 1


async def test_pairs_that_meet_429s_are_posted_once_by_a_later_tick(world):
    prompt = await open_round(world, feedback_required="1")
    for member in world.members:
        await member.reply(prompt, f"{member.user.name} reflects on a session this week.")
    rate_limit(world, "chat.postMessage")
    await tick(world, datetime(2026, 1, 8, 9, 0, tzinfo=UTC))

    def pairs_messages():
        thread = world.ws.messages(world.room, thread_ts=prompt.ts)
        return [m for m in thread if m.bot_id and "Feedback pairs" in m.text]

    assert pairs_messages() == []
    for minutes in (1, 2, 3):
        await tick(world, datetime(2026, 1, 8, 9, minutes, tzinfo=UTC))
    assert len(pairs_messages()) == 1


async def test_a_check_mark_that_meets_429s_is_added_once_by_a_later_tick(world, caplog):
    prompt = await open_round(world)
    ada = world.members[0]
    rate_limit(world, "reactions.add")
    reply = await ada.reply(prompt, "A reflection long enough to count for this round.")
    assert not acked(reply)
    await tick(world, SLOT + timedelta(minutes=5))
    assert reply.reactions == {ACK: [world.ws.bot_user.id]}
    await tick(world, SLOT + timedelta(minutes=6))
    assert len(world.slack.calls_to("reactions.add")) == SDK_RETRIES + 2
    assert not tracebacks(caplog)


async def test_check_marks_slack_keeps_refusing_are_not_all_retried_at_every_tick(world):
    """While Slack's incident lasts, a tick tries one waiting ✅ and leaves the rest for
    later, instead of every one of them (inside the tick) with a warning each."""
    prompt = await open_round(world)
    world.slack.inject_error("reactions.add", status=500, times=None)
    replies = [
        await member.reply(prompt, f"{member.user.name} writes a reflection long enough to count.")
        for member in world.members
    ]
    refused = len(world.slack.calls_to("reactions.add"))
    assert refused == len(replies) and not any(acked(r) for r in replies)

    await tick(world, SLOT + timedelta(minutes=5))
    await tick(world, SLOT + timedelta(minutes=6))
    assert len(world.slack.calls_to("reactions.add")) == refused + 2, "one try per tick"

    world.slack.clear_errors()
    await tick(world, SLOT + timedelta(minutes=7))
    assert all(acked(r) for r in replies), "every one once Slack takes them"
    await tick(world, SLOT + timedelta(minutes=8))
    assert len(world.slack.calls_to("reactions.add")) == refused + 2 + len(replies)


# ------------------------------------------------------------ channels and the token


async def show_notices(world, person=None) -> str:
    """What a facilitator sees after a ``/praxis`` answer (here ``/praxis list``)."""
    answer = await (person or world.fran).command("/praxis", "list", channel=world.room)
    return answer.text


async def test_praxis_removed_from_the_channel_is_one_kind_notice_and_a_backoff(world, caplog):
    await create_cohort(world, timezone="Europe/London", weekday="monday", time="09:00")
    world.ws.remove_app(world.room)
    for minutes in (0, 1, 5, 16):  # the first retry waits 15 minutes, as on Discord
        await tick(world, SLOT + timedelta(minutes=minutes))
    posts = [
        c for c in world.slack.calls_to("chat.postMessage") if c.args["channel"] == world.room.id
    ]
    assert len(posts) == 2
    row = await round_row(world)
    assert row["state"] == "failed" and row["next_attempt_at"].startswith("2026-01-05T09:46")

    seen = await show_notices(world)
    assert "Needs your attention" in seen
    assert f"Praxis was removed from <#{world.room.id}>" in seen
    assert "/invite @Praxis" in seen
    assert "not_in_channel" not in seen
    assert seen.count("couldn't post round 1") == 1, "once per distinct reason"
    assert "Needs your attention" not in await show_notices(world), "shown once"
    member_view = await world.members[0].command("/praxis", "help", channel=world.room)
    assert "Needs your attention" not in member_view.text

    world.ws.add_app(world.room)  # invited back
    await tick(world, SLOT + timedelta(minutes=46))
    assert len(prompts(world)) == 1
    assert not tracebacks(caplog)


async def test_an_archived_channel_is_one_kind_notice(world, caplog):
    await create_cohort(world, timezone="Europe/London", weekday="monday", time="09:00")
    world.ws.archive(world.room)
    for minutes in (0, 16, 50):
        await tick(world, SLOT + timedelta(minutes=minutes))
    seen = await show_notices(world, world.admin)
    assert seen.count(f"<#{world.room.id}> is archived") == 1
    assert "/praxis edit" in seen
    assert not tracebacks(caplog)


async def test_a_vanished_channel_is_one_kind_notice(world, caplog):
    await create_cohort(world, timezone="Europe/London", weekday="monday", time="09:00")
    world.slack.inject_error("chat.postMessage", error="channel_not_found", times=None)
    for minutes in (0, 16, 50):
        await tick(world, SLOT + timedelta(minutes=minutes))
    world.slack.clear_errors()
    seen = await show_notices(world)
    assert seen.count("no longer exists or I can't see it") == 1
    assert not tracebacks(caplog)


async def test_a_deactivated_member_is_skipped_not_retried(world, caplog):
    await open_round(world)
    dev = world.members[3]
    await world.bot.slack.people.person(dev.id)  # Praxis has met dev...
    dev.deactivate()  # ...and no user_change event told it: it still thinks dev is active
    await tick(world, datetime(2026, 1, 7, 9, 30, tzinfo=UTC))
    for minutes in (1, 2, 3):
        await tick(world, datetime(2026, 1, 7, 9, 30 + minutes, tzinfo=UTC))
    opened = [c for c in world.slack.calls_to("conversations.open") if c.args["users"] == dev.id]
    assert len(opened) == 1, "not retried"
    assert not [e for e in world.slack.ephemerals if e.user == dev.id], "nothing in the thread"
    async with world.db.reading() as tx:
        outcome = await tx.fetch_value(
            "SELECT outcome FROM member_notes WHERE member_id = ?",
            (await world.bot.slack.ids.known("user", dev.id),),
        )
    assert outcome == "failed: that member's Slack account is deactivated"

    await tick(world, datetime(2026, 1, 8, 9, 0, tzinfo=UTC))  # the last call: not for dev
    opened = [c for c in world.slack.calls_to("conversations.open") if c.args["users"] == dev.id]
    assert len(opened) == 1
    assert not tracebacks(caplog)


async def test_a_digest_skips_a_deactivated_facilitator(world):
    prompt = await open_round(world)
    await world.members[0].reply(prompt, "A reflection for the digest.")
    second = world.ws.add_user("gil")
    await world.ws.set_usergroup_members(world.staff, [world.fran, second])
    second.deactivate()
    report = await tick(world, datetime(2026, 1, 11, 9, 1, tzinfo=UTC))
    assert report.digests
    assert "Digest" in world.fran.dms()[-1].text


async def test_a_revoked_token_is_one_error_in_the_log_and_no_crash_loop(world, caplog):
    prompt = await open_round(world, feedback_required="1")
    world.ws.revoke_token()
    await world.members[0].reply(prompt, "A reflection Praxis can't look up any more.")
    week = [(7, 9, 30), (8, 9, 0), (8, 9, 1), (11, 9, 1), (12, 9, 0), (12, 9, 16), (12, 10, 0)]
    for day, hour, minute in week:  # nudges, pairs, the digest, the next round and retries
        await tick(world, datetime(2026, 1, day, hour, minute, tzinfo=UTC))
    errors = [r.getMessage() for r in caplog.records if r.levelno >= logging.ERROR]
    assert len(errors) == 1 and "can't tell the facilitators" in errors[0], errors
    expect_error(caplog, "revoked or the app was removed")
    assert world.ws.bot_token not in " ".join(r.getMessage() for r in caplog.records)
    assert not tracebacks(caplog)
    async with world.db.reading() as tx:
        second = await tx.fetch_one("SELECT state, next_attempt_at FROM rounds WHERE number = 2")
    assert second["state"] == "failed" and second["next_attempt_at"] > "2026-01-12T10:00"
    answer = await world.fran.command("/praxis", "list", channel=world.room)
    assert "revoked" in answer.text and "token_revoked" not in answer.text


# ------------------------------------------------------------------ storage outages


async def refuse_writes(world, refuse: bool = True) -> None:
    """A read-only database file, as SQLite sees one (see tests/test_storage_outage.py)."""
    await refuse_database_writes(world.db, refuse)


def staff_notices(world) -> list[str]:
    return [m.text.split(":")[0] for m in world.fran.dms() if "Praxis" in m.text]


async def test_replies_edits_and_deletions_refused_by_the_database_are_redone(world, caplog):
    prompt = await open_round(world)
    ada, ben, cleo = world.members[:3]
    kept = await ben.reply(prompt, "Ben's reflection, stored before the outage began.")
    edited = await cleo.reply(prompt, "Cleo's first words, stored before the outage.")
    assert acked(kept) and acked(edited)

    await refuse_writes(world)
    waiting = await ada.reply(prompt, "Ada writes while the database refuses every write.")
    await ben.delete(kept)
    await cleo.edit(edited, "Cleo's better words, written during the outage itself.")
    assert not acked(waiting), "no ✅ without a stored row"
    assert not any("Ada writes" in (t or "") for t in (await stored_texts(world)).values())
    await tick(world, SLOT + timedelta(minutes=5))
    await tick(world, SLOT + timedelta(minutes=6))
    assert staff_notices(world) == ["Praxis can't save right now"]
    expect_error(caplog, "The database can't be written")  # once, however long it lasts
    shown = await world.fran.command("/praxis", "list", channel=world.room)
    assert "can't save to its database" in shown.text, "facilitators see it with answers"
    member_view = await ada.command("/praxis", "help", channel=world.room)
    assert "can't save" not in member_view.text

    await refuse_writes(world, False)
    await tick(world, SLOT + timedelta(minutes=7))
    assert staff_notices(world) == ["Praxis can't save right now", "Praxis is saving again"]
    texts = await stored_texts(world)
    assert texts[waiting.ts] == "Ada writes while the database refuses every write."
    assert acked(waiting)
    assert texts[kept.ts] is None, "the deletion reached the stored text"
    assert texts[edited.ts] == "Cleo's better words, written during the outage itself."
    assert not world.bot.slack.threads.pending.path.exists(), "nothing left to redo"
    await tick(world, SLOT + timedelta(minutes=8))
    assert staff_notices(world) == ["Praxis can't save right now", "Praxis is saving again"]
    assert not tracebacks(caplog)
    assert not any("Ada writes" in r.getMessage() for r in caplog.records), "no text in logs"


async def test_an_edit_slack_wont_show_again_does_not_hold_up_a_deletion(world, caplog):
    """A replayed edit reads the reply again. If Slack refuses that for good (Praxis was
    taken out of the channel), the edit is given up with the old text kept, and the
    deletion noted after it still reaches the stored text."""
    prompt = await open_round(world)
    ada, ben = world.members[:2]
    edited = await ada.reply(prompt, "Ada's words before the outage.")
    deleted = await ben.reply(prompt, "Ben's words, which he deletes while writes fail.")
    await refuse_writes(world)
    await ada.edit(edited, "Ada's words as edited during the outage.")
    await ben.delete(deleted)
    world.ws.remove_app(world.room)
    await tick(world, SLOT + timedelta(minutes=5))  # the outage is noticed

    await refuse_writes(world, False)
    await tick(world, SLOT + timedelta(minutes=7))
    texts = await stored_texts(world)
    assert texts[deleted.ts] is None, "the deletion reached the stored text"
    assert texts[edited.ts] == "Ada's words before the outage.", "unreadable: kept as it was"
    assert "A Slack edit can't be read again" in caplog.text
    expect_error(caplog, "The database can't be written")
    assert not world.bot.slack.threads.pending.path.exists(), "nothing left to redo"


async def test_a_crash_during_the_outage_loses_nothing(world):
    prompt = await open_round(world)
    ada, ben, cleo = world.members[:3]
    kept = await ben.reply(prompt, "Ben's words, which he deletes while writes fail.")
    edited = await ada.reply(prompt, "Ada's words before the outage.")

    await refuse_writes(world)
    await ben.delete(kept)
    await ada.edit(edited, "Ada's words as edited during the outage.")
    waiting = await cleo.reply(prompt, "And a reply that was never stored.")
    lines = world.bot.slack.threads.pending.path.read_text()
    assert "Ada" not in lines and "Ben" not in lines, "ids only, never text"

    # The process dies (no orderly close); a new one starts on the same files.
    await outage_ends_with_the_process(world.db)
    await start_praxis(world, world.path)
    texts = await stored_texts(world)
    assert texts[kept.ts] is None
    assert texts[edited.ts] == "Ada's words as edited during the outage."
    assert texts[waiting.ts] == "And a reply that was never stored."
    assert acked(waiting)
    assert not world.bot.slack.threads.pending.path.exists()


async def test_a_refused_thread_is_noted_by_number_and_read_back_by_the_retry_hook(world, caplog):
    prompt = await open_round(world)
    ada = world.members[0]
    await refuse_writes(world)
    waiting = await ada.reply(prompt, "A reflection written during the outage.")
    await tick(world, SLOT + timedelta(minutes=1))
    expect_error(caplog, "The database can't be written")
    entries = world.bot.slack.threads.pending.load()
    thread = await world.bot.slack.ids.known_message(world.room.id, prompt.ts)
    assert [(e.kind, e.channel_id) for e in entries] == [("read_back", thread)]
    await refuse_writes(world, False)
    await tick(world, SLOT + timedelta(minutes=2))
    async with world.db.reading() as tx:
        assert await post_store.get(
            tx, await world.bot.slack.ids.known_message(world.room.id, waiting.ts)
        )
    assert acked(waiting)
