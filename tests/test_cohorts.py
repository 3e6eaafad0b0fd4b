"""``/cohort``: facilitators set cohorts up; nobody else can; bad input stores nothing."""

from __future__ import annotations

import discord
import pytest
from simcord import SetupError

from tests.helpers import (
    create_cohort,
    private_channel,
    refused,
    restart,
    show_command_to,
    snapshot,
)


async def cohort_count(world) -> int:
    return await world.db.fetch_value("SELECT COUNT(*) FROM cohorts")


async def test_admin_creates_a_cohort_with_defaults(world):
    result = await create_cohort(world, "Autumn 2026")

    assert result.ephemeral
    assert "Created **Autumn 2026**" in result.response.content
    row = await world.db.fetch_one("SELECT * FROM cohorts")
    assert row["name"] == "Autumn 2026"
    assert row["channel_id"] == world.channel.id
    assert row["member_role_id"] == world.learners.id
    assert row["facilitator_role_id"] == world.facilitators.id
    assert (row["timezone"], row["weekday"], row["post_time"]) == ("UTC", 0, "09:00")
    assert (row["reflect_hours"], row["feedback_hours"]) == (72, 144)
    assert (row["feedback_required"], row["min_words"], row["every_weeks"]) == (2, 0, 1)
    card = result.response.embeds[0]
    next_round = next(f for f in card.fields if f.name == "Next round")
    # 2026-01-01 is a Thursday: the first Monday 09:00 UTC is 2026-01-05.
    assert "<t:1767603600:F>" in next_round.value


async def test_create_with_every_option(world):
    await create_cohort(
        world,
        "Probation",
        timezone="America/New_York",
        weekday="wednesday",
        time="17:30",
        every_weeks=2,
        reflect_hours=48,
        feedback_hours=96,
        feedback_required=3,
        min_words=150,
    )
    row = await world.db.fetch_one("SELECT * FROM cohorts")
    assert row["timezone"] == "America/New_York"
    assert (row["weekday"], row["post_time"], row["every_weeks"]) == (2, "17:30", 2)
    assert (row["reflect_hours"], row["feedback_hours"]) == (48, 96)
    assert (row["feedback_required"], row["min_words"]) == (3, 150)


async def test_edit_show_list_pause_resume_delete(world):
    await create_cohort(world, "Autumn")
    admin, channel = world.admin, world.channel

    edited = await admin.slash(channel, "cohort edit", name="autumn", time="10:15", min_words=80)
    assert "Updated **Autumn**" in edited.response.content
    row = await world.db.fetch_one("SELECT post_time, min_words FROM cohorts")
    assert (row["post_time"], row["min_words"]) == ("10:15", 80)

    shown = await admin.slash(channel, "cohort show", name="Autumn")
    schedule = next(f for f in shown.response.embeds[0].fields if f.name == "Schedule")
    assert "Monday at 10:15 (UTC)" in schedule.value

    listed = await admin.slash(channel, "cohort list")
    assert "**Autumn**" in listed.response.embeds[0].description

    paused = await admin.slash(channel, "cohort pause", name="Autumn")
    assert "Paused" in paused.response.content
    assert await world.db.fetch_value("SELECT paused FROM cohorts") == 1
    shown = await admin.slash(channel, "cohort show", name="Autumn")
    assert (
        "Paused" in next(f for f in shown.response.embeds[0].fields if f.name == "Next round").value
    )

    resumed = await admin.slash(channel, "cohort resume", name="Autumn")
    assert "Resumed" in resumed.response.content
    assert await world.db.fetch_value("SELECT paused FROM cohorts") == 0

    asked = await admin.slash(channel, "cohort delete", name="Autumn")
    assert asked.ephemeral and "Delete **Autumn**?" in asked.response.content
    assert await cohort_count(world) == 1, "nothing is deleted before confirmation"
    await admin.click(asked.response, label="Delete cohort and its records")
    assert await cohort_count(world) == 0
    assert await world.db.fetch_value("SELECT COUNT(*) FROM prompts") == 0


async def test_delete_can_be_cancelled(world):
    await create_cohort(world, "Autumn")
    asked = await world.admin.slash(world.channel, "cohort delete", name="Autumn")
    await world.admin.click(asked.response, label="Keep it")
    assert await cohort_count(world) == 1


async def test_facilitator_role_manages_its_own_cohort_only(world):
    await create_cohort(world, "Autumn")  # world.facilitators is its facilitator role
    await create_cohort(world, "Spring", facilitators=world.guild.create_role("Other team"))
    fran, channel = world.facilitator, world.channel
    await show_command_to(world, "cohort", world.facilitators)

    ok = await fran.slash(channel, "cohort pause", name="Autumn")
    assert "Paused" in ok.response.content

    denied = await fran.slash(channel, "cohort pause", name="Spring")
    refused(world.env, denied, "Only this cohort's facilitators")
    assert await world.db.fetch_value("SELECT paused FROM cohorts WHERE name = 'Spring'") == 0

    names = await fran.autocomplete(channel, "cohort show", "name", "")
    assert [c["value"] for c in names] == ["Autumn"]

    create = await fran.slash(
        channel, "cohort create", name="Mine", channel=channel, members=world.learners
    )
    refused(world.env, create, "Manage Server")
    assert await cohort_count(world) == 2


@pytest.mark.parametrize(
    "command",
    ["create", "edit", "show", "list", "pause", "resume", "delete", "skip", "unskip"],
)
async def test_plain_member_cannot_see_or_run_cohort_commands(world, command):
    await create_cohort(world, "Autumn")
    member = world.members[0]
    assert not any(c.startswith("cohort") for c in member.available_commands(world.channel))
    options = {"name": "Autumn"} if command != "list" else {}
    with pytest.raises(SetupError, match="default-member-permissions"):
        await member.slash(world.channel, f"cohort {command}", **options)
    row = await world.db.fetch_one("SELECT paused, updated_at, created_at FROM cohorts")
    assert row["paused"] == 0 and row["updated_at"] == row["created_at"]


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"timezone": "Mars/Olympus"}, "I don't know the timezone"),
        ({"timezone": "europe london"}, "I don't know the timezone"),
        ({"time": "25:00"}, "isn't a time I can use"),
        ({"time": "9am"}, "isn't a time I can use"),
        ({"reflect_hours": 100, "feedback_hours": 50}, "must end before the feedback window"),
        ({"feedback_hours": 200}, "would run into the next round"),
        ({"every_weeks": 2, "feedback_hours": 400}, "would run into the next round"),
    ],
)
async def test_bad_input_is_refused_kindly_and_stores_nothing(world, options, message):
    result = await create_cohort(world, "Autumn", **options)
    refused(world.env, result, message)
    assert await cohort_count(world) == 0


async def test_duplicate_name_is_refused_ignoring_case(world):
    await create_cohort(world, "Autumn")
    result = await create_cohort(world, "  AUTUMN ")
    refused(world.env, result, "already has a cohort called")
    assert await cohort_count(world) == 1


@pytest.mark.parametrize("lookalike", ["ＡＵＴＵＭＮ", "Au\u200btumn", "\u2060autumn\ufe0f"])
async def test_names_that_look_the_same_are_the_same_name(world, lookalike):
    await create_cohort(world, "Autumn")
    result = await create_cohort(world, lookalike)
    refused(world.env, result, "already has a cohort called")
    assert await cohort_count(world) == 1

    await create_cohort(world, "Spring")
    renamed = await world.admin.slash(
        world.channel, "cohort edit", name="Spring", new_name=lookalike
    )
    refused(world.env, renamed, "already has a cohort called")
    names = await world.db.fetch_all("SELECT name FROM cohorts ORDER BY id")
    assert [row["name"] for row in names] == ["Autumn", "Spring"]

    shown = await world.admin.slash(world.channel, "cohort show", name=lookalike)
    assert shown.response.embeds[0].title.startswith("Autumn")
    suggested = await world.admin.autocomplete(world.channel, "cohort show", "name", "ａｕｔ")
    assert [c["value"] for c in suggested] == ["Autumn"]


@pytest.mark.parametrize(
    "name",
    ["****", "\u3164\u3164", "🙂 ✨", "-- \u2800 --", "\u0301\u0301", "\u200b\u200d\ufeff", " "],
)
async def test_a_name_without_a_visible_letter_or_digit_is_refused(world, name):
    result = await create_cohort(world, name)
    refused(world.env, result, "needs at least one letter or number")
    assert await cohort_count(world) == 0

    await create_cohort(world, "Autumn")
    renamed = await world.admin.slash(world.channel, "cohort edit", name="Autumn", new_name=name)
    refused(world.env, renamed, "needs at least one letter or number")
    assert await world.db.fetch_value("SELECT name FROM cohorts") == "Autumn"


async def test_stored_names_lose_invisible_characters_and_extra_spaces(world):
    result = await create_cohort(world, " \u202eAu\u200btumn\u3164\u3164 2026 ")
    assert "Created **Autumn 2026**" in result.response.content
    row = await world.db.fetch_one("SELECT name, name_key FROM cohorts")
    assert (row["name"], row["name_key"]) == ("Autumn 2026", "autumn 2026")


async def test_names_stored_under_the_old_rule_are_rekeyed_at_start(world, settings, bots):
    """Before, a key was the name case-folded: "ＡＵＴＵＭＮ" and "Au\u200btumn" were free."""
    for name in ("Spring", "Summer", "Winter"):
        await create_cohort(world, name)
    async with world.db.transaction() as tx:
        for old, name in (
            ("Spring", "ＡＵＴＵＭＮ"),
            ("Summer", "Au\u200btumn"),
            ("Winter", "Ｗｉｎ"),
        ):
            await tx.execute(
                "UPDATE cohorts SET name = ?, name_key = ? WHERE name = ?",
                (name, " ".join(name.split()).casefold(), old),
            )
    await restart(world.env, settings, bots)

    rows = await world.db.fetch_all("SELECT name, name_key FROM cohorts ORDER BY id")
    assert [(r["name"], r["name_key"]) for r in rows] == [
        ("ＡＵＴＵＭＮ", "autumn"),  # the oldest of the two takes the key
        ("Au\u200btumn", "au\u200btumn"),  # the other keeps its old one ...
        ("Ｗｉｎ", "win"),
    ]
    refused(world.env, await create_cohort(world, "Autumn"), "already has a cohort called")
    refused(world.env, await create_cohort(world, "win"), "already has a cohort called")
    for name in ("ＡＵＴＵＭＮ", "Au\u200btumn"):  # ... and both answer to their exact names
        shown = await world.admin.slash(world.channel, "cohort show", name=name)
        assert shown.response.embeds[0].title.startswith(name)
    assert await cohort_count(world) == 3


async def test_channel_the_bot_cannot_post_in_is_refused(world):
    import discord

    me = world.guild.me
    hidden = world.guild.create_text_channel(
        "private", overwrites={me: discord.PermissionOverwrite(send_messages=False)}
    )
    result = await create_cohort(world, "Autumn", channel=hidden)
    refused(world.env, result, "I can't run rounds in")
    assert await cohort_count(world) == 0


async def test_bad_edit_changes_nothing(world):
    await create_cohort(world, "Autumn")
    before = dict(await world.db.fetch_one("SELECT * FROM cohorts"))
    result = await world.admin.slash(
        world.channel, "cohort edit", name="Autumn", time="07:00", feedback_hours=20
    )
    refused(world.env, result, "must end before the feedback window")
    assert dict(await world.db.fetch_one("SELECT * FROM cohorts")) == before


async def test_unknown_cohort_name(world):
    result = await world.admin.slash(world.channel, "cohort show", name="Nope")
    refused(world.env, result, "There is no cohort called “Nope”")


async def test_timezone_autocomplete(world):
    choices = await world.admin.autocomplete(world.channel, "cohort create", "timezone", "new_y")
    assert "America/New_York" in [c["value"] for c in choices]


# Praxis never lends a facilitator powers they lack: they may only point it at channels
# they can view and post in themselves, and digests only go where learners can't read.
CANNOT_SEND = discord.PermissionOverwrite(view_channel=True, send_messages=False)
DIGESTS_ARE_PRIVATE = "Digests name members and how they are doing"


@pytest.mark.parametrize("option", ["channel", "digest_channel"])
async def test_facilitator_cannot_point_a_cohort_where_they_cannot_post(world, option):
    # Like Discord's channel picker, SimCord offers only channels the user can see.
    await create_cohort(world, "Autumn")
    await show_command_to(world, "cohort", world.facilitators)
    announcements = private_channel(
        world, "announcements", overwrites={world.facilitators: CANNOT_SEND}
    )
    before = await snapshot(world.db)
    result = await world.facilitator.slash(
        world.channel, "cohort edit", name="Autumn", **{option: announcements}
    )
    refused(world.env, result, f"You can't post in {announcements.mention} yourself")
    assert await snapshot(world.db) == before
    # The same edit from someone who can post there goes through: the rule is about the user.
    result = await world.admin.slash(
        world.channel, "cohort edit", name="Autumn", **{option: announcements}
    )
    assert "Updated **Autumn**" in result.response.content


async def test_manage_server_member_without_send_messages_is_refused(world):
    muted = world.guild.create_text_channel("news", overwrites={world.admin: CANNOT_SEND})
    result = await create_cohort(world, "Autumn", channel=muted)
    refused(world.env, result, f"You can't post in {muted.mention} yourself")
    assert await cohort_count(world) == 0

    await create_cohort(world, "Autumn")
    before = await snapshot(world.db)
    for option in ("channel", "digest_channel"):
        result = await world.admin.slash(
            world.channel, "cohort edit", name="Autumn", **{option: muted}
        )
        refused(world.env, result, "You can't post in")
    assert await snapshot(world.db) == before


async def test_digest_channel_members_can_read_is_refused(world):
    await create_cohort(world, "Autumn")
    before = await snapshot(world.db)
    everyone_reads = world.guild.create_text_channel("general")
    learners_read = private_channel(world, "study-room", readers=[world.learners])
    for room in (everyone_reads, learners_read):
        result = await world.admin.slash(
            world.channel, "cohort edit", name="Autumn", digest_channel=room
        )
        refused(world.env, result, DIGESTS_ARE_PRIVATE)
        assert room.mention in result.response.content
    assert await snapshot(world.db) == before


async def test_private_facilitators_digest_channel_is_accepted(world):
    await create_cohort(world, "Autumn")
    room = private_channel(world)
    await show_command_to(world, "cohort", world.facilitators)
    result = await world.facilitator.slash(
        world.channel, "cohort edit", name="Autumn", digest_channel=room
    )
    assert "Updated **Autumn**" in result.response.content
    assert await world.db.fetch_value("SELECT digest_channel_id FROM cohorts") == room.id


async def test_new_member_role_is_checked_against_the_digest_channel(world):
    alumni = world.guild.create_role("Alumni")
    room = private_channel(world, readers=[alumni])
    await create_cohort(world, "Autumn")
    await world.admin.slash(world.channel, "cohort edit", name="Autumn", digest_channel=room)
    before = await snapshot(world.db)

    result = await world.admin.slash(world.channel, "cohort edit", name="Autumn", members=alumni)
    refused(world.env, result, DIGESTS_ARE_PRIVATE)
    assert await snapshot(world.db) == before

    staff_only = private_channel(world, "staff-only")
    result = await world.admin.slash(
        world.channel, "cohort edit", name="Autumn", members=alumni, digest_channel=staff_only
    )
    assert "Updated **Autumn**" in result.response.content
    row = await world.db.fetch_one("SELECT member_role_id, digest_channel_id FROM cohorts")
    assert (row["member_role_id"], row["digest_channel_id"]) == (alumni.id, staff_only.id)
