"""Helpfulness ratings on Discord: a direct message to the reflection's writer with two
buttons, "Helpful" and "Not yet".

Why a direct message: the writer learns of the feedback right when it arrives and answers
with one press, privately, without looking up a command. The buttons are dynamic items
whose custom id carries the feedback's message id, so they work after a restart; pressing
the other one later changes the rating. Closed DMs mean no question, nothing more.
"""

from __future__ import annotations

import logging
import re

import discord

from bot.core import ratings
from bot.core.errors import StorageBusy, StorageUnavailable
from bot.core.text import without_mentions

log = logging.getLogger(__name__)

RATE_PATTERN = r"praxis:rate:(?P<message_id>-?[0-9]+):(?P<helpful>[01])"


def rate_custom_id(feedback_message_id: int, helpful: bool) -> str:
    return f"praxis:rate:{feedback_message_id}:{int(helpful)}"


def rate_view(feedback_message_id: int) -> discord.ui.View:
    view = discord.ui.View(timeout=None)
    view.add_item(RateButton(feedback_message_id, True))
    view.add_item(RateButton(feedback_message_id, False))
    return view


async def ask(bot, feedback_message_id: int) -> None:
    """Ask the reflection's writer about this feedback, once (claimed before sending)."""
    await ask_many(bot, [feedback_message_id])


async def ask_many(bot, feedback_message_ids: list[int]) -> None:
    """:func:`ask` for a batch of feedback: claimed together, then asked one by one."""
    try:
        questions = await ratings.claim_asks(bot.db, feedback_message_ids, discord.utils.utcnow())
    except (StorageBusy, StorageUnavailable):  # the feedback itself is stored: just don't ask
        log.warning(
            "Could not note %d rating questions; they are not sent", len(feedback_message_ids)
        )
        return
    for question in questions:
        await _send(bot, question)


async def _send(bot, question: ratings.Ask) -> None:
    feedback_message_id = question.feedback_message_id
    text = (
        f"{without_mentions(question.giver_name)} responded to your reflection. Was it "
        "helpful? Only you see this; facilitators see counts, never who rated."
    )
    try:
        user = bot.get_user(question.rater_id) or await bot.fetch_user(question.rater_id)
        await user.send(text, view=rate_view(feedback_message_id))
    except discord.HTTPException as error:  # DMs closed or Discord trouble: no question
        log.info("Could not ask for a rating by DM (HTTP %s)", error.status)


class RateButton(discord.ui.DynamicItem[discord.ui.Button], template=RATE_PATTERN):
    """ "Helpful" or "Not yet" under a rating question; works across restarts."""

    def __init__(self, feedback_message_id: int, helpful: bool) -> None:
        super().__init__(
            discord.ui.Button(
                label="Helpful" if helpful else "Not yet",
                style=discord.ButtonStyle.success if helpful else discord.ButtonStyle.secondary,
                custom_id=rate_custom_id(feedback_message_id, helpful),
            )
        )
        self.feedback_message_id = feedback_message_id
        self.helpful = helpful

    @classmethod
    async def from_custom_id(
        cls, interaction: discord.Interaction, item: discord.ui.Button, match: re.Match[str]
    ) -> RateButton:
        return cls(int(match["message_id"]), match["helpful"] == "1")

    async def callback(self, interaction: discord.Interaction) -> None:
        # Dynamic items only log their errors: hand them to the one error handler.
        try:
            reply = await ratings.rate(
                interaction.client.db,
                interaction.user.id,
                self.feedback_message_id,
                self.helpful,
                discord.utils.utcnow(),
            )
            await interaction.response.send_message(reply, ephemeral=True)
        except Exception as error:
            await interaction.client.tree.on_error(interaction, error)
