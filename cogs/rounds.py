"""Round upkeep on Discord: keeping round threads open, telling facilitators what went wrong."""

from __future__ import annotations

import contextlib
import logging

import discord
from discord import app_commands
from discord.ext import commands

from bot.core import cohorts, health, notices, rounds
from bot.core.errors import StorageBusy, StorageUnavailable
from bot.discord.checks import is_facilitator
from bot.discord.embeds import Tone, embed
from cogs._common import now

log = logging.getLogger(__name__)


class RoundUpkeep(commands.Cog):
    def __init__(self, bot: commands.Bot) -> None:
        self.bot = bot

    @commands.Cog.listener()
    async def on_raw_thread_update(self, payload: discord.RawThreadUpdateEvent) -> None:
        """Re-open a round thread Discord archived while feedback is still due."""
        if not payload.data.get("thread_metadata", {}).get("archived"):
            return
        round_ = await rounds.round_for_thread(self.bot.db, payload.thread_id)
        if round_ is None or round_.state != "posted" or now() >= round_.feedback_due:
            return
        thread = payload.thread or self.bot.get_channel(payload.thread_id)
        if not isinstance(thread, discord.Thread):
            return
        try:
            await thread.edit(archived=False)
        except discord.HTTPException as error:
            log.warning("Could not re-open round thread %s (HTTP %s)", thread.id, error.status)

    @commands.Cog.listener()
    async def on_app_command_completion(
        self, interaction: discord.Interaction, command: app_commands.Command
    ) -> None:
        """Tell a facilitator, privately, about problems with the cohorts they run, and
        that Praxis can't save while that lasts."""
        if interaction.guild_id is None or (
            interaction.response.type == discord.InteractionResponseType.modal
        ):
            return
        theirs = [
            cohort.id
            for cohort in await cohorts.list_cohorts(self.bot.db, interaction.guild_id)
            if is_facilitator(interaction.user, cohort)
        ]
        pending = await notices.undelivered(self.bot.db, theirs)
        texts = [notice.text for notice in pending]
        if theirs and self.bot.storage.problem is not None:
            texts.insert(0, health.down_text(self.bot.storage.problem))
        if not texts:
            return
        text = "\n\n".join(texts)[:4000]
        try:
            await interaction.followup.send(
                embed=embed("Needs your attention", text, tone=Tone.WARNING), ephemeral=True
            )
        except discord.HTTPException as error:
            log.warning("Could not deliver facilitator notices (HTTP %s)", error.status)
            return
        with contextlib.suppress(StorageBusy, StorageUnavailable):  # then shown again next time
            await notices.mark_delivered(self.bot.db, pending, now())


async def setup(bot: commands.Bot) -> None:
    await bot.add_cog(RoundUpkeep(bot))
