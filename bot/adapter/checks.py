"""The one permission check for facilitator actions.

Manage Server always passes. A cohort's facilitator role passes for that cohort only,
so co-facilitators can run a cohort without holding server-wide power. Discord hides
facilitator commands from everyone else by default (``default_permissions``); server
admins can show them to a facilitator role under Server Settings → Integrations.
"""

from __future__ import annotations

import discord

from bot.core.cohorts import Cohort
from bot.core.errors import NotAllowed


def is_facilitator(member: discord.Member | discord.User, cohort: Cohort | None) -> bool:
    if not isinstance(member, discord.Member):
        return False
    if member.guild_permissions.manage_guild:
        return True
    if cohort is None or cohort.facilitator_role_id is None or cohort.guild_id != member.guild.id:
        return False
    return member.get_role(cohort.facilitator_role_id) is not None


def require_facilitator(interaction: discord.Interaction, cohort: Cohort | None = None) -> None:
    """Raise :class:`NotAllowed` unless the user may manage ``cohort`` (or any, when ``None``)."""
    if not is_facilitator(interaction.user, cohort):
        raise NotAllowed(
            "Only this cohort's facilitators (or members with Manage Server) can do that."
            if cohort is not None
            else "Only members with the Manage Server permission can do that."
        )


POST_PERMISSIONS = (
    "view_channel",
    "send_messages",
    "embed_links",
    "add_reactions",
    "read_message_history",
    "create_public_threads",
    "send_messages_in_threads",
    "manage_threads",
)


def missing_post_permissions(channel: discord.abc.GuildChannel) -> list[str]:
    """Permissions Praxis needs in a cohort channel that it lacks there."""
    granted = channel.permissions_for(channel.guild.me)
    return [name for name in POST_PERMISSIONS if not getattr(granted, name)]


def describe_permissions(names: list[str]) -> str:
    return ", ".join(name.replace("_", " ").title() for name in names)
