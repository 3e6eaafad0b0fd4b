"""Discord glue for reflections: who wrote a message, the ✅, private notes, form posts."""

from __future__ import annotations

import contextlib
import logging
from dataclasses import dataclass
from datetime import datetime

import discord

from bot.core import reflections
from bot.core.cohorts import Cohort
from bot.core.reflections import Author, Incoming, Outcome, Role, RoundContext
from bot.core.text import chunk_sections
from bot.discord.checks import is_facilitator
from bot.discord.embeds import Tone, embed

log = logging.getLogger(__name__)

ACK = "✅"
EMBED_TEXT_LIMIT = 4000  # below Discord's 4096 so a part never needs trimming


def author_of(user: discord.abc.User, cohort: Cohort) -> Author:
    name = getattr(user, "display_name", None) or user.name
    if not isinstance(user, discord.Member) or user.bot:
        return Author(user.id, name, Role.OTHER)
    if is_facilitator(user, cohort):
        return Author(user.id, name, Role.FACILITATOR)
    if user.get_role(cohort.member_role_id) is not None:
        return Author(user.id, name, Role.MEMBER)
    return Author(user.id, name, Role.OTHER)


async def resolve_member(guild: discord.Guild, user: discord.abc.User) -> discord.abc.User:
    """A message read from history may carry a bare user; roles need the member."""
    if isinstance(user, discord.Member) or user.bot:
        return user
    member = guild.get_member(user.id)
    if member is None:
        try:
            member = await guild.fetch_member(user.id)
        except discord.NotFound:
            return user  # left the server: no longer counts for the cohort
    return member


@dataclass(frozen=True, slots=True)
class Received:
    """What the pipeline keeps of a member's thread message while it waits to be stored.

    Why not the ``discord.Message``: under a burst, thousands wait at once, and each
    Message holds seven or so lists of its own (embeds, mentions, reactions…). The garbage
    collector's full passes walked them all: over 50 ms with the loop held. This is one
    small object per message, and the Message is freed as soon as it is read.
    """

    id: int
    channel: discord.Thread
    guild: discord.Guild
    author: discord.abc.User
    content: str
    reply_to_id: int | None

    @classmethod
    def of(cls, message: discord.Message) -> Received:
        reference = message.reference
        return cls(
            message.id,
            message.channel,
            message.guild,
            message.author,
            message.content,
            reference.message_id if reference is not None else None,
        )

    @property
    def created_at(self) -> datetime:
        return discord.utils.snowflake_time(self.id)

    @property
    def jump_url(self) -> str:
        return f"https://discord.com/channels/{self.guild.id}/{self.channel.id}/{self.id}"


def incoming(message: Received, author: Author) -> Incoming:
    return Incoming(
        message_id=message.id,
        author=author,
        text=message.content,
        posted_at=message.created_at,
        reply_to_id=message.reply_to_id,
    )


def is_member_text(message: discord.Message) -> bool:
    return (
        message.guild is not None
        and not message.author.bot
        and isinstance(message.channel, discord.Thread)
        and message.type in (discord.MessageType.default, discord.MessageType.reply)
    )


async def apply(bot: discord.Client, thread: discord.abc.Messageable, outcome: Outcome) -> None:
    """Move the ✅ after the change is committed; one failed reaction stops nothing."""
    for message_id in outcome.ack:
        await _react(thread, message_id, add=True, me=bot.user)
    for message_id in outcome.unack:
        await _react(thread, message_id, add=False, me=bot.user)


async def _react(thread, message_id: int, *, add: bool, me) -> None:
    message = thread.get_partial_message(message_id)
    try:
        if add:
            await message.add_reaction(ACK)
        else:
            await message.remove_reaction(ACK, me)
    except discord.HTTPException as error:
        log.info("Could not update ✅ on %s (HTTP %s)", message_id, error.status)


def short_note(ctx: RoundContext, outcome: Outcome) -> str | None:
    """A kind, private explanation of why a post doesn't count yet."""
    cohort, round_ = ctx.cohort, ctx.round
    if outcome.short == "reflection":
        return (
            f"Thanks for your reflection in round {round_.number} of **{cohort.name}**. "
            f"So far it has {outcome.words} words in all, and the cohort asks for at least "
            f"{cohort.min_words} for it to count. You can add to it in the thread (your "
            "messages join up) or edit what you wrote."
        )
    if outcome.short == "feedback":
        return (
            f"Thanks for responding to a peer in round {round_.number} of **{cohort.name}**. "
            f"Feedback counts toward your {cohort.feedback_required} once it has at least "
            f"{cohort.feedback_min_words} words; yours has {outcome.words}. A few sentences on "
            "what struck you, and why, would make it count."
        )
    return None


def reflection_embeds(
    member: discord.Member, sections: list[tuple[str, str]]
) -> list[discord.Embed]:
    """One embed per part, each under Discord's limits, signed with the member's name."""
    parts = chunk_sections(sections, EMBED_TEXT_LIMIT)
    cards = []
    for index, part in enumerate(parts, 1):
        card = embed("Reflection" if index == 1 else "Reflection (continued)", part, tone=Tone.INFO)
        card.set_author(name=member.display_name, icon_url=member.display_avatar.url)
        if len(parts) > 1:
            card.set_footer(text=f"Part {index} of {len(parts)}")
        cards.append(card)
    return cards


def text_back_embeds(sections: list[tuple[str, str]]) -> list[discord.Embed]:
    """A form that can't be posted, laid out for its writer alone: every word, in parts
    one private message can hold (one embed each, under the 6,000-character total)."""
    parts = chunk_sections(sections, EMBED_TEXT_LIMIT)
    return [
        embed("Your text" if len(parts) == 1 else f"Your text ({i} of {len(parts)})", part)
        for i, part in enumerate(parts, 1)
    ]


async def post_form_reflection(
    thread: discord.Thread, member: discord.Member, sections, existing: list[int]
) -> list[tuple[int, str]]:
    """Post the reflection, editing the member's earlier form post instead of adding one."""
    cards = reflection_embeds(member, sections)
    posted: list[tuple[int, str]] = []
    for index, card in enumerate(cards):
        if index < len(existing):
            message = thread.get_partial_message(existing[index])
            await message.edit(embed=card)
            posted.append((existing[index], card.description))
        else:
            message = await thread.send(embed=card)
            posted.append((message.id, card.description))
    for extra in existing[len(cards) :]:
        with contextlib.suppress(discord.NotFound):
            await thread.get_partial_message(extra).delete()
    return posted


async def context_for_channel(bot, channel) -> RoundContext | None:
    if not isinstance(channel, discord.Thread):
        return None
    return await reflections.context_for_thread(bot.db, channel.id)
