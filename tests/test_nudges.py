"""Nudges: the right people, once per step, at a humane hour; balanced feedback pairs."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from tests.helpers import create_cohort, restart, tick_at

FIRST_SLOT = datetime(2026, 1, 5, 9, 0, tzinfo=UTC)  # Monday; reflections due Thu 09:00
REFLECT_REMINDER = FIRST_SLOT + timedelta(hours=72 - 24)
LAST_CALL = FIRST_SLOT + timedelta(hours=72)
FEEDBACK_REMINDER = FIRST_SLOT + timedelta(hours=144 - 24)


def words(n: int) -> str:
    return " ".join(["practice"] * n)


def dm_titles(member) -> list[str]:
    return [m.embeds[0].title for m in member.user.dm_channel.history() if m.embeds]


def thread_text(thread) -> list[str]:
    return [m.content for m in thread.history() if m.author.bot and m.content]


async def setup_week(world, **options):
    options.setdefault("min_words", 20)
    await create_cohort(world, "Autumn", **options)
    await tick_at(world, FIRST_SLOT)
    [thread] = world.channel.threads
    return thread


async def test_a_simulated_week(world, settings, bots):
    world.members.extend(
        world.guild.add_member(world.env.create_user(n), roles=[world.learners])
        for n in ("eli", "fay")
    )
    ada, ben, cleo, dev, eli, fay = world.members
    thread = await setup_week(world)
    await ada.send(thread, words(40))
    await world.admin.slash(world.channel, "cohort excuse", name="Autumn", member=dev)
    await eli.slash(world.channel, "me nudges", setting="off")
    world.env.inject_error(
        "POST", f"/channels/{fay.user.dm_channel.id}/messages", status=403, code=50007, times=None
    )

    await tick_at(world, REFLECT_REMINDER - timedelta(seconds=1))
    assert all(dm_titles(m) == [] for m in world.members)
    await tick_at(world, REFLECT_REMINDER)
    await world.bot.tick(REFLECT_REMINDER)  # a repeated tick sends nothing twice
    assert dm_titles(ben) == dm_titles(cleo) == ["A gentle reminder"]
    assert dm_titles(ada) == dm_titles(dev) == dm_titles(eli) == []
    assert dm_titles(world.facilitator) == []
    [fallback] = [t for t in thread_text(thread) if "gentle nudge" in t]
    assert fay.mention in fallback and ben.mention not in fallback

    await ben.send(thread, words(30))
    await restart(world.env, settings, bots)
    await tick_at(world, LAST_CALL)
    await world.bot.tick(LAST_CALL)
    assert dm_titles(cleo) == ["A gentle reminder", "Reflections are due now"]
    assert dm_titles(ben) == ["A gentle reminder"], "ben reflected before the last call"
    pairs_posts = [t for t in thread_text(thread) if t.startswith("**Feedback pairs")]
    assert len(pairs_posts) == 1
    assert f"{ada.mention} → {ben.mention}" in pairs_posts[0]
    assert f"{ben.mention} → {ada.mention}" in pairs_posts[0]

    await restart(world.env, settings, bots)
    await tick_at(world, FEEDBACK_REMINDER)
    await world.bot.tick(FEEDBACK_REMINDER + timedelta(minutes=5))
    assert dm_titles(ada)[-1] == "Your peers' reflections are waiting"
    ada_feedback = [m for m in ada.user.dm_channel.history() if m.embeds][-1].embeds[0]
    assert ben.member.display_name in ada_feedback.description
    assert dm_titles(ada).count("Your peers' reflections are waiting") == 1
    assert dm_titles(dev) == dm_titles(eli) == []
    fallbacks = [t for t in thread_text(thread) if "gentle nudge" in t]
    assert len(fallbacks) == 3 and all(fay.mention in t for t in fallbacks)
    assert len([t for t in thread_text(thread) if t.startswith("**Feedback pairs")]) == 1

    log = await world.db.fetch_all(
        "SELECT * FROM member_notes WHERE kind LIKE '%reminder' OR kind LIKE '%call'"
    )
    assert {(r["member_id"], r["kind"], r["channel"], r["outcome"]) for r in log} >= {
        (fay.id, "reflect_reminder", "thread", "sent"),
        (ben.id, "reflect_reminder", "dm", "sent"),
    }


async def test_a_nudge_due_at_23_arrives_at_08(world):
    # Opens Monday 23:00 local; the reminder falls on Wednesday 23:00, inside quiet hours.
    await create_cohort(world, "Late", timezone="Europe/London", time="23:00")
    await tick_at(world, datetime(2026, 1, 5, 23, 0, tzinfo=UTC))
    member = world.members[0]
    await tick_at(world, datetime(2026, 1, 7, 23, 0, tzinfo=UTC))
    await tick_at(world, datetime(2026, 1, 8, 7, 59, tzinfo=UTC))
    assert dm_titles(member) == []
    await tick_at(world, datetime(2026, 1, 8, 8, 0, tzinfo=UTC))
    assert dm_titles(member) == ["A gentle reminder"]


async def test_one_request_per_dm_once_the_channel_is_known(world):
    thread = await setup_week(world)
    await tick_at(world, REFLECT_REMINDER)  # first nudges also open the DM channels
    await world.members[0].send(thread, words(5))  # still short: no reflection counted
    before = len(world.env.http_requests)
    report = await tick_at(world, LAST_CALL)
    dm_posts = len(report.nudges.by_dm)
    # A last call to each member, plus a note to the one whose reflection is too short.
    assert sorted(kind for _, kind in report.nudges.by_dm) == sorted(
        ["reflect_last_call"] * len(world.members) + ["short_reflection"]
    )
    requests = world.env.http_requests[before:]
    opened = [r for r in requests if r.path == "/users/@me/channels"]
    sent = [r for r in requests if r.method == "POST" and r.path.endswith("/messages")
            and int(r.path.split("/")[2]) != thread.id]  # fmt: skip
    assert opened == [] and len(sent) == dm_posts


async def test_preview_and_send_through_the_commands(world):
    await setup_week(world)
    await world.members[0].send(world.channel.threads[0], words(40))
    await tick_at(world, REFLECT_REMINDER - timedelta(hours=1))
    early = await world.admin.slash(world.channel, "nudge preview", cohort="Autumn")
    assert "Nobody is due a nudge" in early.response.embeds[0].description

    from tests.helpers import advance_to

    await advance_to(world.env, REFLECT_REMINDER)
    preview = await world.admin.slash(world.channel, "nudge preview", cohort="Autumn")
    listing = preview.response.embeds[0].description
    assert preview.ephemeral and listing.count("reflection reminder (no reflection yet)") == 3
    assert world.members[0].member.display_name not in listing

    sent = await world.admin.slash(world.channel, "nudge send", cohort="Autumn")
    assert "Sent 3 reminder(s): 3 by direct message" in sent.response.embeds[0].description
    again = await world.admin.slash(world.channel, "nudge send", cohort="Autumn")
    assert "Nothing was due" in again.response.embeds[0].description
    assert all(len(dm_titles(m)) == 1 for m in world.members[1:])


async def test_latecomer_is_paired_after_the_list_was_posted(world):
    thread = await setup_week(world, feedback_required=1)
    for member in world.members[:3]:
        await member.send(thread, words(30))
    await tick_at(world, LAST_CALL)
    late = world.members[3]
    await late.send(thread, words(30))
    rows = await world.db.fetch_all("SELECT * FROM assignments WHERE late = 1")
    assert {r["reviewer_id"] for r in rows} | {r["author_id"] for r in rows} >= {late.id}
    assert any(r["reviewer_id"] == late.id for r in rows)
    assert any(r["author_id"] == late.id for r in rows)
    assert any(t.startswith("**More feedback pairs") for t in thread_text(thread))


async def test_members_cannot_use_nudge_commands(world):
    import pytest
    from simcord import SetupError

    await setup_week(world)
    for command in ("nudge preview", "nudge send"):
        with pytest.raises(SetupError, match="default-member-permissions"):
            await world.members[0].slash(world.channel, command, cohort="Autumn")


async def test_preview_lists_a_due_short_post_note(world):
    from tests.helpers import advance_to

    thread = await setup_week(world)
    await world.members[0].send(thread, words(5))
    await advance_to(world.env, FIRST_SLOT + timedelta(minutes=30))
    preview = await world.admin.slash(world.channel, "nudge preview", cohort="Autumn")
    listing = preview.response.embeds[0].description
    assert "note on a short reflection (reflection under the minimum (5 of 20))" in listing


@pytest.mark.parametrize("status", [500, 429])
async def test_a_reminder_refused_by_discord_is_sent_once_by_a_later_tick(world, status):
    thread = await setup_week(world)
    ada, ben = world.members[:2]
    await ada.send(thread, words(60))
    world.env.inject_error(
        "POST", f"/channels/{ben.user.dm_channel.id}/messages", status=status, times=1
    )

    await tick_at(world, REFLECT_REMINDER)
    assert dm_titles(ben) == [], "Discord refused it this time"
    assert dm_titles(world.members[2]) == ["A gentle reminder"], "the others were not held up"
    await tick_at(world, REFLECT_REMINDER + timedelta(minutes=5))
    await tick_at(world, REFLECT_REMINDER + timedelta(minutes=10))
    assert dm_titles(ben) == ["A gentle reminder"]
    assert not [t for t in thread_text(thread) if "gentle nudge" in t], "not a closed-DM case"
