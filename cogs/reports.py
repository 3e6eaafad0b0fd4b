"""``/report``: round and member summaries, CSV export and the participation chart.

Every reply is ephemeral: reports name members and their standing, so only the
facilitator who asked sees them.
"""

from __future__ import annotations

import asyncio
import io
from typing import BinaryIO

import discord
from discord import app_commands
from discord.ext import commands

from bot.adapter import reports as render
from bot.core import reports
from bot.core.ports import Person
from cogs._common import cohort_name_autocomplete, facilitated_cohort, now

EXPORT_KINDS = [
    app_commands.Choice(name="Posts: each reflection and feedback", value="posts"),
    app_commands.Choice(name="Participation: every member in every round", value="participation"),
]


@app_commands.guild_only()
@app_commands.default_permissions(manage_guild=True)
class ReportCommands(commands.GroupCog, group_name="report"):
    """See who is engaging, and hand the record on."""

    def __init__(self, bot: commands.Bot) -> None:
        self.bot = bot
        super().__init__()

    async def _roster(self, cohort) -> list[Person]:
        return await self.bot.chat.roster(cohort) or []

    @app_commands.command(name="round", description="A round at a glance (default: the latest)")
    @app_commands.describe(cohort="The cohort", round="Round number")
    @app_commands.autocomplete(cohort=cohort_name_autocomplete)
    async def round_(
        self,
        interaction: discord.Interaction,
        cohort: str,
        round: app_commands.Range[int, 1] | None = None,
    ) -> None:
        found = await facilitated_cohort(interaction, cohort)
        summary = await reports.round_summary(
            self.bot.db, found, await self._roster(found), round, now=now()
        )
        card, table = render.round_embed(summary)
        files = [table] if table else []
        await interaction.response.send_message(embed=card, files=files, ephemeral=True)

    @app_commands.command(name="member", description="One member across every round")
    @app_commands.describe(cohort="The cohort", member="The member")
    @app_commands.autocomplete(cohort=cohort_name_autocomplete)
    async def member(
        self, interaction: discord.Interaction, cohort: str, member: discord.Member
    ) -> None:
        found = await facilitated_cohort(interaction, cohort)
        person = Person(member.id, member.display_name)
        summary = await reports.member_report(
            self.bot.db, found, await self._roster(found), person, now()
        )
        await interaction.response.send_message(
            embed=render.member_embed(found.name, summary), ephemeral=True
        )

    @app_commands.command(
        name="export", description="Reflections and feedback, or who took part, as CSV"
    )
    @app_commands.describe(
        cohort="The cohort",
        include_text="Include what members wrote (default: figures only; posts export only)",
        kind="Posts: each reflection and feedback (default) · "
        "Participation: every member in every round",
    )
    @app_commands.choices(kind=EXPORT_KINDS)
    @app_commands.autocomplete(cohort=cohort_name_autocomplete)
    async def export(
        self,
        interaction: discord.Interaction,
        cohort: str,
        include_text: bool = False,
        kind: app_commands.Choice[str] | None = None,
    ) -> None:
        found = await facilitated_cohort(interaction, cohort)
        await interaction.response.defer(ephemeral=True, thinking=True)
        roster = await self._roster(found)
        if kind is not None and kind.value == "participation":
            history = await reports.load_history(self.bot.db, found, roster, now=now())
            data = await asyncio.to_thread(reports.participation_csv, history)
            file: BinaryIO = io.BytesIO(data)
            filename = f"{reports.file_slug(found.name)}-participation.csv"
            note = " Text isn't part of this export." if include_text else ""
        else:
            names = {p.id: p.name for p in roster}
            file = await reports.export_csv_file(
                self.bot.db, found, names, include_text=include_text
            )
            filename = (
                f"{reports.file_slug(found.name)}-{'texts' if include_text else 'figures'}.csv"
            )
            note = (
                " It contains members' own words: store it as carefully as case notes."
                if include_text
                else ""
            )
        with file:  # streamed to Discord from the file, then closed
            await interaction.followup.send(
                "Here is the export. It is UTF-8 CSV with times in the cohort's timezone; ids "
                "start with # so spreadsheets keep every digit." + note,
                file=discord.File(file, filename=filename),
                ephemeral=True,
            )

    @app_commands.command(name="chart", description="A participation heatmap, members × rounds")
    @app_commands.describe(cohort="The cohort")
    @app_commands.autocomplete(cohort=cohort_name_autocomplete)
    async def chart(self, interaction: discord.Interaction, cohort: str) -> None:
        found = await facilitated_cohort(interaction, cohort)
        await interaction.response.defer(ephemeral=True, thinking=True)
        png = await reports.participation_chart(
            self.bot.db, found, await self._roster(found), now=now()
        )
        await interaction.followup.send(
            file=discord.File(
                io.BytesIO(png), filename=f"{reports.file_slug(found.name)}-participation.png"
            ),
            ephemeral=True,
        )


async def setup(bot: commands.Bot) -> None:
    await bot.add_cog(ReportCommands(bot))
