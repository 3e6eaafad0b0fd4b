"""A walk over the whole command tree: who can see and run what, and what leaks where."""

from __future__ import annotations

import logging
from datetime import UTC, datetime, timedelta

import discord
import pytest
from simcord import SetupError, assert_error

from bot.core.errors import PraxisError
from tests.helpers import build_world, create_cohort, show_command_to, snapshot, tick_at

FIRST_SLOT = datetime(2026, 1, 5, 9, 0, tzinfo=UTC)
FACILITATOR_GROUPS = {"cohort", "prompt", "nudge", "report"}
MEMBER_COMMANDS = {"me", "reflect", "Give feedback"}


def leaves(bot) -> dict[str, discord.app_commands.Command]:
    found = {}
    for command in bot.tree.get_commands():
        if isinstance(command, discord.app_commands.Group):
            for sub in command.walk_commands():
                found[sub.qualified_name] = sub
        else:
            found[command.qualified_name] = command
    return found


def options_for(name: str, world, cohort: str) -> dict:
    """Valid-looking options for each facilitator command, aimed at ``cohort``."""
    member = world.members[0]
    table = {
        "cohort create": dict(name=cohort + " 2", channel=world.channel, members=world.learners),
        "cohort edit": dict(name=cohort, time="10:00"),
        "cohort show": dict(name=cohort),
        "cohort list": {},
        "cohort pause": dict(name=cohort),
        "cohort resume": dict(name=cohort),
        "cohort delete": dict(name=cohort),
        "cohort skip": dict(name=cohort, date="2026-01-12"),
        "cohort unskip": dict(name=cohort, date="2026-01-12"),
        "cohort excuse": dict(name=cohort, member=member),
        "prompt add": dict(cohort=cohort, text="A new question?", title="New"),
        "prompt list": dict(cohort=cohort),
        "prompt remove": dict(cohort=cohort, number=1),
        "prompt move": dict(cohort=cohort, number=1, position=2),
        "prompt import": dict(cohort=cohort, file=("p.txt", b"# T\nA question?")),
        "prompt post": dict(cohort=cohort),
        "nudge preview": dict(cohort=cohort),
        "nudge send": dict(cohort=cohort),
        "report round": dict(cohort=cohort),
        "report member": dict(cohort=cohort, member=member),
        "report export": dict(cohort=cohort, include_text=True),
        "report chart": dict(cohort=cohort),
    }
    return table[name]


def facilitator_leaves(bot) -> list[str]:
    return sorted(n for n in leaves(bot) if n.split()[0] in FACILITATOR_GROUPS)


async def test_every_command_is_classified(world):
    names = {n if n in MEMBER_COMMANDS else n.split()[0] for n in leaves(world.bot)}
    assert names == FACILITATOR_GROUPS | MEMBER_COMMANDS, "classify new commands in this audit"
    for command in world.bot.tree.get_commands():
        if command.name in FACILITATOR_GROUPS:
            assert command.default_permissions == discord.Permissions(manage_guild=True)
        else:
            assert command.default_permissions is None


async def test_plain_member_can_neither_see_nor_run_any_facilitator_command(world):
    await create_cohort(world, "Autumn")
    await tick_at(world, FIRST_SLOT)
    before = await snapshot(world.db)
    member = world.members[0]
    visible = set(member.available_commands(world.channel))
    for name in facilitator_leaves(world.bot):
        assert name not in visible
        with pytest.raises(SetupError, match="default-member-permissions"):
            await member.slash(world.channel, name, **options_for(name, world, "Autumn"))
    assert await snapshot(world.db) == before


async def test_facilitators_of_one_cohort_cannot_act_on_another(world):
    await create_cohort(world, "Autumn")  # world.facilitators runs Autumn
    await create_cohort(world, "Spring", facilitators=world.guild.create_role("Spring team"))
    await tick_at(world, FIRST_SLOT)
    for group in FACILITATOR_GROUPS:
        await show_command_to(world, group, world.facilitators)
    before = await snapshot(world.db)
    for name in facilitator_leaves(world.bot):
        if name in ("cohort create", "cohort list"):
            continue  # not about one cohort: create needs Manage Server; list shows only yours
        result = await world.facilitator.slash(
            world.channel, name, **options_for(name, world, "Spring")
        )
        assert result.ephemeral, name
        text = (result.response.content if result.response else "") + "".join(
            m.content for m in result.followups
        )
        assert "Only this cohort's facilitators" in text, name
        assert_error(world.env, PraxisError)
    assert await snapshot(world.db) == before
    listing = await world.facilitator.slash(world.channel, "cohort list")
    assert "Spring" not in listing.response.embeds[0].description


async def test_nothing_crosses_between_guilds(world):
    other = build_world(world.env, guild_name="Other School")
    await create_cohort(world, "Autumn")
    await create_cohort(other, "Autumn")
    await world.admin.slash(world.channel, "cohort pause", name="Autumn")
    rows = await world.db.fetch_all("SELECT guild_id, paused FROM cohorts ORDER BY guild_id")
    assert {(r["guild_id"], r["paused"]) for r in rows} == {
        (world.guild.id, 1),
        (other.guild.id, 0),
    }
    names = await other.admin.autocomplete(other.channel, "cohort show", "name", "")
    assert [c["value"] for c in names] == ["Autumn"]
    shown = await other.admin.slash(other.channel, "cohort show", name="Autumn")
    assert f"<#{other.channel.id}>" in shown.response.embeds[0].description


async def test_logs_never_hold_message_text_or_the_token(world, caplog):
    secret_text = "Zanzibar-client-story about my placement"
    caplog.set_level(logging.DEBUG)
    await create_cohort(world, "Autumn", min_words=50)
    await tick_at(world, FIRST_SLOT)
    [thread] = world.channel.threads
    ada, ben = world.members[:2]
    message = await ada.send(thread, secret_text)  # short: triggers a private note too
    await ben.send(thread, f"Replying: {secret_text}", reply_to=message)
    [prompt] = [m for m in world.channel.history() if m.author.bot and m.embeds]
    shown = await ben.click(prompt, label="Write reflection")
    await ben.submit_modal(shown, {"section_0": secret_text})
    await ada.edit(message, secret_text + " edited")
    world.env.inject_error("POST", "/channels/*/messages", status=500, times=3)
    await tick_at(world, FIRST_SLOT + timedelta(hours=48))
    await tick_at(world, FIRST_SLOT + timedelta(hours=145))
    logged = "\n".join(r.getMessage() + (r.exc_text or "") + str(r.args) for r in caplog.records)
    assert caplog.records, "the run logged something, so the check means something"
    assert "Zanzibar" not in logged
    token = "MTIz.secret.token"
    from bot.config import Settings

    assert token not in repr(Settings(discord_token=token))
