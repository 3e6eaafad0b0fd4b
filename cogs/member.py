"""``/me``: a member's own view of their progress (and, later, their data and settings)."""

from __future__ import annotations

import contextlib
import io

import discord
from discord import app_commands
from discord.ext import commands

from bot.core import cohorts, nudges, portfolio, privacy_rights, ratings, reflections, reports
from bot.core.ports import Person
from bot.core.reflections import Role
from bot.core.wording import progress_lines
from bot.discord import reflections as glue
from bot.discord.chat import MARKUP
from bot.discord.embeds import Tone, embed
from bot.discord.views import Confirm
from cogs._common import now

FORGET_WARNING = (
    "This deletes, for this server: the text of everything you wrote in rounds (reflections, "
    "feedback, comments), the reflections Praxis posted for you from the form, your settings "
    "and your feedback pairs, also from the database files on disk. Facilitators keep only "
    "anonymous counts (a round's totals, reminders sent, excusals), which no longer say who "
    "wrote what. Messages you typed yourself in threads stay in Discord: delete those there "
    "if you wish. "
    "This can't be undone."
)


async def forget(interaction: discord.Interaction) -> None:
    """Confirmed: delete the member's data, and the bot's copies of their form posts."""
    await interaction.response.defer(ephemeral=True, thinking=True)
    gone = await privacy_rights.forget(
        interaction.client.db, interaction.guild_id, interaction.user.id, now()
    )
    for thread_id, message_id in gone.form_messages:
        channel = interaction.client.get_partial_messageable(thread_id)
        with contextlib.suppress(discord.HTTPException):
            await channel.get_partial_message(message_id).delete()
    disk = (
        "No copy is left in Praxis's database files."
        if gone.scrubbed
        else "The database files are busy right now, so the last copies on disk are cleared "
        "within a few minutes."
    )
    await interaction.followup.send(
        f"Done. I removed your texts ({gone.rows} stored messages) and settings here. {disk}",
        ephemeral=True,
    )


@app_commands.guild_only()
class MemberCommands(commands.GroupCog, group_name="me"):
    """Your own progress and settings."""

    def __init__(self, bot: commands.Bot) -> None:
        self.bot = bot
        super().__init__()

    @app_commands.command(name="nudges", description="Turn Praxis's private reminders on or off")
    @app_commands.describe(setting="on or off (for this server)")
    @app_commands.choices(
        setting=[
            app_commands.Choice(name="on", value="on"),
            app_commands.Choice(name="off", value="off"),
        ]
    )
    async def nudges_(
        self, interaction: discord.Interaction, setting: app_commands.Choice[str]
    ) -> None:
        on = setting.value == "on"
        await nudges.set_nudges(self.bot.db, interaction.guild_id, interaction.user.id, on, now())
        text = (
            "Reminders are on: I'll send you a short private note when something is due."
            if on
            else "Reminders are off for this server. `/me nudges on` brings them back."
        )
        await interaction.response.send_message(text, ephemeral=True)

    @app_commands.command(name="export", description="Download everything Praxis holds about you")
    async def export(self, interaction: discord.Interaction) -> None:
        data = await privacy_rights.export(
            self.bot.db, interaction.guild_id, interaction.user.id, now()
        )
        await interaction.response.send_message(
            "Here is everything Praxis stores about you in this server.",
            file=discord.File(io.BytesIO(data), filename="praxis-my-data.json"),
            ephemeral=True,
        )

    @app_commands.command(
        name="portfolio", description="Your reflective practice record, as a printable page"
    )
    async def portfolio_(self, interaction: discord.Interaction) -> None:
        await interaction.response.defer(ephemeral=True, thinking=True)
        found = await cohorts.list_cohorts(self.bot.db, interaction.guild_id)
        mine = [c.id for c in found if glue.author_of(interaction.user, c).role is Role.MEMBER]
        data = await portfolio.portfolio(
            self.bot.db,
            interaction.guild_id,
            interaction.user.id,
            mine,
            member_name=interaction.user.display_name,
            place=interaction.guild.name,
            now=now(),
        )
        await interaction.followup.send(
            "Here is your portfolio: open it in a browser, and print it or save it as a PDF.",
            file=discord.File(io.BytesIO(data), filename=portfolio.FILENAME),
            ephemeral=True,
        )

    @app_commands.command(name="forget", description="Delete your texts and settings here")
    async def forget(self, interaction: discord.Interaction) -> None:
        await interaction.response.send_message(
            FORGET_WARNING,
            view=Confirm(
                interaction.user.id,
                confirm_label="Delete my data",
                keep_label="Keep my data",
                kept_text="Nothing was deleted.",
                on_confirm=forget,
            ),
            ephemeral=True,
        )

    @app_commands.command(name="progress", description="Your reflection and feedback this round")
    async def progress(self, interaction: discord.Interaction) -> None:
        db = self.bot.db
        sections = []
        for cohort in await cohorts.list_cohorts(db, interaction.guild_id):
            if glue.author_of(interaction.user, cohort).role is not Role.MEMBER:
                continue
            ctx = await reflections.current_context(db, cohort)
            if ctx is None:
                sections.append(f"**{cohort.name}**: no round has opened yet.")
                continue
            mine = await reflections.member_progress(db, ctx, interaction.user.id)
            me = Person(interaction.user.id, interaction.user.display_name)
            record = await reports.member_report(db, cohort, [], me, now())
            rated = await ratings.member_line(db, cohort.id, ctx.round.id, me.id)
            sections.append(
                f"__{cohort.name}__\n{progress_lines(ctx.round, mine, now(), MARKUP)}\n"
                f"🔥 Streak: {record.streak} round(s) · rounds completed: {record.completed} "
                f"of {len(record.per_round)}{rated}"
            )
        text = "\n\n".join(sections) or "You aren't in a cohort in this server."
        await interaction.response.send_message(
            embed=embed("Your progress", text[:4000], tone=Tone.INFO), ephemeral=True
        )


async def setup(bot: commands.Bot) -> None:
    await bot.add_cog(MemberCommands(bot))
