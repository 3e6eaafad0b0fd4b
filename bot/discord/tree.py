"""The one place app-command errors become replies.

Known problems (a :class:`PraxisError`, a missing permission, Discord refusing a
request, a locked database) get a kind, private sentence. Anything else is a bug: it
is logged with its traceback (never with message or form text) and the user gets a
private apology. Nothing a user typed is ever logged from here.
"""

from __future__ import annotations

import logging
import sqlite3

import discord
from discord import app_commands

from bot.core.errors import PraxisError, StorageBusy

log = logging.getLogger(__name__)

UNEXPECTED = (
    "Something went wrong on my side, and I've logged it for the bot's maintainers. "
    "Nothing you wrote was lost. Please try again in a moment."
)


def friendly_message(error: BaseException) -> str | None:
    """The sentence to show for a known error, or ``None`` for a bug."""
    if isinstance(error, app_commands.CommandInvokeError | app_commands.TransformerError):
        cause = error.__cause__ if isinstance(error, app_commands.TransformerError) else None
        inner = getattr(error, "original", None) or cause
        if inner is not None and inner is not error:
            found = friendly_message(inner)
            if found is not None:
                return found
        if isinstance(error, app_commands.TransformerError):
            return f"“{str(error.value)[:80]}” isn't a value I can use for that option."
    if isinstance(error, PraxisError):
        return str(error)
    if isinstance(error, app_commands.NoPrivateMessage):
        return "That command works in a server, not in direct messages."
    if isinstance(error, app_commands.MissingPermissions | app_commands.CheckFailure):
        return "You don't have permission to use that command here."
    if isinstance(error, app_commands.CommandOnCooldown):
        return f"Please wait {error.retry_after:.0f} seconds before trying that again."
    if isinstance(error, discord.Forbidden):
        return (
            "Discord didn't let me do that: I'm missing a permission in that channel. "
            "Ask a server admin to check my role's permissions."
        )
    if isinstance(error, discord.NotFound):
        return "Discord says that channel or message no longer exists."
    if isinstance(error, discord.HTTPException):
        return "Discord is having trouble right now, so nothing was changed. Please try again soon."
    if isinstance(error, sqlite3.OperationalError) and "locked" in str(error):
        return str(StorageBusy("The database is busy right now. Please try again in a moment."))
    return None


async def reply_privately(interaction: discord.Interaction, text: str) -> None:
    """Answer ephemerally whether or not the interaction was already answered."""
    try:
        if interaction.response.is_done():
            await interaction.followup.send(text, ephemeral=True)
        else:
            await interaction.response.send_message(text, ephemeral=True)
    except discord.HTTPException as error:
        log.warning("Could not deliver an error reply (HTTP %s)", error.status)


class PraxisTree(app_commands.CommandTree):
    async def on_error(
        self, interaction: discord.Interaction, error: app_commands.AppCommandError
    ) -> None:
        message = friendly_message(error)
        if message is None:
            command = interaction.command.qualified_name if interaction.command else "?"
            original = getattr(error, "original", error)
            log.error(
                "Unexpected error in /%s (guild %s)",
                command,
                interaction.guild_id,
                exc_info=(type(original), original, original.__traceback__),
            )
            message = UNEXPECTED
        await reply_privately(interaction, message)
