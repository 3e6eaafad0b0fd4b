"""``/prompt``: facilitators manage each cohort's prompt bank and can start a round now."""

from __future__ import annotations

import discord
from discord import app_commands
from discord.ext import commands

from bot.core import bank, limits, rounds
from bot.core.cohorts import Cohort
from bot.core.errors import InvalidInput
from bot.core.prompt_import import TOO_LARGE, derive_title
from bot.core.prompts import DEFAULT_STRUCTURE, PromptDraft
from bot.discord.embeds import Tone, embed
from cogs._common import cohort_name_autocomplete, facilitated_cohort, now


class PromptModal(discord.ui.Modal, title="Add a prompt"):
    """For prompts too long or too structured for a slash-command option."""

    prompt_title = discord.ui.TextInput(
        label="Title", custom_id="title", max_length=limits.MAX_PROMPT_TITLE_CHARS, required=False
    )
    text = discord.ui.TextInput(
        label="Prompt",
        custom_id="text",
        style=discord.TextStyle.paragraph,
        max_length=limits.MAX_PROMPT_TEXT_CHARS,
    )
    structure = discord.ui.TextInput(
        label="Headings for the reflection, one per line",
        custom_id="structure",
        style=discord.TextStyle.paragraph,
        required=False,
        max_length=limits.MAX_STRUCTURE_SECTIONS * (limits.MAX_SECTION_LABEL_CHARS + 1),
        placeholder="\n".join(DEFAULT_STRUCTURE),
    )

    def __init__(self, cohort: Cohort) -> None:
        super().__init__()
        self.cohort = cohort

    async def on_submit(self, interaction: discord.Interaction) -> None:
        headings = tuple(h.strip() for h in self.structure.value.splitlines() if h.strip())
        draft = _draft(self.text.value, self.prompt_title.value, headings or DEFAULT_STRUCTURE)
        position = await bank.add_prompt(interaction.client.db, self.cohort, draft, now())
        await interaction.response.send_message(
            _added(self.cohort, draft, position), ephemeral=True
        )

    async def on_error(self, interaction: discord.Interaction, error: Exception) -> None:
        await interaction.client.tree.on_error(interaction, error)


def _draft(text: str, title: str | None, structure: tuple[str, ...]) -> PromptDraft:
    text = text.strip()
    return PromptDraft(title=(title or "").strip() or derive_title(text), text=text,
                       structure=structure)  # fmt: skip


def _added(cohort: Cohort, draft: PromptDraft, position: int) -> str:
    return f"Added prompt {position} to **{cohort.name}**: “{draft.title}”."


def _post_reply(round_: rounds.Round, fresh: bool) -> str:
    """``/prompt post``'s answer; ``fresh`` is False when a round had just opened anyway."""
    if round_.state == "posted":
        where = f"in <#{round_.thread_id}>"
        if fresh:
            return f"Round {round_.number} (“{round_.title}”) is open {where}."
        return (
            f"Round {round_.number} (“{round_.title}”) just opened, so I didn't start another: "
            f"it's {where}. To open one more round after it, run `/prompt post` again in a "
            "few minutes."
        )
    reason = round_.failure or "it is still being posted"
    if fresh:
        return (
            f"I claimed round {round_.number} but couldn't post it yet ({reason}). "
            "I'll keep trying; `/cohort show` tells you how it goes."
        )
    return (
        f"Round {round_.number} just opened, so I didn't start another. It isn't posted yet "
        f"({reason}); I'll keep trying, and `/cohort show` tells you how it goes."
    )


@app_commands.guild_only()
@app_commands.default_permissions(manage_guild=True)
class PromptCommands(commands.GroupCog, group_name="prompt"):
    """Manage a cohort's prompt bank."""

    def __init__(self, bot: commands.Bot) -> None:
        self.bot = bot
        super().__init__()

    @app_commands.command(name="add", description="Add a prompt (leave text empty for a form)")
    @app_commands.describe(cohort="The cohort", text="The prompt", title="A short title")
    @app_commands.autocomplete(cohort=cohort_name_autocomplete)
    async def add(
        self,
        interaction: discord.Interaction,
        cohort: str,
        text: str | None = None,
        title: str | None = None,
    ) -> None:
        found = await facilitated_cohort(interaction, cohort)
        if text is None:
            await interaction.response.send_modal(PromptModal(found))
            return
        draft = _draft(text, title, DEFAULT_STRUCTURE)
        position = await bank.add_prompt(self.bot.db, found, draft, now())
        await interaction.response.send_message(_added(found, draft, position), ephemeral=True)

    @app_commands.command(name="list", description="The cohort's prompt bank, in order")
    @app_commands.describe(cohort="The cohort", page="Page number")
    @app_commands.autocomplete(cohort=cohort_name_autocomplete)
    async def list_(
        self, interaction: discord.Interaction, cohort: str, page: app_commands.Range[int, 1] = 1
    ) -> None:
        found = await facilitated_cohort(interaction, cohort)
        listing = await bank.list_prompts(self.bot.db, found, page)
        lines = [
            f"**{p.position}.** {p.title} — {p.text[:90].splitlines()[0]}…"
            if len(p.text) > 90
            else f"**{p.position}.** {p.title} — {p.text.splitlines()[0]}"
            for p in listing.prompts
        ]
        card = embed(
            f"{found.name} · prompt bank",
            "\n".join(lines) or "The bank is empty. Add prompts with `/prompt add`.",
            footer=f"Page {listing.page} of {listing.pages} · {listing.total} prompts",
        )
        await interaction.response.send_message(embed=card, ephemeral=True)

    @app_commands.command(name="remove", description="Remove a prompt from the bank")
    @app_commands.describe(cohort="The cohort", number="The prompt's number in /prompt list")
    @app_commands.autocomplete(cohort=cohort_name_autocomplete)
    async def remove(
        self, interaction: discord.Interaction, cohort: str, number: app_commands.Range[int, 1]
    ) -> None:
        found = await facilitated_cohort(interaction, cohort)
        removed = await bank.remove_prompt(self.bot.db, found, number)
        await interaction.response.send_message(
            f"Removed prompt {number} (“{removed.title}”) from **{found.name}**.", ephemeral=True
        )

    @app_commands.command(name="move", description="Move a prompt to another place in the bank")
    @app_commands.describe(
        cohort="The cohort", number="The prompt's number now", position="Where it should go"
    )
    @app_commands.autocomplete(cohort=cohort_name_autocomplete)
    async def move(
        self,
        interaction: discord.Interaction,
        cohort: str,
        number: app_commands.Range[int, 1],
        position: app_commands.Range[int, 1],
    ) -> None:
        found = await facilitated_cohort(interaction, cohort)
        moved = await bank.move_prompt(self.bot.db, found, number, position)
        await interaction.response.send_message(
            f"Moved “{moved.title}” to position {position} in **{found.name}**.", ephemeral=True
        )

    @app_commands.command(name="import", description="Add prompts from a .txt, .md or .csv file")
    @app_commands.describe(
        cohort="The cohort",
        file="Prompts separated by a line with --- (txt/md), or a CSV with title,text columns",
    )
    @app_commands.autocomplete(cohort=cohort_name_autocomplete)
    async def import_(
        self, interaction: discord.Interaction, cohort: str, file: discord.Attachment
    ) -> None:
        found = await facilitated_cohort(interaction, cohort)
        if file.size > limits.MAX_IMPORT_BYTES:
            raise InvalidInput(f"I couldn't import {file.filename}: {TOO_LARGE}.")
        data = await file.read()
        result = await bank.import_prompts(self.bot.db, found, file.filename, data, now())
        lines = [f"Added **{len(result.drafts)}** prompt(s) to **{found.name}**."]
        if result.rejected:
            lines.append(f"Not added ({len(result.rejected)}):")
            lines += [
                f"• {'line ' + str(r.line) + ': ' if r.line else ''}{r.reason}"
                for r in result.rejected[:15]
            ]
            if len(result.rejected) > 15:
                lines.append(f"…and {len(result.rejected) - 15} more.")
        tone = Tone.SUCCESS if not result.rejected else Tone.WARNING
        await interaction.response.send_message(
            embed=embed("Prompt import", "\n".join(lines)[:4000], tone=tone), ephemeral=True
        )

    @app_commands.command(name="post", description="Start a round now with the next prompt")
    @app_commands.describe(cohort="The cohort")
    @app_commands.autocomplete(cohort=cohort_name_autocomplete)
    async def post(self, interaction: discord.Interaction, cohort: str) -> None:
        found = await facilitated_cohort(interaction, cohort)
        await interaction.response.defer(ephemeral=True, thinking=True)
        started = await rounds.start_round_now(self.bot.db, found, now())
        await self.bot.tick(now())
        current = await rounds.get_round(self.bot.db, started.round.id) or started.round
        await interaction.followup.send(_post_reply(current, started.fresh), ephemeral=True)


async def setup(bot: commands.Bot) -> None:
    await bot.add_cog(PromptCommands(bot))
