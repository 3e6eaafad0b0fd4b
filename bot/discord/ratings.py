"""Helpfulness ratings on Discord: a direct message to the reflection's writer with two
buttons, "Helpful" and "Not yet".

Why a direct message: the writer learns of the feedback right when it arrives and answers
with one press, privately, without looking up a command. The buttons are dynamic items
whose custom id carries the feedback's message id, so they work after a restart; pressing
the other one later changes the rating. Closed DMs mean no question, nothing more.

The questions go out through :func:`outbox` (:class:`bot.core.ratings.Questions`), paced
to their share of Discord's global rate limit, after the feedback's ✅.
"""

from __future__ import annotations

import logging
import re
from functools import partial

import discord

from bot.core import ratings
from bot.core.text import without_mentions
from bot.pacing import Pace

log = logging.getLogger(__name__)

RATE_PATTERN = r"praxis:rate:(?P<message_id>-?[0-9]+):(?P<helpful>[01])"
#: Questions per second, of Discord's global 50 requests a second for the whole bot (each
#: question is one, plus one to open a DM channel discord.py doesn't hold): backfill takes
#: 40 (cogs/reflections.py), ✅s and commands the rest. A burst of 20 goes at once, so a
#: cohort's ordinary feedback is asked about as it arrives.
QUESTIONS_PER_SECOND = 5.0
QUESTIONS_BURST = 20


def rate_custom_id(feedback_message_id: int, helpful: bool) -> str:
    return f"praxis:rate:{feedback_message_id}:{int(helpful)}"


def rate_view(feedback_message_id: int) -> discord.ui.View:
    view = discord.ui.View(timeout=None)
    view.add_item(RateButton(feedback_message_id, True))
    view.add_item(RateButton(feedback_message_id, False))
    return view


def outbox(bot) -> ratings.Questions:
    """The bot's queue of rating questions; this process takes its shards' share of the
    pace, as backfill does, since the global limit is the bot's, not the process's."""
    pace = Pace(QUESTIONS_PER_SECOND * bot.settings.shard_share, QUESTIONS_BURST)
    return ratings.Questions(lambda: bot.db, partial(send, bot), discord.utils.utcnow, pace)


async def send(bot, question: ratings.Ask) -> None:
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
