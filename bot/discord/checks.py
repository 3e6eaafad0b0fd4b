"""The permission checks for facilitator actions.

Manage Server always passes. A cohort's facilitator role passes for that cohort only,
so co-facilitators can run a cohort without holding server-wide power. Discord hides
facilitator commands from everyone else by default (``default_permissions``); server
admins can show them to a facilitator role under Server Settings → Integrations.

Praxis never lends anyone powers they lack: a facilitator may only point it at channels
where they can post themselves, and a digest only goes where learners can't read it.
"""

from __future__ import annotations

import discord

from bot.core.cohorts import Cohort
from bot.core.errors import InvalidInput, NotAllowed


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


def require_user_can_post(
    user: discord.Member | discord.User, channel: discord.TextChannel
) -> None:
    """Raise :class:`NotAllowed` unless ``user`` can see ``channel`` and send messages there.

    Praxis posts with its own permissions, so without this check a facilitator who may not
    write in, say, #announcements could have the bot post prompts there for them.
    """
    granted = channel.permissions_for(user) if isinstance(user, discord.Member) else None
    if granted is None or not (granted.view_channel and granted.send_messages):
        raise NotAllowed(
            f"You can't post in {channel.mention} yourself, so I won't post there for you. "
            "Pick a channel where you can view and send messages."
        )


def require_private_digest_channel(
    channel: discord.TextChannel, member_role: discord.Role | None
) -> None:
    """Raise :class:`InvalidInput` if the cohort's members (or @everyone) can read ``channel``.

    A digest names members and says who is missing or behind: learners must not read it.
    """
    readers = [role for role in (member_role, channel.guild.default_role) if role is not None]
    if any(channel.permissions_for(role).view_channel for role in readers):
        raise InvalidInput(
            "Digests name members and how they are doing, so they need a channel only "
            f"facilitators can read, but the cohort's members can read {channel.mention}. "
            "Pick a private channel as `digest_channel` (without one, digests go to "
            "facilitators by DM)."
        )
