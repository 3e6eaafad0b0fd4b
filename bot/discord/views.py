"""Custom ids shared by whoever renders a component and whoever handles its clicks.

The round id inside a button's custom id is what makes the button work after a
restart (discord.py's dynamic items match it by pattern) and is also the marker the
bot looks for when checking whether a round's prompt was already posted. Forms carry
what their submission needs in their custom id too, for the same reason (see
:func:`show_form`).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import discord

REFLECT_PATTERN = r"praxis:reflect:(?P<round_id>[0-9]+)"
REFLECT_FORM_PATTERN = re.compile(r"praxis:reflect-form:(?P<round_id>[0-9]+)(?P<private>:private)?")
FEEDBACK_FORM_PATTERN = re.compile(
    r"praxis:feedback-form:(?P<round_id>[0-9]+):(?P<message_id>[0-9]+)"
)
DRAFT_PATTERN = r"praxis:draft:(?P<token>[0-9a-f]+):(?P<action>[a-z]+)"
CUSTOM_ID_LIMIT = 100  # Discord's maximum; two 20-digit ids fit with room to spare


def reflect_custom_id(round_id: int) -> str:
    return f"praxis:reflect:{round_id}"


def reflect_button(round_id: int) -> discord.ui.Button:
    return discord.ui.Button(
        label="Write reflection",
        emoji="📝",
        style=discord.ButtonStyle.primary,
        custom_id=reflect_custom_id(round_id),
    )


def draft_button(token: str, action: str, label: str, style: discord.ButtonStyle):
    """A button acting on form text held in memory under ``token`` (see cogs/reflections)."""
    return discord.ui.Button(label=label, style=style, custom_id=f"praxis:draft:{token}:{action}")


def reflect_form_id(round_id: int, *, private: bool = False) -> str:
    """A reflection form; a ``private`` one goes to the facilitators only."""
    return f"praxis:reflect-form:{round_id}" + (":private" if private else "")


def feedback_form_id(round_id: int, message_id: int) -> str:
    """The "Give feedback" form for the reflection in ``message_id``."""
    return f"praxis:feedback-form:{round_id}:{message_id}"


@dataclass(frozen=True, slots=True)
class FormSubmission:
    """A submitted Praxis form, read from the interaction alone (no modal in memory)."""

    round_id: int
    target_message_id: int | None  # the reflection answered; None for a reflection form
    values: dict[str, str]  # text field custom id -> what the member typed
    private: bool = False  # a reflection for the facilitators only


async def show_form(interaction: discord.Interaction, form: discord.ui.Modal) -> None:
    """Open a form whose submission is handled by its custom id, never by a copy in memory.

    discord.py keeps each modal it sends in memory and drops a submission it has no
    copy of, so a form open across a restart would end in "This interaction failed".
    A stopped modal is not kept at all: every submission, before or after a restart,
    reaches the reflections cog's ``on_interaction`` listener (via
    :func:`form_submission`), one path in both cases.
    """
    if len(form.custom_id) > CUSTOM_ID_LIMIT:
        raise ValueError(f"custom id longer than {CUSTOM_ID_LIMIT} characters")
    form.stop()
    await interaction.response.send_modal(form)


def form_submission(interaction: discord.Interaction) -> FormSubmission | None:
    """The Praxis form this interaction submits, or None for anything else."""
    if interaction.type is not discord.InteractionType.modal_submit or not interaction.data:
        return None
    custom_id = interaction.data.get("custom_id", "")
    values = _text_values(interaction.data.get("components", []))
    if found := REFLECT_FORM_PATTERN.fullmatch(custom_id):
        return FormSubmission(int(found["round_id"]), None, values, bool(found["private"]))
    if found := FEEDBACK_FORM_PATTERN.fullmatch(custom_id):
        return FormSubmission(int(found["round_id"]), int(found["message_id"]), values)
    return None


def _text_values(components: list[dict]) -> dict[str, str]:
    """Text inputs by custom id, through action rows (type 1) and labels (type 18)."""
    values: dict[str, str] = {}
    for component in components:
        if component.get("type") == 1:
            values.update(_text_values(component.get("components", [])))
        elif component.get("type") == 18:
            values.update(_text_values([component.get("component", {})]))
        elif isinstance(component.get("value"), str) and component.get("custom_id"):
            values[component["custom_id"]] = component["value"]
    return values


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
