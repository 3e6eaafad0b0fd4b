"""Custom ids shared by whoever renders a component and whoever handles its clicks.

The round id inside a button's custom id is what makes the button work after a
restart (discord.py's dynamic items match it by pattern) and is also the marker the
bot looks for when checking whether a round's prompt was already posted.
"""

from __future__ import annotations

import discord

REFLECT_PATTERN = r"praxis:reflect:(?P<round_id>[0-9]+)"


def reflect_custom_id(round_id: int) -> str:
    return f"praxis:reflect:{round_id}"


def reflect_button(round_id: int) -> discord.ui.Button:
    return discord.ui.Button(
        label="Write reflection",
        emoji="📝",
        style=discord.ButtonStyle.primary,
        custom_id=reflect_custom_id(round_id),
    )


def has_component(message: discord.Message, custom_id: str) -> bool:
    return any(
        getattr(child, "custom_id", None) == custom_id
        for row in message.components
        for child in getattr(row, "children", [row])
    )


class Confirm(discord.ui.View):
    """Asks once more before something that can't be undone.

    Only the person who asked can answer. ``on_confirm`` does the work and answers the
    button's interaction itself; "keep" just says nothing changed.
    """

    def __init__(
        self, author_id: int, *, confirm_label: str, keep_label: str, kept_text: str, on_confirm
    ) -> None:
        super().__init__(timeout=120)
        self.author_id = author_id
        self._on_confirm = on_confirm
        self._kept_text = kept_text
        for label, style, callback in (
            (confirm_label, discord.ButtonStyle.danger, self._confirm),
            (keep_label, discord.ButtonStyle.secondary, self._keep),
        ):
            button = discord.ui.Button(label=label, style=style)
            button.callback = callback
            self.add_item(button)

    async def interaction_check(self, interaction: discord.Interaction) -> bool:
        return interaction.user.id == self.author_id

    async def _confirm(self, interaction: discord.Interaction) -> None:
        self.stop()
        await self._on_confirm(interaction)

    async def _keep(self, interaction: discord.Interaction) -> None:
        self.stop()
        await interaction.response.edit_message(content=self._kept_text, embed=None, view=None)

    async def on_error(self, interaction: discord.Interaction, error: Exception, item) -> None:
        await interaction.client.tree.on_error(interaction, error)
