"""``/nudge``: facilitators see who would be reminded now, and can send what is due."""

from __future__ import annotations

import discord
from discord import app_commands
from discord.ext import commands

from bot.core import nudges, reflections
from bot.core.errors import InvalidInput
from bot.discord.embeds import Tone, embed
from cogs._common import cohort_name_autocomplete, facilitated_cohort, now

KIND_NAMES = {
    nudges.REFLECT_REMINDER: "reflection reminder",
    nudges.LAST_CALL: "last call",
    nudges.FEEDBACK_REMINDER: "feedback reminder",
    nudges.SHORT_REFLECTION: "note on a short reflection",
    nudges.SHORT_FEEDBACK: "note on short feedback",
}


@app_commands.guild_only()
@app_commands.default_permissions(manage_guild=True)
class NudgeCommands(commands.GroupCog, group_name="nudge"):
    """Reminders to members who haven't responded yet."""

    def __init__(self, bot: commands.Bot) -> None:
        self.bot = bot
        super().__init__()

    async def _open_round(self, interaction: discord.Interaction, name: str):
        cohort = await facilitated_cohort(interaction, name)
        ctx = await reflections.current_context(self.bot.db, cohort)
        if ctx is None or ctx.round.state != "posted":
            raise InvalidInput(f"**{cohort.name}** has no open round to nudge about.")
        return ctx

    @app_commands.command(name="preview", description="Who would be nudged now, and why")
    @app_commands.describe(cohort="The cohort")
    @app_commands.autocomplete(cohort=cohort_name_autocomplete)
    async def preview(self, interaction: discord.Interaction, cohort: str) -> None:
        ctx = await self._open_round(interaction, cohort)
        moment = now()
        roster = await self.bot.chat.roster(ctx.cohort) or []
        planned = await nudges.plan(self.bot.db, ctx, roster, moment)
        if planned:
            lines = [f"• {p.member.name}: {KIND_NAMES[p.kind]} ({p.reason})" for p in planned[:40]]
            if len(planned) > 40:
                lines.append(f"…and {len(planned) - 40} more.")
            text = "\n".join(lines)
        elif nudges.in_quiet_hours(ctx.cohort, moment):
            text = "It's quiet hours for this cohort, so nobody would be nudged right now."
        else:
            text = "Nobody is due a nudge right now."
        card = embed(f"Nudges due now · {ctx.cohort.name}, round {ctx.round.number}", text)
        await interaction.response.send_message(embed=card, ephemeral=True)

    @app_commands.command(name="send", description="Send the nudges that are due now")
    @app_commands.describe(cohort="The cohort")
    @app_commands.autocomplete(cohort=cohort_name_autocomplete)
    async def send(self, interaction: discord.Interaction, cohort: str) -> None:
        ctx = await self._open_round(interaction, cohort)
        await interaction.response.defer(ephemeral=True, thinking=True)
        held = await self.bot.unread.held(self.bot.db)  # not read back since the start yet
        report = await nudges.send_due(self.bot.db, self.bot.chat, now(), ctx.cohort.id, held)
        if ctx.round.id in held:
            text = ("Praxis is still reading this round's thread back after a restart, so it "
                    "can't tell yet who has written. Try again in a minute.")  # fmt: skip
            await interaction.followup.send(embed=embed("Nudges", text), ephemeral=True)
            return
        notes = sum(kind in nudges.PRIVATE_ONLY for _, kind in report.by_dm)
        by_dm = len(report.by_dm) - notes
        reminders = by_dm + len(report.in_thread)
        # Reminders and notes are counted apart, as the round report counts reminders only.
        parts = []
        if reminders:
            parts.append(f"Sent {reminders} reminder(s): {by_dm} by direct message, "
                         f"{len(report.in_thread)} in the round's thread.")  # fmt: skip
        if notes:
            parts.append(f"Sent {notes} private note(s) about posts still under the minimum.")
        text = " ".join(parts) or (
            "Nothing was due: everyone due a nudge already had one, or it's quiet hours."
        )
        sent = reminders + notes
        if report.failed:
            text += f" {len(report.failed)} could not be sent; I'll retry those that can be."
        tone = Tone.SUCCESS if sent and not report.failed else Tone.INFO
        await interaction.followup.send(embed=embed("Nudges", text, tone=tone), ephemeral=True)


async def setup(bot: commands.Bot) -> None:
    await bot.add_cog(NudgeCommands(bot))
