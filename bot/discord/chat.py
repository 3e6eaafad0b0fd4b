"""Discord's implementation of the core's :class:`~bot.core.ports.Chat` port.

Every Discord failure is translated into a :class:`DeliveryError` that says whether
retrying can help: a 5xx, a 429 or a dropped connection can; a deleted channel or a
missing permission needs a person first.
"""

from __future__ import annotations

import hashlib
import io
import logging
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime
from typing import TYPE_CHECKING

import aiohttp
import discord

from bot.core import limits
from bot.core.ports import (
    MISSING_PERMISSION,
    Delay,
    DeliveryError,
    NudgeMessage,
    Person,
    Posted,
    RoundPost,
)
from bot.core.text import Line, pack_lines
from bot.core.wording import NUDGE_LINES, NUDGE_TITLES, Markup, nudge_text, pairs_head
from bot.discord import reports as report_render
from bot.discord import views
from bot.discord.checks import is_facilitator
from bot.discord.embeds import Tone, embed, timestamp, when

if TYPE_CHECKING:
    from discord.ext import commands

log = logging.getLogger(__name__)

THREAD_ALREADY_EXISTS = 160004
CANNOT_MESSAGE_USER = 50007
ARCHIVE_AFTER_MINUTES = 10080  # Discord's longest auto-archive; the bot re-opens threads too

DEIDENTIFY_NOTE = "Change names and details so no client can be recognised."

#: The "Posted late" line's reason, by cause.
LATE_BECAUSE = {
    Delay.OFFLINE: "Praxis was offline when this round was due to open",
    Delay.PUT_BACK: "this round was put back on the schedule (`/cohort unskip`) after its "
    "opening time",
    Delay.PERMISSIONS: "Discord refused Praxis a permission it needs to post rounds here "
    "until a facilitator fixed it",
    Delay.NO_PROMPTS: "the cohort's prompt bank was empty when this round was due to open",
    Delay.DISCORD: "Discord couldn't take the post when this round was due to open",
}


@contextmanager
def translate_errors(action: str) -> Iterator[None]:
    try:
        yield
    except discord.Forbidden as error:
        if error.code == CANNOT_MESSAGE_USER:
            raise DeliveryError(
                "the member doesn't accept direct messages", permanent=True, status=403,
                dms_closed=True,
            ) from error  # fmt: skip
        raise DeliveryError(
            f"Discord refused to let me {action} ({MISSING_PERMISSION}, error {error.code})",
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
        parts.append(f"⏰ *Posted late: {LATE_BECAUSE[post.delay]}. The deadlines are as planned.*")
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

    # ------------------------------------------------------------------ members

    async def roster(self, cohort) -> list[Person] | None:
        guild = self._bot.get_guild(cohort.guild_id)
        if guild is None:
            return None
        if not guild.chunked and self._bot.intents.members:
            with translate_errors("list the server's members"):
                await guild.chunk()  # role.members is only as complete as the member cache
        role = guild.get_role(cohort.member_role_id)
        if role is None:
            return []
        return [
            Person(member.id, member.display_name)
            for member in role.members
            if not member.bot and not is_facilitator(member, cohort)
        ]

    async def send_nudge(
        self, user_id: int, dm_channel_id: int | None, message: NudgeMessage
    ) -> int:
        """One request when the DM channel is known; two the first time."""
        if dm_channel_id is None:
            with translate_errors("open a direct message"):
                user = self._bot.get_user(user_id) or await self._bot.fetch_user(user_id)
                dm_channel_id = (user.dm_channel or await user.create_dm()).id
        channel = self._bot.get_partial_messageable(dm_channel_id, type=discord.ChannelType.private)
        view = None
        if message.kind in ("reflect_reminder", "reflect_last_call"):
            view = discord.ui.View(timeout=None)
            view.add_item(views.reflect_button(message.round_id))
        with translate_errors("send a reminder"):
            await channel.send(embed=nudge_embed(message), view=view)
        return dm_channel_id

    async def nudge_in_thread(self, thread_id: int, messages: list[NudgeMessage]) -> Posted:
        lines = [
            Line(
                f"• <@{m.member.id}>: {NUDGE_LINES[m.kind]} {timestamp(m.due, 'R')}.",
                pings=(m.member.id,),
            )
            for m in messages
        ]
        return await self._post_list(
            thread_id, NUDGE_THREAD_INTRO, lines, "post a reminder in the thread"
        )

    async def announce_pairs(self, thread_id: int, plan, *, late: bool, continued: bool) -> Posted:
        """Each line pings its reviewer only: the peers are named, not notified, so nobody
        is pinged once per line they appear in, and a part pings at most one per line."""
        head = pairs_head(MARKUP, late=late, continued=continued)
        lines = [
            Line(
                f"<@{reviewer}> → " + ", ".join(f"<@{author}>" for author in authors),
                pings=(reviewer,),
            )
            for reviewer, authors in plan.items()
        ]
        return await self._post_list(thread_id, head, lines, "post the feedback pairs")

    async def _post_list(
        self, channel_id: int, head: str, lines: list[Line], action: str
    ) -> Posted:
        """Post the first message's worth of ``lines`` within Discord's limits.

        The core's ``pack_lines`` does the packing with Discord's numbers, so the rule is
        written once and another platform passes its own. The nonce is derived from the
        text: Discord answers a repeat within a few minutes (say, a retry after a lost
        response) with the message already posted instead of a second one.
        """
        channel = await self._channel(channel_id)
        part = pack_lines(
            head,
            lines,
            max_chars=limits.MAX_MESSAGE_CHARS,
            max_pings=limits.MAX_MENTIONS_PER_MESSAGE,
        )[0]
        mentions = discord.AllowedMentions(users=[discord.Object(p) for p in part.pings])
        with translate_errors(action):
            sent = await channel.send(
                part.text, allowed_mentions=mentions, nonce=_nonce(channel_id, part.text)
            )
        return Posted(sent.id, part.count)

    async def send_digest(self, cohort, summary, chart_png: bytes) -> None:
        card, table = report_render.round_embed(summary)
        card.title = f"Digest · {card.title}"

        def files() -> list[discord.File]:
            found = [discord.File(io.BytesIO(chart_png), filename="participation.png")]
            if table is not None:
                table.fp.seek(0)
                found.append(discord.File(io.BytesIO(table.fp.read()), filename=table.filename))
            return found

        await self._to_facilitators(cohort, "the digest", card, files)

    async def tell_facilitators(self, cohort, title: str, text: str) -> None:
        card = embed(title, text, tone=Tone.WARNING)
        await self._to_facilitators(cohort, "a notice", card, list)

    async def _to_facilitators(self, cohort, what: str, card: discord.Embed, files) -> None:
        """To the digest channel if set, else by DM to each facilitator (or the owner).

        ``files`` is called for each send: a ``discord.File`` can be sent only once.
        """
        if cohort.digest_channel_id:
            channel = await self._channel(cohort.digest_channel_id)
            with translate_errors(f"post {what}"):
                await channel.send(embed=card, files=files())
            return
        delivered = 0
        for person in await self._facilitators(cohort):
            try:
                with translate_errors(f"send {what}"):
                    await person.send(embed=card, files=files())
                delivered += 1
            except DeliveryError as error:
                log.info("DM of %s to a facilitator failed: %s", what, error.reason)
        if not delivered:
            raise DeliveryError("no facilitator accepts direct messages", permanent=True)

    async def _facilitators(self, cohort) -> list[discord.Member]:
        guild = self._bot.get_guild(cohort.guild_id)
        if guild is None:
            raise DeliveryError("the server is not available", permanent=False)
        role = guild.get_role(cohort.facilitator_role_id) if cohort.facilitator_role_id else None
        people = [m for m in role.members if not m.bot] if role is not None else []
        if not people and guild.owner is not None:
            people = [guild.owner]
        return people


NUDGE_THREAD_INTRO = (
    "A gentle nudge for a few of you I can't reach by direct message "
    "(you can turn these off with `/me nudges off`):"
)
MARKUP = Markup(bold=lambda text: f"**{text}**", when=when, thread=lambda n: f"<#{n}>")


def nudge_embed(message: NudgeMessage) -> discord.Embed:
    return embed(
        NUDGE_TITLES[message.kind],
        nudge_text(message, MARKUP, reply_hint=", or press the button below"),
        tone=Tone.INFO,
        footer="Praxis · turn reminders off with /me nudges off in the server",
    )


def _nonce(channel_id: int, text: str) -> str:
    """The same text in the same channel gets the same nonce (24 characters; Discord allows 25)."""
    return hashlib.blake2b(f"{channel_id}\n{text}".encode(), digest_size=12).hexdigest()
