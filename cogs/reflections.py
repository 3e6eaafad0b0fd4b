"""Reflections and feedback: thread replies, the reflection form, "Give feedback", backfill."""

from __future__ import annotations

import asyncio
import logging
import re
from typing import NamedTuple

import discord
from discord import app_commands
from discord.ext import commands

from bot.adapter import reflections as glue
from bot.adapter import views
from bot.adapter.embeds import Tone, embed
from bot.core import cohorts, notes, pairs, reflections, rounds
from bot.core.batching import Batcher
from bot.core.errors import InvalidInput, NotAllowed, StorageBusy, StorageUnavailable
from bot.core.limits import MAX_SECTION_LABEL_CHARS
from bot.core.privacy import describe, find_identifiers
from bot.core.prompts import DEFAULT_STRUCTURE
from bot.core.reflections import Role, RoundContext
from bot.core.text import name_key
from cogs._common import now

log = logging.getLogger(__name__)

BACKFILL_BATCH = 100  # one page of history, stored in one transaction
BACKFILL_THREADS_AT_ONCE = 4  # history requests in flight; each thread has its own rate bucket
FIELD_LIMIT = 4000  # Discord's maximum for one text input
DEIDENTIFY = "Change names and details so no client can be recognised."


async def _thread(bot: commands.Bot, ctx: RoundContext) -> discord.Thread:
    thread = bot.get_channel(ctx.round.thread_id)
    if thread is None:
        thread = await bot.fetch_channel(ctx.round.thread_id)
    if isinstance(thread, discord.Thread) and thread.archived:
        await thread.edit(archived=False)
    return thread


def _require_member(interaction: discord.Interaction, ctx: RoundContext) -> glue.Author:
    user = interaction.user
    if not isinstance(user, discord.Member):  # pressed in a DM: look them up in the server
        guild = interaction.client.get_guild(ctx.cohort.guild_id)
        user = (guild.get_member(user.id) if guild else None) or user
    author = glue.author_of(user, ctx.cohort)
    if author.role is not Role.MEMBER:
        raise NotAllowed(
            f"Reflections in **{ctx.cohort.name}** are written by its members "
            f"(the <@&{ctx.cohort.member_role_id}> role)."
        )
    return author


def privacy_warning(findings) -> str:
    return (
        f"Before this goes into the thread: it seems to contain {describe(findings)}, which "
        "could identify a client. Please change names and details so no one can be "
        "recognised. **Edit** reopens your text; **Post anyway** posts it as it is."
    )


class PrivacyCheck(discord.ui.View):
    """Offered when a form looks like it names a client: edit it, or post it as it is."""

    def __init__(self, author_id: int, on_edit, on_post) -> None:
        super().__init__(timeout=900)
        self.author_id, self.on_edit, self.on_post = author_id, on_edit, on_post

    async def interaction_check(self, interaction: discord.Interaction) -> bool:
        return interaction.user.id == self.author_id

    @discord.ui.button(label="Edit", style=discord.ButtonStyle.primary)
    async def edit(self, interaction: discord.Interaction, _: discord.ui.Button) -> None:
        self.stop()
        await self.on_edit(interaction)

    @discord.ui.button(label="Post anyway", style=discord.ButtonStyle.secondary)
    async def post(self, interaction: discord.Interaction, _: discord.ui.Button) -> None:
        self.stop()
        await self.on_post(interaction)

    async def on_error(self, interaction: discord.Interaction, error: Exception, item) -> None:
        await interaction.client.tree.on_error(interaction, error)


class Change(NamedTuple):
    """An edit (``text`` set) or a deletion (``text`` None) of a thread message."""

    channel_id: int
    message_id: int
    text: str | None


class ReopenForm(discord.ui.View):
    """After a form couldn't be saved: open it again with the member's text in it."""

    def __init__(self, author_id: int, make_form) -> None:
        super().__init__(timeout=1800)
        self.author_id, self.make_form = author_id, make_form

    async def interaction_check(self, interaction: discord.Interaction) -> bool:
        return interaction.user.id == self.author_id

    @discord.ui.button(label="Open my text again", style=discord.ButtonStyle.primary)
    async def reopen(self, interaction: discord.Interaction, _: discord.ui.Button) -> None:
        await interaction.response.send_modal(self.make_form())

    async def on_error(self, interaction: discord.Interaction, error: Exception, item) -> None:
        await interaction.client.tree.on_error(interaction, error)


async def _not_saved(interaction, thread, new_posts: list[int], error, again: ReopenForm) -> None:
    """The form was posted but the database refused it: take the new posts down again, so
    the thread never shows a form post Praxis has no record of, and keep the member's text
    one click away. (An edited earlier post keeps its new text; the record keeps the old.)"""
    for message_id in new_posts:
        try:
            await thread.get_partial_message(message_id).delete()
        except discord.HTTPException as failure:
            log.warning("Could not take down an unsaved form post (HTTP %s)", failure.status)
    await interaction.followup.send(
        f"{error} Your text is kept here for half an hour.", view=again, ephemeral=True
    )


class ReflectionModal(discord.ui.Modal):
    """The round's headings as fields; submitting again edits the earlier post."""

    def __init__(self, ctx: RoundContext, prefill: list[str] | None = None) -> None:
        super().__init__(title=f"Round {ctx.round.number} reflection"[:45], timeout=1800)
        self.ctx = ctx
        self.headings = tuple(ctx.round.structure or DEFAULT_STRUCTURE)[:5]
        self.fields: list[discord.ui.TextInput] = []
        for index, heading in enumerate(self.headings):
            field = discord.ui.TextInput(
                label=heading[:MAX_SECTION_LABEL_CHARS],
                custom_id=f"section_{index}",
                style=discord.TextStyle.paragraph,
                max_length=FIELD_LIMIT,
                required=index == 0,
                placeholder=DEIDENTIFY if index == 0 else None,
                default=prefill[index] if prefill and index < len(prefill) else None,
            )
            self.add_item(field)
            self.fields.append(field)

    async def on_submit(self, interaction: discord.Interaction) -> None:
        author = _require_member(interaction, self.ctx)
        sections = [(h, f.value) for h, f in zip(self.headings, self.fields, strict=True)]
        sections = [(h, text) for h, text in sections if text.strip()]
        if not sections:
            raise InvalidInput("Your reflection is empty, so nothing was posted.")
        findings = find_identifiers("\n\n".join(text for _, text in sections))
        if findings:
            values = [f.value for f in self.fields]

            async def edit(button_interaction: discord.Interaction) -> None:
                await button_interaction.response.send_modal(ReflectionModal(self.ctx, values))

            async def post(button_interaction: discord.Interaction) -> None:
                await self._post(button_interaction, author, sections)

            await interaction.response.send_message(
                privacy_warning(findings),
                view=PrivacyCheck(author.id, edit, post),
                ephemeral=True,
            )
            return
        await self._post(interaction, author, sections)

    async def _post(self, interaction: discord.Interaction, author, sections) -> None:
        await interaction.response.defer(ephemeral=True, thinking=True)
        bot, db = interaction.client, interaction.client.db
        thread = await _thread(bot, self.ctx)
        existing = await reflections.form_message_ids(db, self.ctx.round.id, author.id)
        parts = await glue.post_form_reflection(thread, interaction.user, sections, existing)
        try:
            outcome = await reflections.save_form_reflection(
                db, self.ctx, author, parts, self.headings, now()
            )
        except (StorageBusy, StorageUnavailable) as error:
            new = [message_id for message_id, _ in parts if message_id not in existing]
            await _not_saved(interaction, thread, new, error, self._reopen(author.id))
            return
        await glue.apply(bot, thread, outcome)
        if outcome.ack:
            await pairs.add_latecomer(db, bot.chat, self.ctx, author.id)
        verb = "updated" if existing else "posted"
        reply = f"Your reflection is {verb} in {thread.mention} ({outcome.words} words)."
        note = glue.short_note(self.ctx, outcome)
        await interaction.followup.send(f"{reply}\n\n{note}" if note else reply, ephemeral=True)

    def _reopen(self, author_id: int) -> ReopenForm:
        values = [field.value for field in self.fields]
        return ReopenForm(author_id, lambda: ReflectionModal(self.ctx, values))

    async def on_error(self, interaction: discord.Interaction, error: Exception) -> None:
        await interaction.client.tree.on_error(interaction, error)


class FeedbackModal(discord.ui.Modal, title="Give feedback"):
    text = discord.ui.TextInput(
        label="Your response to this reflection",
        custom_id="feedback",
        style=discord.TextStyle.paragraph,
        max_length=FIELD_LIMIT,
        placeholder="What struck you, and why? What might you try in their place?",
    )

    def __init__(
        self, ctx: RoundContext, target: discord.Message, target_id: int, prefill: str = ""
    ) -> None:
        super().__init__(timeout=1800)
        self.ctx, self.target, self.target_id = ctx, target, target_id
        if prefill:
            self.text.default = prefill

    async def on_submit(self, interaction: discord.Interaction) -> None:
        author = _require_member(interaction, self.ctx)
        findings = find_identifiers(self.text.value)
        if findings:
            again = FeedbackModal(self.ctx, self.target, self.target_id, self.text.value)

            async def edit(button_interaction: discord.Interaction) -> None:
                await button_interaction.response.send_modal(again)

            async def post(button_interaction: discord.Interaction) -> None:
                await self._post(button_interaction, author)

            await interaction.response.send_message(
                privacy_warning(findings),
                view=PrivacyCheck(author.id, edit, post),
                ephemeral=True,
            )
            return
        await self._post(interaction, author)

    async def _post(self, interaction: discord.Interaction, author) -> None:
        await interaction.response.defer(ephemeral=True, thinking=True)
        thread = await _thread(interaction.client, self.ctx)
        card = embed("Feedback", self.text.value, tone=Tone.SUCCESS)
        card.set_author(
            name=interaction.user.display_name, icon_url=interaction.user.display_avatar.url
        )
        posted = await thread.send(embed=card, reference=self.target, mention_author=False)
        try:
            outcome = await reflections.save_form_feedback(
                interaction.client.db,
                self.ctx,
                author,
                posted.id,
                self.text.value,
                (self.target_id, self.target.id),
                now(),
            )
        except (StorageBusy, StorageUnavailable) as error:
            again = ReopenForm(
                author.id,
                lambda: FeedbackModal(self.ctx, self.target, self.target_id, self.text.value),
            )
            await _not_saved(interaction, thread, [posted.id], error, again)
            return
        note = glue.short_note(self.ctx, outcome)
        reply = f"Your feedback is posted in {thread.mention}."
        await interaction.followup.send(f"{reply}\n\n{note}" if note else reply, ephemeral=True)

    async def on_error(self, interaction: discord.Interaction, error: Exception) -> None:
        await interaction.client.tree.on_error(interaction, error)


class ReflectButton(discord.ui.DynamicItem[discord.ui.Button], template=views.REFLECT_PATTERN):
    """The "Write reflection" button under every prompt; works across restarts."""

    def __init__(self, round_id: int) -> None:
        super().__init__(views.reflect_button(round_id))
        self.round_id = round_id

    @classmethod
    async def from_custom_id(
        cls, interaction: discord.Interaction, item: discord.ui.Button, match: re.Match[str]
    ) -> ReflectButton:
        return cls(int(match["round_id"]))

    async def callback(self, interaction: discord.Interaction) -> None:
        # Dynamic items report errors to an internal view that only logs them, so hand
        # them to the one error handler here, where the member gets a kind reply.
        try:
            await self._open_form(interaction)
        except Exception as error:
            await interaction.client.tree.on_error(interaction, error)

    async def _open_form(self, interaction: discord.Interaction) -> None:
        round_ = await rounds.get_round(interaction.client.db, self.round_id)
        ctx = None
        if round_ is not None and round_.thread_id is not None:
            ctx = await reflections.context_for_thread(interaction.client.db, round_.thread_id)
        if ctx is None or ctx.round.state != "posted":
            raise InvalidInput("This round has closed, so it no longer takes reflections.")
        _require_member(interaction, ctx)
        await interaction.response.send_modal(ReflectionModal(ctx))


class Reflections(commands.Cog):
    def __init__(self, bot: commands.Bot) -> None:
        self.bot = bot
        self.inbox: Batcher[discord.Message, None] = Batcher(self.store)
        self.unsaved: dict[int, int] = {}  # thread -> oldest message not stored yet
        self.unapplied: list[Change] = []  # edits and deletions the database refused
        self._follow_ups: set[asyncio.Task] = set()
        self.feedback_menu = app_commands.ContextMenu(
            name="Give feedback", callback=self.give_feedback
        )
        self.feedback_menu.guild_only = True

    async def cog_load(self) -> None:
        self.bot.retry_hooks.append(self.retry_refused)  # after each healthy tick
        self.bot.message_handlers.append(self.take_message)
        self.bot.add_dynamic_items(ReflectButton)
        self.bot.tree.add_command(self.feedback_menu)

    async def cog_unload(self) -> None:
        self.bot.message_handlers.remove(self.take_message)
        await self.settle()  # shutting down: store what is queued, send its ✅s
        self.bot.retry_hooks.remove(self.retry_refused)
        self.bot.remove_dynamic_items(ReflectButton)
        self.bot.tree.remove_command(self.feedback_menu.name, type=self.feedback_menu.type)

    # ------------------------------------------------------------------ commands

    @app_commands.command(name="reflect", description="Write this round's reflection in a form")
    @app_commands.describe(cohort="Your cohort (needed only if you are in more than one)")
    @app_commands.guild_only()
    async def reflect(self, interaction: discord.Interaction, cohort: str | None = None) -> None:
        ctx = await self._members_round(interaction, cohort)
        await interaction.response.send_modal(ReflectionModal(ctx))

    async def _members_round(
        self, interaction: discord.Interaction, name: str | None
    ) -> RoundContext:
        found = await cohorts.list_cohorts(self.bot.db, interaction.guild_id)
        mine = [c for c in found if glue.author_of(interaction.user, c).role is Role.MEMBER]
        if name is not None:
            mine = [c for c in mine if name_key(c.name) == name_key(name)]
        if not mine:
            raise NotAllowed("You aren't a member of a cohort here (by that name).")
        if len(mine) > 1:
            names = ", ".join(f"**{c.name}**" for c in mine)
            raise InvalidInput(f"You're in several cohorts ({names}); name one with `cohort`.")
        ctx = await reflections.current_context(self.bot.db, mine[0])
        if ctx is None or ctx.round.state != "posted":
            raise InvalidInput(f"**{mine[0].name}** has no open round right now.")
        return ctx

    async def give_feedback(
        self, interaction: discord.Interaction, message: discord.Message
    ) -> None:
        ctx = await glue.context_for_channel(self.bot, message.channel)
        target = (
            None
            if ctx is None
            else await reflections.reflection_author(self.bot.db, ctx, message.id)
        )
        if ctx is None or target is None:
            raise InvalidInput("“Give feedback” works on a peer's reflection in a round thread.")
        author = _require_member(interaction, ctx)
        if target == author.id:
            raise InvalidInput("That's your own reflection: add to it in the thread instead.")
        await interaction.response.send_modal(FeedbackModal(ctx, message, target))

    # ----------------------------------------------------------------- listeners

    def take_message(self, message: discord.Message) -> None:
        """Every message the bot receives (see ``PraxisBot.on_message``): queue thread texts."""
        if self.bot.intents.message_content and glue.is_member_text(message):
            self.inbox.put(message)  # stored with whatever else arrives at this moment

    async def store(self, messages: list[discord.Message]) -> list[None]:
        """Store thread messages in one transaction, then start what each one leads to.

        Runs for a whole batch (see :class:`~bot.core.batching.Batcher`), so a burst
        costs one commit, and no task per message unless it needs a ✅, a pairing or a
        privacy reminder, all of which start only after the commit. If the database
        can't be written, the threads are remembered and read back from Discord once it
        can (:meth:`retry_refused`): nothing is lost, and nothing is acknowledged unstored.
        """
        try:
            items, sources = await self._resolve(messages)
            outcomes = await reflections.ingest_batch(self.bot.db, items)
        except Exception as error:  # nobody awaits a listener's batch: handle it here
            self._not_stored(messages, error)
            return [None] * len(messages)
        for (message, member), (ctx, item), outcome in zip(sources, items, outcomes, strict=True):
            findings = find_identifiers(message.content) if outcome.stored else ()
            if outcome.ack or outcome.unack or findings:
                self._start(self._after_store(message, member, ctx, item.author, outcome, findings))
        return [None] * len(messages)

    async def _resolve(self, messages: list[discord.Message]):
        """Each message's round and author; messages outside rounds and cohorts drop out."""
        items, sources = [], []
        for message in messages:
            ctx = self.bot.contexts.peek(message.channel.id)
            if ctx is False:
                ctx = await self.bot.contexts.get(message.channel.id)
            if ctx is None:
                continue
            member = message.author
            if not isinstance(member, discord.Member):
                member = await glue.resolve_member(message.guild, member)
            author = glue.author_of(member, ctx.cohort)
            if author.role is not Role.OTHER:
                items.append((ctx, glue.incoming(message, author)))
                sources.append((message, member))
        return items, sources

    def _not_stored(self, messages: list[discord.Message], error: Exception) -> None:
        """Remember where to read back from; the tick confirms and announces an outage."""
        if isinstance(error, StorageBusy | StorageUnavailable):
            log.warning("%d thread messages not stored yet (%s); they will be read back "
                        "from their threads", len(messages), type(error).__name__)  # fmt: skip
            self.bot.storage_trouble()
        else:
            log.exception("Could not store %d thread messages", len(messages))
        for message in messages:
            self._refused(message.channel.id, message.id)

    async def _after_store(self, message, member, ctx: RoundContext, author, outcome, findings):
        await glue.apply(self.bot, message.channel, outcome)
        if outcome.ack and ctx.round.assigned:
            await pairs.add_latecomer(self.bot.db, self.bot.chat, ctx, author.id)
        if findings:
            await self._privacy_reminder(member, ctx, findings, message.jump_url)

    async def settle(self) -> None:
        """Wait until every message received so far is stored and its ✅ is sent."""
        await self.inbox.drain()
        while self._follow_ups:
            await asyncio.gather(*self._follow_ups, return_exceptions=True)

    def _start(self, work) -> None:
        """Run follow-up work in its own task, kept referenced until it finishes."""
        task = asyncio.get_running_loop().create_task(work)
        self._follow_ups.add(task)
        task.add_done_callback(self._follow_ups.discard)

    async def _privacy_reminder(self, member, ctx: RoundContext, findings, link: str) -> None:
        """A private word, once per member and round, when a thread message may name a client."""
        kind = "privacy_reminder"
        if not await notes.claim(self.bot.db, ctx.round.id, member.id, kind, "dm", now()):
            return
        text = (
            f"A quick, private reminder about your message in round {ctx.round.number} of "
            f"**{ctx.cohort.name}** ({link}): it seems to contain {describe(findings)}, which "
            "could identify a client. Please consider editing it to change names and details. "
            "Nobody else has been told."
        )
        try:
            await member.send(text)
            outcome = "sent"
        except discord.HTTPException as error:
            outcome = f"failed: HTTP {error.status}"
        await notes.record(self.bot.db, ctx.round.id, member.id, kind, "dm", outcome)

    @commands.Cog.listener()
    async def on_raw_message_edit(self, payload: discord.RawMessageUpdateEvent) -> None:
        content = payload.data.get("content")
        if content is None or not self.bot.intents.message_content:
            return
        await self._change(Change(payload.channel_id, payload.message_id, content))

    @commands.Cog.listener()
    async def on_raw_message_delete(self, payload: discord.RawMessageDeleteEvent) -> None:
        await self._change(Change(payload.channel_id, payload.message_id, None))

    @commands.Cog.listener()
    async def on_raw_bulk_message_delete(self, payload: discord.RawBulkMessageDeleteEvent) -> None:
        for message_id in sorted(payload.message_ids):
            await self._change(Change(payload.channel_id, message_id, None))

    async def _change(self, change: Change) -> bool:
        """Apply an edit or deletion. If the database refuses, keep it (in memory) for the
        catch-up: a member's deletion must reach the stored text, not just Discord."""
        db = self.bot.db
        try:
            if change.text is None:
                outcome = await reflections.apply_delete(db, change.message_id, now())
            else:
                outcome = await reflections.apply_edit(db, change.message_id, change.text, now())
        except (StorageBusy, StorageUnavailable) as error:
            log.warning("An edit or deletion waits for the database (%s)", type(error).__name__)
            self.unapplied.append(change)
            self.bot.storage_trouble()
            return False
        await self._after_change(change.channel_id, outcome)
        return True

    async def _after_change(self, channel_id: int, outcome: reflections.Outcome) -> None:
        if outcome.ack or outcome.unack:
            channel = self.bot.get_channel(channel_id)
            if channel is not None:
                await glue.apply(self.bot, channel, outcome)

    @commands.Cog.listener()
    async def on_ready(self) -> None:
        """On start and on every new session: read what open threads got while we were away."""
        await self.catch_up()

    async def catch_up(self) -> None:
        """Read every open round's thread from where storing stopped (start-up, reconnect)."""
        await self._replay_changes()
        if not self.bot.intents.message_content:
            return
        contexts = await reflections.open_contexts(self.bot.db)
        limit = asyncio.Semaphore(BACKFILL_THREADS_AT_ONCE)

        async def one(ctx: RoundContext) -> None:
            async with limit:
                await self.backfill(ctx)

        await asyncio.gather(*(one(ctx) for ctx in contexts))

    async def retry_refused(self) -> None:
        """Redo what the database refused: edits and deletions, then the threads' messages."""
        await self._replay_changes()
        for thread_id in list(self.unsaved):
            ctx = await self.bot.contexts.get(thread_id)
            if ctx is None:  # not a round thread after all
                self.unsaved.pop(thread_id, None)
            else:
                await self.backfill(ctx)

    async def _replay_changes(self) -> None:
        waiting, self.unapplied = self.unapplied, []
        for number, change in enumerate(waiting):
            if not await self._change(change):  # still refused: keep the rest, in order
                self.unapplied.extend(waiting[number + 1 :])
                return

    async def backfill(self, ctx: RoundContext) -> None:
        """One history request per open thread when nothing was missed.

        Reading starts after the newest stored message, or before the first message the
        database refused, whichever is earlier; what is already stored is skipped.
        """
        thread_id = ctx.round.thread_id
        start = await reflections.last_seen_message(self.bot.db, ctx)
        refused = self.unsaved.pop(thread_id, None)
        if refused is not None:
            start = min(start, refused - 1)
        try:
            thread = await _thread(self.bot, ctx)
            page: list[discord.Message] = []
            history = thread.history(limit=None, after=discord.Object(start), oldest_first=True)
            async for message in history:
                if glue.is_member_text(message):
                    page.append(message)
                if len(page) == BACKFILL_BATCH:
                    await self.store(page)
                    page = []
            await self.store(page)
        except discord.HTTPException as error:
            log.warning("Backfill of round %s failed (HTTP %s)", ctx.round.id, error.status)
            if error.status == 429 or error.status >= 500:  # worth another try next tick
                self._refused(thread_id, start + 1)

    def _refused(self, thread_id: int, message_id: int) -> None:
        """Remember the oldest message of a thread that still has to be read back."""
        self.unsaved[thread_id] = min(message_id, self.unsaved.get(thread_id, message_id))


async def setup(bot: commands.Bot) -> None:
    await bot.add_cog(Reflections(bot))
