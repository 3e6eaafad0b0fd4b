"""Discord's implementation of the core's :class:`~bot.core.ports.Chat` port.

Every Discord failure is translated into a :class:`DeliveryError` that says whether
retrying can help: a 5xx, a 429 or a dropped connection can; a deleted channel or a
missing permission needs a person first.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime
from typing import TYPE_CHECKING

import aiohttp
import discord

from bot.adapter import views
from bot.adapter.embeds import Tone, embed, when
from bot.core.ports import DeliveryError, RoundPost

if TYPE_CHECKING:
    from discord.ext import commands

log = logging.getLogger(__name__)

THREAD_ALREADY_EXISTS = 160004
ARCHIVE_AFTER_MINUTES = 10080  # Discord's longest auto-archive; the bot re-opens threads too

DEIDENTIFY_NOTE = "Change names and details so no client can be recognised."


@contextmanager
def translate_errors(action: str) -> Iterator[None]:
    try:
        yield
    except discord.Forbidden as error:
        raise DeliveryError(
            f"Discord refused to let me {action} (missing permission, error {error.code})",
            permanent=True,
            status=403,
        ) from error
    except discord.NotFound as error:
        raise DeliveryError(
            f"the channel no longer exists, so I couldn't {action}", permanent=True, status=404
        ) from error
    except discord.HTTPException as error:
        transient = error.status == 429 or error.status >= 500
        raise DeliveryError(
            f"Discord answered {error.status} when I tried to {action}",
            permanent=not transient,
            status=error.status,
        ) from error
    except (TimeoutError, aiohttp.ClientError) as error:
        raise DeliveryError(f"the connection to Discord failed while I tried to {action}",
                            permanent=False) from error  # fmt: skip


def round_embed(post: RoundPost) -> discord.Embed:
    headings = "\n".join(f"**{i}.** {heading}" for i, heading in enumerate(post.structure, 1))
    parts = [post.text]
    if headings:
        parts.append(f"__Write your reflection under these headings__\n{headings}")
    parts.append(f"*{DEIDENTIFY_NOTE}*")
    if post.late:
        parts.append(
            "⏰ *Posted late: Praxis was offline when this round was due to open. "
            "The deadlines are as planned.*"
        )
    card = embed(
        f"Round {post.number} · {post.title}",
        "\n\n".join(parts),
        tone=Tone.PROMPT,
        footer=f"{post.cohort_name} · reply in the thread, or press Write reflection",
    )
    card.add_field(name="Reflections due", value=when(post.reflect_due), inline=False)
    card.add_field(name="Feedback due", value=when(post.feedback_due), inline=False)
    return card


class DiscordChat:
    def __init__(self, bot: commands.Bot) -> None:
        self._bot = bot

    async def _channel(self, channel_id: int) -> discord.abc.Messageable:
        channel = self._bot.get_channel(channel_id)
        if channel is None:
            with translate_errors("find the channel"):
                channel = await self._bot.fetch_channel(channel_id)
        if not isinstance(channel, discord.abc.Messageable):
            raise DeliveryError("that channel can't hold messages", permanent=True)
        return channel

    async def find_round_message(
        self, channel_id: int, round_id: int, since: datetime
    ) -> int | None:
        channel = await self._channel(channel_id)
        marker = views.reflect_custom_id(round_id)
        me = self._bot.user
        with translate_errors("read the channel history"):
            async for message in channel.history(limit=50, after=since, oldest_first=False):
                if (
                    me is not None
                    and message.author.id == me.id
                    and views.has_component(message, marker)
                ):
                    return message.id
        return None

    async def post_round(self, channel_id: int, post: RoundPost) -> int:
        channel = await self._channel(channel_id)
        view = discord.ui.View(timeout=None)
        view.add_item(views.reflect_button(post.round_id))
        with translate_errors("post the round's prompt"):
            message = await channel.send(embed=round_embed(post), view=view)
        return message.id

    async def open_round_thread(self, channel_id: int, message_id: int, post: RoundPost) -> int:
        channel = await self._channel(channel_id)
        if not isinstance(channel, discord.TextChannel):
            raise DeliveryError("threads need a text channel", permanent=True)
        message = channel.get_partial_message(message_id)
        try:
            with translate_errors("open the round's thread"):
                thread = await message.create_thread(
                    name=post.thread_name, auto_archive_duration=ARCHIVE_AFTER_MINUTES
                )
        except DeliveryError as error:
            cause = error.__cause__
            if isinstance(cause, discord.HTTPException) and cause.code == THREAD_ALREADY_EXISTS:
                return message_id  # a message's thread shares the message's id
            raise
        return thread.id
