"""Big cohorts: every message that mentions members stays inside Discord's limits.

SimCord does not enforce Discord's limits of 2,000 characters of content and 100 users in
``allowed_mentions`` per message, so these tests read the bodies of the bot's
``POST /channels/{id}/messages`` calls themselves. A list too long for one message is
split into parts, and each part is posted once, even when one fails and a later tick
(after a restart) picks up the rest.
"""

from __future__ import annotations

import re
from datetime import timedelta

import pytest

from bot.core import limits
from bot.core.text import Line, pack_lines
from tests.helpers import build_world, create_cohort, fail_nth_post, restart, tick_at
from tests.test_nudges import FIRST_SLOT, LAST_CALL, REFLECT_REMINDER, words

PAIR_LINE = re.compile(r"^<@(\d+)> → ", re.MULTILINE)
NUDGE_LINE = re.compile(r"^• <@(\d+)>: ", re.MULTILINE)


def posted_bodies(env, channel_id: int, since: int = 0) -> list[dict]:
    """The JSON bodies of the bot's message posts to one channel, failed ones included."""
    return [
        r.json
        for r in env.http_requests[since:]
        if r.method == "POST" and r.path == f"/channels/{channel_id}/messages"
    ]


def check_limits(body: dict) -> None:
    mentions = body.get("allowed_mentions") or {}
    assert len(mentions.get("users", [])) <= limits.MAX_MENTIONS_PER_MESSAGE
    assert not mentions.get("parse"), "parse would let every mention in the text ping"
    assert len(body["content"]) <= limits.MAX_MESSAGE_CHARS


def pinged(bodies: list[dict]) -> list[int]:
    return [int(user) for body in bodies for user in body["allowed_mentions"]["users"]]


def listed(thread, pattern: re.Pattern) -> list[int]:
    """Whose lines the bot's messages in the thread carry, one entry per line."""
    return [int(i) for m in thread.history() for i in pattern.findall(m.content or "")]


async def big_round(env, n_members: int, **options):
    world = build_world(env, n_members=n_members)
    await create_cohort(world, "Big", min_words=20, **options)
    await tick_at(world, FIRST_SLOT)
    [thread] = world.channel.threads
    return world, thread


@pytest.mark.parametrize("n_members", [150, 260])
async def test_the_pairs_of_a_big_cohort_fit_in_discords_limits(env, n_members):
    world, thread = await big_round(env, n_members, feedback_required=5)
    for member in world.members:
        await member.send(thread, words(30))
    await tick_at(world, LAST_CALL)

    bodies = posted_bodies(env, thread.id)
    assert len(bodies) > 1, "too many pairs for one message"
    for body in bodies:
        check_limits(body)
    everyone = sorted(m.id for m in world.members)
    assert sorted(pinged(bodies)) == everyone, "each member is pinged in exactly one part"
    assert sorted(listed(thread, PAIR_LINE)) == everyone, "each member's pairs are listed once"
    assert bodies[0]["content"].startswith("**Feedback pairs for this round.**")


async def test_a_failed_part_is_posted_by_a_later_tick_and_no_part_twice(env, settings, bots):
    world, thread = await big_round(env, 150, feedback_required=5)
    for member in world.members:
        await member.send(thread, words(30))
    fail_nth_post(env, thread.id, 2)
    await tick_at(world, LAST_CALL)
    first_try = len(posted_bodies(env, thread.id))
    assert first_try == 2, "the tick stops at the failed part"
    assert len(listed(thread, PAIR_LINE)) < len(world.members)

    await restart(env, settings, bots)
    await tick_at(world, LAST_CALL + timedelta(minutes=1))
    await world.bot.tick(LAST_CALL + timedelta(minutes=2))  # nothing left: nothing posted

    everyone = sorted(m.id for m in world.members)
    assert sorted(listed(thread, PAIR_LINE)) == everyone, "each line posted exactly once"
    posted = [m for m in thread.history() if m.author.id == world.bot.user.id]
    assert len(posted_bodies(env, thread.id)) == len(posted) + 1  # the one failed attempt
    stored = await world.db.fetch_all("SELECT DISTINCT message_id FROM assignments")
    assert {row["message_id"] for row in stored} == {m.id for m in posted}


async def test_thread_reminders_for_many_closed_dms_fit_and_resume_after_a_failure(env):
    world, thread = await big_round(env, 150)
    for member in world.members:
        env.inject_error(
            "POST", f"/channels/{member.user.dm_channel.id}/messages", status=403, code=50007,
            times=None,
        )  # fmt: skip
    fail_nth_post(env, thread.id, 2)
    await tick_at(world, REFLECT_REMINDER)
    assert len(posted_bodies(env, thread.id)) == 2, "the tick stops at the failed part"

    await tick_at(world, REFLECT_REMINDER + timedelta(minutes=1))
    await world.bot.tick(REFLECT_REMINDER + timedelta(minutes=2))

    bodies = posted_bodies(env, thread.id)
    for body in bodies:
        check_limits(body)
    everyone = sorted(m.id for m in world.members)
    assert sorted(listed(thread, NUDGE_LINE)) == everyone, "each member reminded exactly once"
    posted = [m for m in thread.history() if m.author.id == world.bot.user.id]
    assert len(bodies) == len(posted) + 1  # the one failed attempt
    sent = await world.db.fetch_value(
        "SELECT COUNT(*) FROM member_notes WHERE channel = 'thread' AND outcome = 'sent'"
    )
    assert sent == len(world.members)


def test_packing_keeps_lines_whole_in_order_and_within_both_limits():
    lines = [Line(f"line {i} " + "x" * (i % 7), pings=(i, i + 1, 999)) for i in range(0, 60, 2)]
    parts = pack_lines("Head:", lines, max_chars=80, max_pings=7)
    assert len(parts) > 1
    assert [t for part in parts for t in part.text.split("\n")[1:]] == [line.text for line in lines]
    assert sum(part.count for part in parts) == len(lines)
    for part in parts:
        assert part.text.startswith("Head:\n") and len(part.text) <= 80
        assert len(part.pings) == len(set(part.pings)) <= 7
    # Three people per line, one shared by all: two lines ping five, three would ping seven,
    # four nine; so the pings, not the characters, end each part.
    assert {part.count for part in parts[:-1]} == {3}


def test_a_line_longer_than_a_message_still_gets_one_of_its_own():
    parts = pack_lines("Head:", [Line("a"), Line("b" * 50), Line("c")], max_chars=20, max_pings=5)
    assert [part.count for part in parts] == [1, 1, 1]
