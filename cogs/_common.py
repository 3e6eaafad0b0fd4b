"""Small pieces every cog shares: cohort lookup with its permission check, autocomplete."""

from __future__ import annotations

from datetime import datetime

import discord
from discord import app_commands

from bot.core import cohorts
from bot.core.cohorts import Cohort
from bot.core.errors import NotAllowed
from bot.core.text import name_key
from bot.discord.checks import is_facilitator, require_facilitator


def now() -> datetime:
    """The current instant. ``discord.utils.utcnow`` follows SimCord's clock in tests."""
    return discord.utils.utcnow()


async def facilitated_cohort(interaction: discord.Interaction, name: str) -> Cohort:
    """Look ``name`` up in this server and check that the user may manage it.

    Plain members never reach this (Discord hides facilitator commands from them);
    a facilitator of one cohort can tell that another cohort's name exists, no more.
    """
    if interaction.guild_id is None:
        raise NotAllowed("That command works in a server, not in direct messages.")
    cohort = await cohorts.get_cohort(interaction.client.db, interaction.guild_id, name)
    require_facilitator(interaction, cohort)
    return cohort


async def cohort_name_autocomplete(
    interaction: discord.Interaction, current: str
) -> list[app_commands.Choice[str]]:
    """Cohorts in this server the user can act on, filtered by what they typed (compared
    as names are: case, width and invisible characters aside)."""
    if interaction.guild_id is None:
        return []
    typed = name_key(current)
    found = await cohorts.list_cohorts(interaction.client.db, interaction.guild_id)
    return [
        app_commands.Choice(name=cohort.name, value=cohort.name)
        for cohort in found
        if typed in name_key(cohort.name) and is_facilitator(interaction.user, cohort)
    ][:25]


async def timezone_autocomplete(
    interaction: discord.Interaction, current: str
) -> list[app_commands.Choice[str]]:
    return [app_commands.Choice(name=z, value=z) for z in cohorts.search_timezones(current)]
