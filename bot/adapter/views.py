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
