"""``/cohort``: facilitators set cohorts up and look after their schedules."""

from __future__ import annotations

from typing import Any

import discord
from discord import app_commands
from discord.ext import commands

from bot.core import cohorts, notices, nudges, reflections, rounds
from bot.core.cohorts import WEEKDAYS, Cohort
from bot.core.errors import InvalidInput
from bot.discord.checks import (
    describe_permissions,
    is_facilitator,
    missing_post_permissions,
    require_facilitator,
    require_private_digest_channel,
    require_user_can_post,
)
from bot.discord.embeds import Tone, embed, local_when, when
from bot.discord.views import Confirm
from cogs._common import cohort_name_autocomplete, facilitated_cohort, now, timezone_autocomplete

WEEKDAY_CHOICES = [app_commands.Choice(name=day.capitalize(), value=day) for day in WEEKDAYS]

OPTION_HELP = {
    "timezone": "IANA timezone for the schedule, e.g. Europe/London (default UTC)",
    "weekday": "Day the weekly prompt is posted (default Monday)",
    "time": "Local posting time, HH:MM on a 24-hour clock (default 09:00)",
    "every_weeks": "Post a round every this many weeks (default 1)",
    "reflect_hours": "Hours after the round opens that reflections are due (default 72)",
    "feedback_hours": "Hours after the round opens that feedback is due (default 144)",
    "feedback_required": "How many peers each member responds to (default 2)",
    "min_words": "Words a reflection needs to count (default 0)",
    "feedback_min_words": "Words peer feedback needs to count (default 0)",
    "reflect_nudge_hours": "Remind about reflections this many hours before they are due (0 = off)",
    "last_call": "Send a last call at the reflection deadline (default on)",
    "feedback_nudge_hours": "Remind about feedback this many hours before it is due (0 = off)",
    "anonymous_feedback": 'Post "Give feedback" as "Peer 1", "Peer 2"… (default off)',
    "quiet_start": "No nudges from this local time (default 21:00)",
    "quiet_end": "…until this local time (default 08:00)",
    "retention_days": "Delete stored texts of posts after this many days (0 = keep; counts stay)",
}
Hours = app_commands.Range[int, 1, 1344]
CLEAR_CHOICES = [
    app_commands.Choice(name="digest channel (send digests by DM)", value="digest_channel"),
    app_commands.Choice(name="facilitator role", value="facilitator_role"),
]


def _check_channel(interaction: discord.Interaction, channel: discord.TextChannel | None) -> None:
    """The rounds channel: the facilitator and Praxis must both be able to post there."""
    if channel is None:
        return
    require_user_can_post(interaction.user, channel)
    missing = missing_post_permissions(channel)
    if missing:
        raise InvalidInput(
            f"I can't run rounds in {channel.mention}: I'm missing "
            f"{describe_permissions(missing)} there. Give my role those permissions, or pick "
            "another channel."
        )


def _check_digest_channel(
    interaction: discord.Interaction,
    cohort: Cohort,
    channel: discord.TextChannel | None,
    members: discord.Role | None,
) -> None:
    """The digest channel in force after an edit, against the member role in force after it.

    A new member role re-checks the digest channel already set: the new role may read it.
    """
    if channel is not None:
        require_user_can_post(interaction.user, channel)
        granted = channel.permissions_for(channel.guild.me)
        if not (granted.view_channel and granted.send_messages and granted.attach_files):
            raise InvalidInput(
                f"I can't post digests in {channel.mention}: I need View Channel, Send Messages "
                "and Attach Files there."
            )
    elif members is not None and cohort.digest_channel_id is not None:
        channel = interaction.guild.get_channel(cohort.digest_channel_id)
    if isinstance(channel, discord.TextChannel):
        role = members or interaction.guild.get_role(cohort.member_role_id)
        require_private_digest_channel(channel, role)


def _schedule_line(cohort: Cohort) -> str:
    every = "Every" if cohort.every_weeks == 1 else f"Every {cohort.every_weeks} weeks on"
    return f"{every} {cohort.weekday_name} at {cohort.post_time} ({cohort.timezone})"


async def cohort_card(interaction: discord.Interaction, cohort: Cohort) -> discord.Embed:
    """Settings, the next opening, upcoming skips, recent rounds and anything wrong."""
    db, moment = interaction.client.db, now()
    skips = await rounds.upcoming_skips(db, cohort, moment)
    opening = await rounds.next_opening(db, cohort, moment)
    card = embed(
        cohort.name,
        f"Rounds are posted in <#{cohort.channel_id}> for <@&{cohort.member_role_id}>.",
        tone=Tone.WARNING if cohort.paused else Tone.INFO,
    )
    card.add_field(name="Schedule", value=_schedule_line(cohort), inline=False)
    card.add_field(
        name="Next round",
        value="Paused — `/cohort resume` to restart" if opening is None else when(opening.at),
        inline=False,
    )
    card.add_field(
        name="Windows",
        value=f"Reflections {cohort.reflect_hours} h · feedback {cohort.feedback_hours} h "
        "after the round opens",
    )
    card.add_field(
        name="Expectations",
        value=f"{cohort.feedback_required} peer responses · reflections of "
        f"{cohort.min_words}+ words · feedback of {cohort.feedback_min_words}+ words",
    )
    facilitators = f"<@&{cohort.facilitator_role_id}>" if cohort.facilitator_role_id else "—"
    card.add_field(name="Facilitator role", value=facilitators)
    digests = f"<#{cohort.digest_channel_id}>" if cohort.digest_channel_id else "by DM"
    card.add_field(name="Digests", value=digests)
    keep = f"{cohort.retention_days} days" if cohort.retention_days else "until deleted"
    card.add_field(name="Texts kept", value=keep)
    guide = " | ".join(cohort.feedback_headings) or "free text"
    card.add_field(name="Feedback guide", value=guide, inline=False)
    given_as = "as “Peer N” (anonymous)" if cohort.anonymous_feedback else "under the giver's name"
    card.add_field(name="Give feedback posts", value=given_as, inline=False)
    if skips:
        card.add_field(
            name="Skipped dates", value=", ".join(f"{d:%a %d %b %Y}" for d in skips), inline=False
        )
    recent = await rounds.recent_rounds(db, cohort, limit=3)
    if recent:
        card.add_field(
            name="Recent rounds",
            value="\n".join(_round_line(r) for r in recent),
            inline=False,
        )
    recent_notices = await notices.recent(db, cohort.id, limit=3)
    if recent_notices:
        card.add_field(name="Recent notices", value="\n".join(recent_notices)[:1024], inline=False)
    if not interaction.client.intents.message_content:
        card.add_field(
            name="Heads-up",
            value="The Message Content intent is off, so I'm not reading reflections posted as "
            "thread messages. The reflection form still works.",
            inline=False,
        )
    return card


def _opening_sentence(cohort: Cohort, opening: rounds.Opening | None, restarted: bool) -> str:
    """When the next round opens, on the cohort's clock, and why it waits if it does."""
    if opening is None:
        return "It's paused: no round opens until you `/cohort resume` it." if cohort.paused else ""
    sentence = f"the next round opens {local_when(opening.at, cohort.timezone)}."
    if restarted and opening.waits_for is not None:
        return (
            f"Round {opening.waits_for} is still running, so the next one waits until its "
            f"feedback window has closed: {sentence}"
        )
    return sentence[0].upper() + sentence[1:]


def _round_line(round_: rounds.Round) -> str:
    states = {
        "claimed": "being posted",
        "posted": "open",
        "closed": "closed",
        "missed": "missed",
        "failed": "⚠️ not posted yet",
    }
    line = f"Round {round_.number} · {round_.title or '—'} · {states[round_.state]}"
    if round_.state in ("failed", "missed") and round_.failure:
        line += f" ({round_.failure})"
    return line[:300]


def confirm_delete(author_id: int, cohort: Cohort) -> Confirm:
    async def delete(interaction: discord.Interaction) -> None:
        current = await cohorts.get_cohort_by_id(interaction.client.db, cohort.id)
        if current is not None:
            await cohorts.delete_cohort(interaction.client.db, current)
        await interaction.response.edit_message(
            content=f"Deleted **{cohort.name}** and everything Praxis stored for it.",
            embed=None,
            view=None,
        )

    return Confirm(
        author_id,
        confirm_label="Delete cohort and its records",
        keep_label="Keep it",
        kept_text=f"Kept **{cohort.name}**. Nothing was deleted.",
        on_confirm=delete,
    )


@app_commands.guild_only()
@app_commands.default_permissions(manage_guild=True)
class CohortCommands(commands.GroupCog, group_name="cohort"):
    """Set up and look after cohorts."""

    def __init__(self, bot: commands.Bot) -> None:
        self.bot = bot
        super().__init__()

    @app_commands.command(name="create", description="Set up a new cohort and its weekly rounds")
    @app_commands.describe(
        name="A name for the cohort, unique in this server",
        channel="Channel where the weekly prompts are posted",
        members="Role held by the cohort's learners",
        facilitators="Role whose holders may manage this cohort",
        **OPTION_HELP,
    )
    @app_commands.choices(weekday=WEEKDAY_CHOICES)
    @app_commands.autocomplete(timezone=timezone_autocomplete)
    async def create(
        self,
        interaction: discord.Interaction,
        name: app_commands.Range[str, 1, 50],
        channel: discord.TextChannel,
        members: discord.Role,
        facilitators: discord.Role | None = None,
        timezone: str | None = None,
        weekday: app_commands.Choice[str] | None = None,
        time: str | None = None,
        every_weeks: app_commands.Range[int, 1, 8] | None = None,
        reflect_hours: Hours | None = None,
        feedback_hours: Hours | None = None,
        feedback_required: app_commands.Range[int, 0, 5] | None = None,
        min_words: app_commands.Range[int, 0, 2000] | None = None,
        feedback_min_words: app_commands.Range[int, 0, 2000] | None = None,
        reflect_nudge_hours: app_commands.Range[int, 0, 168] | None = None,
        last_call: bool | None = None,
        feedback_nudge_hours: app_commands.Range[int, 0, 168] | None = None,
        anonymous_feedback: bool | None = None,
        quiet_start: str | None = None,
        quiet_end: str | None = None,
        retention_days: app_commands.Range[int, 0, 3650] | None = None,
    ) -> None:
        require_facilitator(interaction)
        _check_channel(interaction, channel)
        cohort = await cohorts.create_cohort(
            self.bot.db,
            guild_id=interaction.guild_id,
            name=name,
            channel_id=channel.id,
            member_role_id=members.id,
            facilitator_role_id=facilitators.id if facilitators else None,
            options=_options(locals()),
            now=now(),
        )
        await self.bot.schedule_changed(now())
        await interaction.response.send_message(
            f"Created **{cohort.name}**. Its prompt bank starts with Praxis's default prompts.",
            embed=await cohort_card(interaction, cohort),
            ephemeral=True,
        )

    @app_commands.command(name="edit", description="Change a cohort's settings")
    @app_commands.describe(
        name="The cohort to change",
        new_name="A new name for the cohort",
        digest_channel="Facilitators' channel for each round's digest (default: by DM)",
        channel="Channel where the weekly prompts are posted",
        members="Role held by the cohort's learners",
        facilitators="Role whose holders may manage this cohort",
        clear="Remove a setting: the digest channel (digests go by DM) or the facilitator role",
        feedback_guide='Feedback form questions split by "|"; "default" or "none" (free text)',
        private_reflections="Let members send a reflection to facilitators only (default on)",
        **OPTION_HELP,
    )
    @app_commands.choices(weekday=WEEKDAY_CHOICES, clear=CLEAR_CHOICES)
    @app_commands.autocomplete(name=cohort_name_autocomplete, timezone=timezone_autocomplete)
    async def edit(
        self,
        interaction: discord.Interaction,
        name: str,
        new_name: app_commands.Range[str, 1, 50] | None = None,
        channel: discord.TextChannel | None = None,
        digest_channel: discord.TextChannel | None = None,
        members: discord.Role | None = None,
        facilitators: discord.Role | None = None,
        timezone: str | None = None,
        weekday: app_commands.Choice[str] | None = None,
        time: str | None = None,
        every_weeks: app_commands.Range[int, 1, 8] | None = None,
        reflect_hours: Hours | None = None,
        feedback_hours: Hours | None = None,
        feedback_required: app_commands.Range[int, 0, 5] | None = None,
        min_words: app_commands.Range[int, 0, 2000] | None = None,
        feedback_min_words: app_commands.Range[int, 0, 2000] | None = None,
        reflect_nudge_hours: app_commands.Range[int, 0, 168] | None = None,
        last_call: bool | None = None,
        feedback_nudge_hours: app_commands.Range[int, 0, 168] | None = None,
        anonymous_feedback: bool | None = None,
        quiet_start: str | None = None,
        quiet_end: str | None = None,
        retention_days: app_commands.Range[int, 0, 3650] | None = None,
        clear: app_commands.Choice[str] | None = None,
        feedback_guide: app_commands.Range[str, 1, 300] | None = None,
        private_reflections: bool | None = None,
    ) -> None:
        cohort = await facilitated_cohort(interaction, name)
        cleared = (clear.value,) if clear else ()
        if "facilitator_role" in cleared and not interaction.user.guild_permissions.manage_guild:
            raise InvalidInput(
                "Clearing the facilitator role would leave you unable to manage "
                f"**{cohort.name}**, as you don't have Manage Server. Ask someone who has it."
            )
        _check_channel(interaction, channel)
        _check_digest_channel(interaction, cohort, digest_channel, members)
        changes = _options(locals())
        changes.update(
            name=new_name,
            channel_id=channel.id if channel else None,
            member_role_id=members.id if members else None,
            facilitator_role_id=facilitators.id if facilitators else None,
            digest_channel_id=digest_channel.id if digest_channel else None,
            feedback_guide=feedback_guide,
            private_reflections=private_reflections,
        )
        if all(value is None for value in changes.values()) and not cleared:
            raise InvalidInput("Nothing to change: pick at least one option to edit.")
        updated = await cohorts.edit_cohort(
            self.bot.db, cohort, changes=changes, clear=cleared, now=now()
        )
        await self.bot.schedule_changed(now())
        opening = await rounds.next_opening(self.bot.db, updated, now())
        restarted = updated.schedule_from != cohort.schedule_from
        await interaction.response.send_message(
            f"Updated **{updated.name}**. {_opening_sentence(updated, opening, restarted)}".strip(),
            embed=await cohort_card(interaction, updated),
            ephemeral=True,
        )

    @app_commands.command(name="show", description="A cohort's settings and next round")
    @app_commands.autocomplete(name=cohort_name_autocomplete)
    async def show(self, interaction: discord.Interaction, name: str) -> None:
        cohort = await facilitated_cohort(interaction, name)
        await interaction.response.send_message(
            embed=await cohort_card(interaction, cohort), ephemeral=True
        )

    @app_commands.command(name="list", description="Cohorts in this server")
    async def list_(self, interaction: discord.Interaction) -> None:
        found = await cohorts.list_cohorts(self.bot.db, interaction.guild_id)
        mine = [c for c in found if is_facilitator(interaction.user, c)]
        if not mine:
            await interaction.response.send_message(
                "There are no cohorts you facilitate here yet. Start one with `/cohort create`.",
                ephemeral=True,
            )
            return
        lines = [
            f"**{c.name}** · <#{c.channel_id}> · {_schedule_line(c)}"
            + (" · ⏸️ paused" if c.paused else "")
            for c in mine
        ]
        await interaction.response.send_message(
            embed=embed("Cohorts", "\n".join(lines)), ephemeral=True
        )

    @app_commands.command(name="pause", description="Stop posting new rounds for a cohort")
    @app_commands.autocomplete(name=cohort_name_autocomplete)
    async def pause(self, interaction: discord.Interaction, name: str) -> None:
        cohort = await facilitated_cohort(interaction, name)
        await cohorts.set_paused(self.bot.db, cohort, paused=True, now=now())
        await interaction.response.send_message(
            f"Paused **{cohort.name}**: no new rounds will be posted until you "
            "`/cohort resume` it. Open rounds carry on.",
            ephemeral=True,
        )

    @app_commands.command(name="resume", description="Start posting rounds for a cohort again")
    @app_commands.autocomplete(name=cohort_name_autocomplete)
    async def resume(self, interaction: discord.Interaction, name: str) -> None:
        cohort = await facilitated_cohort(interaction, name)
        resumed = await cohorts.set_paused(self.bot.db, cohort, paused=False, now=now())
        await self.bot.schedule_changed(now())
        opening = await rounds.next_opening(self.bot.db, resumed, now())
        await interaction.response.send_message(
            f"Resumed **{cohort.name}**. {_opening_sentence(resumed, opening, True)}".strip(),
            ephemeral=True,
        )

    @app_commands.command(name="delete", description="Delete a cohort and its records")
    @app_commands.autocomplete(name=cohort_name_autocomplete)
    async def delete(self, interaction: discord.Interaction, name: str) -> None:
        cohort = await facilitated_cohort(interaction, name)
        await interaction.response.send_message(
            f"Delete **{cohort.name}**? This removes its settings, prompt bank, rounds and every "
            "reflection and feedback text stored for it. Messages already in Discord stay.",
            view=confirm_delete(interaction.user.id, cohort),
            ephemeral=True,
        )

    @app_commands.command(name="skip", description="Skip the round that would open on a date")
    @app_commands.describe(name="The cohort", date="The date to skip, YYYY-MM-DD (cohort's time)")
    @app_commands.autocomplete(name=cohort_name_autocomplete)
    async def skip(self, interaction: discord.Interaction, name: str, date: str) -> None:
        cohort = await facilitated_cohort(interaction, name)
        day = await rounds.skip_date(self.bot.db, cohort, date, now())
        await self.bot.schedule_changed(now())
        await interaction.response.send_message(
            f"No round for **{cohort.name}** on {day:%A %d %B %Y}. `/cohort unskip` puts it back.",
            ephemeral=True,
        )

    @app_commands.command(name="unskip", description="Put a skipped round back on the schedule")
    @app_commands.describe(name="The cohort", date="The skipped date, YYYY-MM-DD")
    @app_commands.autocomplete(name=cohort_name_autocomplete)
    async def unskip(self, interaction: discord.Interaction, name: str, date: str) -> None:
        cohort = await facilitated_cohort(interaction, name)
        day = await rounds.unskip_date(self.bot.db, cohort, date, now())
        await self.bot.schedule_changed(now())
        await interaction.response.send_message(
            f"The round on {day:%A %d %B %Y} is back on **{cohort.name}**'s schedule.",
            ephemeral=True,
        )

    @app_commands.command(name="excuse", description="Excuse a member from a round")
    @app_commands.describe(
        name="The cohort", member="Who is excused", round="Round number (default: the current one)"
    )
    @app_commands.autocomplete(name=cohort_name_autocomplete)
    async def excuse(
        self,
        interaction: discord.Interaction,
        name: str,
        member: discord.Member,
        round: app_commands.Range[int, 1] | None = None,
    ) -> None:
        cohort = await facilitated_cohort(interaction, name)
        ctx = await reflections.context_by_number(self.bot.db, cohort, round)
        added = await nudges.excuse(self.bot.db, ctx, member.id, interaction.user.id, now())
        verb = "is now excused" if added else "was already excused"
        await interaction.response.send_message(
            f"{member.mention} {verb} from round {ctx.round.number} of **{cohort.name}**: no "
            "nudges, and reports will show them as excused.",
            ephemeral=True,
        )


def _options(given: dict[str, Any]) -> dict[str, Any]:
    """The schedule options a command received, with choices reduced to their values."""
    values = {key: given.get(key) for key in cohorts.OPTIONS}
    if isinstance(values.get("weekday"), app_commands.Choice):
        values["weekday"] = values["weekday"].value
    return values


async def setup(bot: commands.Bot) -> None:
    await bot.add_cog(CohortCommands(bot))
