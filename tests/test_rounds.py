"""Weekly rounds: posted at the right instant, once, in a thread; caught up after downtime."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

import pytest

from bot.core.clock import unix
from tests.helpers import bot_posts, create_cohort, refused, restart, tick_at

# SimCord's clock starts on Thursday 2026-01-01; a default cohort opens Mondays 09:00 UTC.
FIRST_SLOT = datetime(2026, 1, 5, 9, 0, tzinfo=UTC)
WEEK = timedelta(days=7)


async def keep_prompts(world, cohort: str, count: int) -> None:
    """Trim the default bank to its first ``count`` prompts, through the real command."""
    total = await world.db.fetch_value("SELECT COUNT(*) FROM prompts")
    for position in range(total, count, -1):
        await world.admin.slash(world.channel, "prompt remove", cohort=cohort, number=position)


async def rounds_table(world) -> list[dict]:
    rows = await world.db.fetch_all("SELECT * FROM rounds ORDER BY number")
    return [dict(row) for row in rows]


async def test_round_posts_at_its_instant_once_then_next_prompt_a_week_later(world):
    await create_cohort(world, "Autumn")
    await keep_prompts(world, "Autumn", 2)
    titles = [
        r["title"] for r in await world.db.fetch_all("SELECT title FROM prompts ORDER BY position")
    ]

    early = await tick_at(world, FIRST_SLOT - timedelta(seconds=1))
    assert early.rounds.posted == [] and bot_posts(world) == []

    on_time = await tick_at(world, FIRST_SLOT)
    assert len(on_time.rounds.posted) == 1
    again = await world.bot.tick(FIRST_SLOT)
    assert again.rounds.posted == [] and again.rounds.claimed == []

    [post] = bot_posts(world)
    card = post.embeds[0]
    assert card.title == f"Round 1 · {titles[0]}"
    assert f"<t:{unix(FIRST_SLOT + timedelta(hours=72))}:F>" in card.fields[0].value
    assert f"<t:{unix(FIRST_SLOT + timedelta(hours=144))}:F>" in card.fields[1].value
    assert "Posted late" not in card.description
    assert post.components[0].children[0].label == "Write reflection"
    [thread] = world.channel.threads
    assert thread.id == post.id and thread.name == f"Round 1 · {titles[0]}"

    await tick_at(world, FIRST_SLOT + WEEK)
    posts = bot_posts(world)
    assert len(posts) == 2
    assert posts[-1].embeds[0].title == f"Round 2 · {titles[1]}"
    rows = await rounds_table(world)
    assert [(r["number"], r["state"]) for r in rows] == [(1, "closed"), (2, "posted")]


async def test_bank_starts_over_when_used_up_and_tells_facilitators(world):
    await create_cohort(world, "Autumn")
    await keep_prompts(world, "Autumn", 2)
    for week in range(3):
        await tick_at(world, FIRST_SLOT + week * WEEK)
    titles = [p.embeds[0].title for p in bot_posts(world)]
    assert titles[0].split(" · ")[1] == titles[2].split(" · ")[1]
    result = await world.admin.slash(world.channel, "cohort list")
    [notice] = result.followups
    assert notice.ephemeral and "starts over from prompt 1" in notice.embeds[0].description


@pytest.mark.parametrize("status", [500, 429])
@pytest.mark.parametrize(
    "route", ["/channels/*/messages", "/channels/*/messages/*/threads"], ids=["message", "thread"]
)
async def test_server_errors_then_recovery_post_exactly_once(world, route, status):
    await create_cohort(world, "Autumn")
    world.env.inject_error("POST", route, status=status, times=2)

    first = await tick_at(world, FIRST_SLOT)
    assert first.rounds.failed and not first.rounds.posted
    await world.bot.tick(FIRST_SLOT)  # too soon to retry: backs off instead of hammering
    await tick_at(world, FIRST_SLOT + timedelta(minutes=2))
    final = await tick_at(world, FIRST_SLOT + timedelta(minutes=6))

    assert final.rounds.posted
    assert len(bot_posts(world)) == 1
    assert len(world.channel.threads) == 1
    [row] = await rounds_table(world)
    assert row["state"] == "posted" and row["thread_id"] == row["message_id"]


async def tick_losing_the_answer(world, monkeypatch, moment) -> None:
    """Tick once while Discord accepts the prompt but its answer never arrives."""
    from bot.core.ports import DeliveryError

    chat = world.bot.chat
    real_post = chat.post_round

    async def post_then_lose_answer(channel_id, post):
        await real_post(channel_id, post)
        raise DeliveryError("connection reset", permanent=False)

    monkeypatch.setattr(chat, "post_round", post_then_lose_answer)
    await tick_at(world, moment)
    monkeypatch.setattr(chat, "post_round", real_post)


async def test_lost_response_after_posting_is_found_not_posted_again(world, monkeypatch):
    """Discord accepted the message but the answer never came back (or the bot crashed)."""
    await create_cohort(world, "Autumn")
    await tick_losing_the_answer(world, monkeypatch, FIRST_SLOT)
    await tick_at(world, FIRST_SLOT + timedelta(minutes=2))

    assert len(bot_posts(world)) == 1
    assert len(world.channel.threads) == 1
    [row] = await rounds_table(world)
    assert row["state"] == "posted" and row["attempts"] == 2


async def test_restart_across_posting_time_posts_late_once(world, settings, bots):
    await create_cohort(world, "Autumn")
    await restart(world.env, settings, bots)

    await tick_at(world, FIRST_SLOT + timedelta(hours=5))
    await world.bot.tick(FIRST_SLOT + timedelta(hours=5))
    await restart(world.env, settings, bots)
    await tick_at(world, FIRST_SLOT + timedelta(hours=6))

    [post] = bot_posts(world)
    assert "Posted late: Praxis was offline" in post.embeds[0].description
    [row] = await rounds_table(world)
    assert row["late"] == 1 and row["state"] == "posted"


async def test_a_round_held_up_by_a_missing_permission_says_so_not_offline(world):
    await create_cohort(world, "Autumn")
    world.env.inject_error("POST", f"/channels/{world.channel.id}/messages", status=403,
                           code=50013, times=1)  # fmt: skip
    first = await tick_at(world, FIRST_SLOT)  # Praxis is up, Discord refuses
    assert first.rounds.failed
    await tick_at(world, FIRST_SLOT + timedelta(minutes=16))  # the permission is back

    [post] = bot_posts(world)
    text = post.embeds[0].description
    assert "Posted late: Discord refused Praxis a permission" in text
    assert "offline" not in text
    [row] = await rounds_table(world)
    assert row["late"] == 1 and row["failure"] is None


async def test_a_round_put_back_after_its_opening_time_says_so_not_offline(world):
    await create_cohort(world, "Autumn")
    await world.admin.slash(world.channel, "cohort skip", name="Autumn", date="2026-01-05")
    await tick_at(world, FIRST_SLOT)  # Praxis is up and passes the skipped slot over
    await tick_at(world, FIRST_SLOT + timedelta(hours=3))
    assert bot_posts(world) == []

    await world.admin.slash(world.channel, "cohort unskip", name="Autumn", date="2026-01-05")
    await tick_at(world, FIRST_SLOT + timedelta(hours=3, minutes=1))

    [post] = bot_posts(world)
    text = post.embeds[0].description
    assert "Posted late: this round was put back on the schedule (`/cohort unskip`)" in text
    assert "offline" not in text


async def test_restart_past_the_window_records_missed_and_tells_facilitators(world, settings, bots):
    await create_cohort(world, "Autumn")
    await restart(world.env, settings, bots)
    report = await tick_at(world, FIRST_SLOT + timedelta(hours=73))

    assert report.rounds.missed and bot_posts(world) == []
    [row] = await rounds_table(world)
    assert row["state"] == "missed" and row["message_id"] is None
    result = await world.admin.slash(world.channel, "cohort show", name="Autumn")
    assert "missed" in result.followups[0].embeds[0].description
    recent = next(f for f in result.response.embeds[0].fields if f.name == "Recent rounds")
    assert "Round 1" in recent.value and "missed" in recent.value


async def test_persistent_button_works_after_restart(world, settings, bots):
    await create_cohort(world, "Autumn")
    await tick_at(world, FIRST_SLOT)
    await restart(world.env, settings, bots)
    [post] = bot_posts(world)
    clicked = await world.members[0].click(post, label="Write reflection")
    assert clicked.modal is not None, "the restarted bot still answers the old button"


async def test_skip_and_unskip(world):
    await create_cohort(world, "Autumn")
    skipped = await world.admin.slash(
        world.channel, "cohort skip", name="Autumn", date="2026-01-12"
    )
    assert "No round for **Autumn** on Monday 12 January 2026" in skipped.response.content
    shown = await world.admin.slash(world.channel, "cohort show", name="Autumn")
    skips = next(f for f in shown.response.embeds[0].fields if f.name == "Skipped dates")
    assert "12 Jan 2026" in skips.value

    await tick_at(world, FIRST_SLOT)
    await tick_at(world, FIRST_SLOT + WEEK)  # the skipped Monday
    assert [r["number"] for r in await rounds_table(world)] == [1]
    await tick_at(world, FIRST_SLOT + 2 * WEEK)
    assert [r["number"] for r in await rounds_table(world)] == [1, 2]

    await world.admin.slash(world.channel, "cohort skip", name="Autumn", date="2026-01-26")
    await world.admin.slash(world.channel, "cohort unskip", name="Autumn", date="2026-01-26")
    await tick_at(world, FIRST_SLOT + 3 * WEEK)
    assert [r["number"] for r in await rounds_table(world)] == [1, 2, 3]


@pytest.mark.parametrize(
    ("date", "message"),
    [
        ("2026-01-13", "opens rounds on Mondays"),
        ("12/01/2026", "isn't a date I can read"),
        ("2025-12-29", "already passed"),
    ],
)
async def test_bad_skip_dates(world, date, message):
    await create_cohort(world, "Autumn")
    result = await world.admin.slash(world.channel, "cohort skip", name="Autumn", date=date)
    refused(world.env, result, message)
    assert await world.db.fetch_value("SELECT COUNT(*) FROM skips") == 0


async def test_pause_posts_nothing_and_resume_does_not_backfill(world):
    await create_cohort(world, "Autumn")
    await world.admin.slash(world.channel, "cohort pause", name="Autumn")
    await tick_at(world, FIRST_SLOT + timedelta(hours=1))
    await tick_at(world, FIRST_SLOT + WEEK + timedelta(hours=1))
    assert await rounds_table(world) == []

    await world.admin.slash(world.channel, "cohort resume", name="Autumn")
    await tick_at(world, FIRST_SLOT + WEEK + timedelta(hours=2))
    assert await rounds_table(world) == [], "weeks spent paused are neither posted nor missed"
    await tick_at(world, FIRST_SLOT + 2 * WEEK)
    assert [r["number"] for r in await rounds_table(world)] == [1]


async def test_channel_deleted_marks_failed_tells_facilitators_and_keeps_running(world):
    await create_cohort(world, "Autumn")
    world.env.inject_error("POST", "/channels/*/messages", status=404, code=10003, times=None)

    report = await tick_at(world, FIRST_SLOT)
    assert report.rounds.failed and report.failed_steps == []
    [row] = await rounds_table(world)
    assert row["state"] == "failed" and "no longer exists" in row["failure"]

    requests_before = len(world.env.http_requests)
    for minutes in (1, 2, 3, 4):
        await tick_at(world, FIRST_SLOT + timedelta(minutes=minutes))
    retries = [r for r in world.env.http_requests[requests_before:] if r.method == "POST"]
    assert len(retries) == 0, "a permanent failure backs off instead of retrying every tick"

    shown = await world.admin.slash(world.channel, "cohort show", name="Autumn")
    assert "couldn't post round 1" in shown.followups[0].embeds[0].description
    recent = next(f for f in shown.response.embeds[0].fields if f.name == "Recent rounds")
    assert "not posted yet" in recent.value


async def test_prompt_post_starts_a_round_now(world):
    await create_cohort(world, "Autumn")
    result = await world.admin.slash(world.channel, "prompt post", cohort="Autumn")
    assert result.ephemeral and "Round 1" in result.response.content
    assert len(bot_posts(world)) == 1
    # The scheduled round the next Monday takes the next prompt.
    await tick_at(world, FIRST_SLOT)
    titles = [p.embeds[0].title for p in bot_posts(world)]
    assert titles[0].startswith("Round 1 · ") and titles[1].startswith("Round 2 · ")
    assert titles[0].split(" · ")[1] != titles[1].split(" · ")[1]


async def discord_archives(world, thread_id: int) -> None:
    """Narrate what Discord does after a week without messages (SimCord never auto-archives)."""
    world.env.backend.edit_channel(thread_id, {}, thread_metadata={"archived": True})
    await world.env.settle()


def archived(world, thread_id: int) -> bool:
    return world.env.backend.get_channel(thread_id).thread_metadata.archived


async def test_thread_archived_before_feedback_deadline_is_reopened(world):
    await create_cohort(world, "Autumn")
    await tick_at(world, FIRST_SLOT)
    [thread] = world.channel.threads
    await discord_archives(world, thread.id)
    assert not archived(world, thread.id)


async def test_thread_archived_after_feedback_deadline_stays_archived(world):
    await create_cohort(world, "Autumn")
    await tick_at(world, FIRST_SLOT)
    [thread] = world.channel.threads
    await tick_at(world, FIRST_SLOT + timedelta(hours=145))
    await discord_archives(world, thread.id)
    assert archived(world, thread.id)


async def test_off_cycle_skip_is_refused_when_posting_every_two_weeks(world):
    await create_cohort(world, "Autumn", every_weeks=2, feedback_hours=144)
    ok = await world.admin.slash(world.channel, "cohort skip", name="Autumn", date="2026-01-19")
    assert "No round for **Autumn**" in ok.response.content
    off = await world.admin.slash(world.channel, "cohort skip", name="Autumn", date="2026-01-12")
    refused(world.env, off, "no round is planned")


async def test_failed_round_follows_the_cohort_to_its_new_channel(world):
    await create_cohort(world, "Autumn")
    world.env.inject_error("POST", f"/channels/{world.channel.id}/messages", status=403,
                           code=50013, times=None)  # fmt: skip
    await tick_at(world, FIRST_SLOT)
    moved = world.guild.create_text_channel("reflections-2")
    await world.admin.slash(world.channel, "cohort edit", name="Autumn", channel=moved)
    await tick_at(world, FIRST_SLOT + timedelta(hours=1))
    assert next(m.embeds[0].title for m in moved.history() if m.embeds).startswith("Round 1")
    [row] = await rounds_table(world)
    assert row["state"] == "posted" and row["channel_id"] == moved.id


async def test_lost_response_then_channel_moved_still_posts_once(world, monkeypatch):
    await create_cohort(world, "Autumn")
    await tick_losing_the_answer(world, monkeypatch, FIRST_SLOT)
    moved = world.guild.create_text_channel("reflections-2")
    await world.admin.slash(world.channel, "cohort edit", name="Autumn", channel=moved)
    await tick_at(world, FIRST_SLOT + timedelta(minutes=2))

    assert len(bot_posts(world)) == 1 and not [m for m in moved.history() if m.embeds]
    [row] = await rounds_table(world)
    assert row["state"] == "posted" and row["channel_id"] == world.channel.id


WORKING_MENTION = re.compile(r"@(everyone|here)|<@[!&]?\d+>|<#\d+>")


@pytest.mark.parametrize(
    "title, readable",
    [("@everyone <@&123> hello", "everyone &123 hello"), ("@here" * 16, "here" * 16)],
    ids=["mixed", "longest"],
)
async def test_facilitator_titles_mention_no_one(world, title, readable):
    await create_cohort(world, "<#1> @here crew")
    await world.admin.slash(
        world.channel, "prompt add", cohort="<#1> @here crew", text="What surprised you?",
        title=title,
    )  # fmt: skip
    last = await world.db.fetch_value("SELECT COUNT(*) FROM prompts")
    await world.admin.slash(
        world.channel, "prompt move", cohort="<#1> @here crew", number=last, position=1
    )
    await world.admin.slash(world.channel, "prompt post", cohort="<#1> @here crew")

    [post] = bot_posts(world)
    [thread] = world.channel.threads
    card = post.embeds[0]
    for shown in (thread.name, card.title, card.footer.text):
        assert not WORKING_MENTION.search(shown), shown
    assert len(thread.name) <= 100
    visible = thread.name.replace("\u200b", "").replace("@", "")
    assert visible.startswith("Round 1 · ")
    assert readable.startswith(visible.removeprefix("Round 1 · "))  # all of it that fits
    assert card.footer.text.replace("\u200b", "").startswith("#1 @here crew")
