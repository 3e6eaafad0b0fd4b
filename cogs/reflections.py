"""Reflections and feedback: thread replies, the reflection form, "Give feedback", backfill."""

from __future__ import annotations

import asyncio
import logging
import re

import discord
from discord import app_commands
from discord.ext import commands

from bot.core import cohorts, notes, pairs, ratings, reflections, rounds
from bot.core.batching import Batcher
from bot.core.drafts import Drafts
from bot.core.errors import InvalidInput, NotAllowed, StorageBusy, StorageUnavailable
from bot.core.limits import MAX_FEEDBACK_GUIDE_HEADINGS, MAX_SECTION_LABEL_CHARS
from bot.core.privacy import describe, find_identifiers, find_identifiers_in
from bot.core.prompts import DEFAULT_STRUCTURE
from bot.core.reflections import Role, RoundContext
from bot.core.text import headed_text, name_key
from bot.discord import ratings as rating_glue
from bot.discord import reflections as glue
from bot.discord import views
from bot.discord.embeds import Tone, embed
from bot.pacing import Pace
from bot.storage.pending import DELETE, EDIT, Backlog, Pending, PendingFile
from cogs._common import now

log = logging.getLogger(__name__)

BACKFILL_BATCH = 100  # messages stored in one transaction
HISTORY_PAGE = 100  # messages per history request (discord.py's page)
BACKFILL_THREADS_AT_ONCE = 8  # threads read at once: enough to keep the pace at ~100 ms a request
#: Discord lets a bot make 50 requests a second in all (the global limit). Backfill takes
#: at most 40 a second after a burst of 5, so in any second at least 5 are left for what
#: people are waiting on (form posts, ✅s, reminders); answering an interaction doesn't
#: count towards the global limit at all.
BACKFILL_RATE = 40.0
BACKFILL_BURST = 5
FIELD_LIMIT = 4000  # Discord's maximum for one text input
DEIDENTIFY = "Change names and details so no client can be recognised."


async def _thread(bot: commands.Bot, ctx: RoundContext, pace: Pace | None = None):
    """The round's thread, unarchived; ``pace`` (backfill's) paces the requests it takes."""
    thread = bot.get_channel(ctx.round.thread_id)
    if thread is None:
        if pace is not None:
            await pace.take()
        thread = await bot.fetch_channel(ctx.round.thread_id)
    if isinstance(thread, discord.Thread) and thread.archived:
        if pace is not None:
            await pace.take()
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


DRAFT_GONE = (
    "Praxis no longer holds that text (it has restarted since, half an hour has passed, or "
    "you have already chosen): it never saves a form before it is posted. If your text "
    "isn't in the thread, please open the form again."
)


def draft_view(interaction: discord.Interaction, author_id: int, *, once: bool, **buttons):
    """Buttons (action=(label, style, callback)) over text held in the cog's :class:`Drafts`."""
    actions = {action: callback for action, (_, _, callback) in buttons.items()}
    token = interaction.client.get_cog("Reflections").drafts.hold(author_id, once=once, **actions)
    view = discord.ui.View(timeout=None)
    for action, (label, style, _) in buttons.items():
        view.add_item(views.draft_button(token, action, label, style))
    return view


def privacy_check(interaction, author_id: int, edit, post) -> discord.ui.View:
    """Offered when a form looks like it names a client: edit it, or post it as it is."""
    return draft_view(
        interaction,
        author_id,
        once=True,
        edit=("Edit", discord.ButtonStyle.primary, edit),
        post=("Post anyway", discord.ButtonStyle.secondary, post),
    )


def reopen_form(interaction, author_id: int, make_form) -> discord.ui.View:
    """After a form couldn't be saved: open it again with the member's text in it."""

    async def reopen(button_interaction: discord.Interaction) -> None:
        await views.show_form(button_interaction, make_form())

    return draft_view(
        interaction,
        author_id,
        once=False,
        reopen=("Open my text again", discord.ButtonStyle.primary, reopen),
    )


class DraftButton(discord.ui.DynamicItem[discord.ui.Button], template=views.DRAFT_PATTERN):
    """Any button of :func:`draft_view`, found by custom id, with or without a restart."""

    def __init__(self, token: str, action: str) -> None:
        super().__init__(discord.ui.Button(custom_id=f"praxis:draft:{token}:{action}"))
        self.token, self.action = token, action

    @classmethod
    async def from_custom_id(
        cls, interaction: discord.Interaction, item: discord.ui.Button, match: re.Match[str]
    ) -> DraftButton:
        return cls(match["token"], match["action"])

    async def callback(self, interaction: discord.Interaction) -> None:
        try:
            drafts = interaction.client.get_cog("Reflections").drafts
            act = drafts.take(self.token, self.action, interaction.user.id)
            if act is None:
                raise InvalidInput(DRAFT_GONE)
            await act(interaction)
        except Exception as error:  # dynamic items only log errors: reply kindly here
            await interaction.client.tree.on_error(interaction, error)


async def _not_saved(interaction, thread, new_posts: list[int], error, again) -> None:
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


def form_headings(ctx: RoundContext) -> tuple[str, ...]:
    return tuple(ctx.round.structure or DEFAULT_STRUCTURE)[:5]


class ReflectionModal(discord.ui.Modal):
    """The round's headings as fields. Only what the member sees: the submission is
    handled by the form's custom id (:func:`reflection_submitted`), restart or not."""

    def __init__(
        self, ctx: RoundContext, prefill: list[str] | None = None, *, private: bool = False
    ) -> None:
        kind = "private reflection" if private else "reflection"
        title = f"Round {ctx.round.number} {kind}"[:45]
        custom_id = views.reflect_form_id(ctx.round.id, private=private)
        super().__init__(title=title, custom_id=custom_id)
        for index, heading in enumerate(form_headings(ctx)):
            self.add_item(
                discord.ui.TextInput(
                    label=heading[:MAX_SECTION_LABEL_CHARS],
                    custom_id=f"section_{index}",
                    style=discord.TextStyle.paragraph,
                    max_length=FIELD_LIMIT,
                    required=index == 0,
                    placeholder=DEIDENTIFY if index == 0 else None,
                    default=prefill[index] if prefill and index < len(prefill) else None,
                )
            )


def feedback_headings(ctx: RoundContext | None) -> tuple[str, ...]:
    """The cohort's feedback guide: one form field per question (none: one free field)."""
    return ctx.cohort.feedback_headings[:MAX_FEEDBACK_GUIDE_HEADINGS] if ctx else ()


def feedback_sections(ctx: RoundContext | None, values: dict[str, str]) -> list[tuple[str, str]]:
    """The answered fields as (heading, text). A form opened under another guide (or
    before guides) still gives every word back: its free field has no heading."""
    headings = feedback_headings(ctx)
    fields = [("", values.get("feedback", ""))] + [
        (headings[i] if i < len(headings) else "", values.get(f"feedback_{i}", ""))
        for i in range(MAX_FEEDBACK_GUIDE_HEADINGS)
    ]
    return [(heading, text) for heading, text in fields if text.strip()]


class FeedbackModal(discord.ui.Modal):
    """The cohort's guide questions as fields (or one free field), answering a reflection;
    handled by its custom id (:func:`feedback_submitted`), restart or not."""

    def __init__(
        self, ctx: RoundContext, target_message_id: int, prefill: dict[str, str] | None = None
    ) -> None:
        custom_id = views.feedback_form_id(ctx.round.id, target_message_id)
        anonymous = ctx.cohort.anonymous_feedback
        title = reflections.ANONYMOUS_FORM_TITLE if anonymous else "Give feedback"
        super().__init__(title=title, custom_id=custom_id)
        prefill = prefill or {}
        headings = feedback_headings(ctx)
        if not headings:
            self.add_item(_feedback_field("Your response to this reflection", "feedback", prefill))
            return
        share = (FIELD_LIMIT - 60 * len(headings)) // len(headings)  # the post is one embed
        for index, heading in enumerate(headings):
            field = _feedback_field(heading, f"feedback_{index}", prefill, max_length=share)
            field.required = index == 0
            self.add_item(field)


def _feedback_field(
    label: str, custom_id: str, prefill: dict[str, str], max_length: int = FIELD_LIMIT
) -> discord.ui.TextInput:
    return discord.ui.TextInput(
        label=label[:MAX_SECTION_LABEL_CHARS],
        custom_id=custom_id,
        style=discord.TextStyle.paragraph,
        max_length=max_length,
        placeholder="What struck you, and why? What might you try in their place?"
        if custom_id in ("feedback", "feedback_0")
        else None,
        default=prefill.get(custom_id) or None,
    )


ANONYMOUS_REPLY_NOTE = "A thread reply is never anonymous."
CLOSED_FOR_REFLECTIONS = "This round has closed, so it no longer takes reflections."


async def form_context(db, round_id: int) -> RoundContext | None:
    """The round a form belongs to, as it is now (posted or closed), or None if gone."""
    round_ = await rounds.get_round(db, round_id)
    if round_ is None or round_.thread_id is None:
        return None
    return await reflections.context_for_thread(db, round_.thread_id)


async def give_back(interaction: discord.Interaction, reason: str, sections) -> None:
    """A form that can't be posted any more: its writer gets every word back, privately."""
    cards = glue.text_back_embeds(sections)
    intro = f"{reason} Here is what you wrote, so nothing is lost." if cards else reason
    await interaction.response.send_message(intro, embeds=cards[:1], ephemeral=True)
    for card in cards[1:]:
        await interaction.followup.send(embed=card, ephemeral=True)


async def reflection_submitted(interaction: discord.Interaction, form: views.FormSubmission):
    """A reflection form came back: check it, then post and store it (or give it back)."""
    ctx = await form_context(interaction.client.db, form.round_id)
    headings = form_headings(ctx) if ctx else ()
    values = [form.values.get(f"section_{i}", "") for i in range(max(len(headings), 5))]
    labelled = [(headings[i] if i < len(headings) else "", text) for i, text in enumerate(values)]
    sections = [(heading, text) for heading, text in labelled if text.strip()]
    if ctx is None or ctx.round.state != "posted":
        await give_back(interaction, CLOSED_FOR_REFLECTIONS, sections)
        return
    author = _require_member(interaction, ctx)
    if not sections:
        raise InvalidInput("Your reflection is empty, so nothing was posted.")
    values = values[: len(headings)]

    async def post(pressed: discord.Interaction) -> None:
        if form.private:  # to the facilitators only, never the thread
            await _send_privately(pressed, ctx, author, sections)
        else:
            await _post_reflection(pressed, ctx, author, sections, values)

    findings = find_identifiers("\n\n".join(text for _, text in sections))
    if findings:
        await _ask_before_posting(
            interaction,
            author.id,
            findings,
            reopen=lambda: ReflectionModal(ctx, values, private=form.private),
            post=post,
        )
        return
    await post(interaction)


async def _send_privately(interaction, ctx: RoundContext, author, sections) -> None:
    """A reflection for the facilitators only: to them, counted, never in the thread."""
    reflections.require_private_allowed(ctx)  # the cohort may have turned it off since
    await interaction.response.defer(ephemeral=True, thinking=True)
    db = interaction.client.db
    outcome = await reflections.save_private_reflection(
        db, interaction.client.chat, ctx, author, interaction.id, sections, now()
    )
    if outcome.ack:
        await pairs.add_latecomer(db, interaction.client.chat, ctx, author.id)
    reply = (
        f"Your private reflection ({outcome.words} words) went to the facilitators of "
        f"**{ctx.cohort.name}** only; it isn't in the thread."
    )
    if outcome.counted:
        reply += " It counts for this round."
    note = glue.short_note(ctx, outcome)
    await interaction.followup.send(f"{reply}\n\n{note}" if note else reply, ephemeral=True)


async def _ask_before_posting(interaction, author_id: int, findings, *, reopen, post) -> None:
    """The form may name a client: say what was found, and let the member edit or post."""

    async def edit(pressed: discord.Interaction) -> None:
        await views.show_form(pressed, reopen())

    await interaction.response.send_message(
        privacy_warning(findings),
        view=privacy_check(interaction, author_id, edit, post),
        ephemeral=True,
    )


async def _post_reflection(interaction, ctx: RoundContext, author, sections, values) -> None:
    await interaction.response.defer(ephemeral=True, thinking=True)
    bot, db = interaction.client, interaction.client.db
    thread = await _thread(bot, ctx)
    existing = await reflections.form_message_ids(db, ctx.round.id, author.id)
    parts = await glue.post_form_reflection(thread, interaction.user, sections, existing)
    try:
        outcome = await reflections.save_form_reflection(
            db, ctx, author, parts, form_headings(ctx), now()
        )
    except (StorageBusy, StorageUnavailable) as error:
        new = [message_id for message_id, _ in parts if message_id not in existing]
        again = reopen_form(interaction, author.id, lambda: ReflectionModal(ctx, values))
        await _not_saved(interaction, thread, new, error, again)
        return
    await glue.apply(bot, thread, outcome)
    if outcome.ack:
        await pairs.add_latecomer(db, bot.chat, ctx, author.id)
    verb = "updated" if existing else "posted"
    reply = f"Your reflection is {verb} in {thread.mention} ({outcome.words} words)."
    note = glue.short_note(ctx, outcome)
    await interaction.followup.send(f"{reply}\n\n{note}" if note else reply, ephemeral=True)


async def feedback_submitted(interaction: discord.Interaction, form: views.FormSubmission):
    """A "Give feedback" form came back: post it as a reply to the reflection, or give it
    back if the round or the reflection is gone."""
    db = interaction.client.db
    ctx = await form_context(db, form.round_id)
    sections = feedback_sections(ctx, form.values)
    if ctx is None:
        await give_back(interaction, "This round no longer takes feedback.", sections)
        return
    target = await reflections.reflection_author(db, ctx, form.target_message_id)
    if target is None:
        gone = "That reflection has been deleted, so your feedback wasn't posted."
        await give_back(interaction, gone, sections)
        return
    author = _require_member(interaction, ctx)
    findings = find_identifiers(headed_text(sections))
    if findings:
        await _ask_before_posting(
            interaction,
            author.id,
            findings,
            reopen=lambda: FeedbackModal(ctx, form.target_message_id, form.values),
            post=lambda pressed: _post_feedback(pressed, ctx, author, form, target),
        )
        return
    await _post_feedback(interaction, ctx, author, form, target)


async def _post_feedback(interaction, ctx: RoundContext, author, form, target: int) -> None:
    await interaction.response.defer(ephemeral=True, thinking=True)
    text, target_message = headed_text(feedback_sections(ctx, form.values)), form.target_message_id
    thread = await _thread(interaction.client, ctx)
    label = await reflections.anonymous_label(interaction.client.db, ctx, author.id)
    card = embed("Feedback", text, tone=Tone.SUCCESS)
    if label is None:
        user = interaction.user
        card.set_author(name=user.display_name, icon_url=user.display_avatar.url)
    else:
        card.set_author(name=label)  # no picture: nothing that leads back to the giver
    reference = thread.get_partial_message(target_message)
    posted = await thread.send(embed=card, reference=reference, mention_author=False)
    try:
        outcome = await reflections.save_form_feedback(
            interaction.client.db, ctx, author, posted.id, text, (target, target_message), now(),
            feedback_headings(ctx), anonymous=label is not None,
        )  # fmt: skip
    except (StorageBusy, StorageUnavailable) as error:
        again = reopen_form(
            interaction, author.id, lambda: FeedbackModal(ctx, target_message, form.values)
        )
        await _not_saved(interaction, thread, [posted.id], error, again)
        return
    note = glue.short_note(ctx, outcome)
    reply = f"Your feedback is posted in {thread.mention}."
    if label is not None:
        reply = f"Your feedback is posted in {thread.mention} as {label}. {ANONYMOUS_REPLY_NOTE}"
    await interaction.followup.send(f"{reply}\n\n{note}" if note else reply, ephemeral=True)
    interaction.client.get_cog("Reflections").questions.put([posted.id])


def _new_feedback(outcome: reflections.Outcome) -> bool:
    """Feedback just stored: its reflection's writer is asked whether it helped."""
    return outcome.stored and outcome.kind == "feedback"


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
        ctx = await form_context(interaction.client.db, self.round_id)
        if ctx is None or ctx.round.state != "posted":
            raise InvalidInput(CLOSED_FOR_REFLECTIONS)
        _require_member(interaction, ctx)
        await views.show_form(interaction, ReflectionModal(ctx))


class Reflections(commands.Cog):
    def __init__(self, bot: commands.Bot) -> None:
        self.bot = bot
        self.inbox: Batcher[glue.Received, None] = Batcher(self.store)
        # Both also noted in a file beside the database, so a crash loses neither.
        settings = bot.settings
        journal = PendingFile.beside(settings.database_path, process=settings.process_tag)
        self.backlog = Backlog(journal)
        self._follow_ups: set[asyncio.Task] = set()
        self.drafts = Drafts()  # unposted form text, in memory only
        self.feedback_menu = app_commands.ContextMenu(
            name="Give feedback", callback=self.give_feedback
        )
        self.feedback_menu.guild_only = True
        #: Backfill's share of Discord's global rate limit (see BACKFILL_RATE), which is the
        #: bot's, shared by all its processes: each takes its share of the shards' worth.
        self.pace = Pace(BACKFILL_RATE * settings.shard_share, BACKFILL_BURST)
        self.catching_up: asyncio.Task | None = None  # the backfill running in the background
        self.questions = rating_glue.outbox(bot)  # "was it helpful?", after the ✅s, paced

    async def cog_load(self) -> None:
        # What an earlier run noted and could not redo (see bot/storage/pending.py) is
        # redone at the first ready, or once the database takes writes.
        waiting = self.backlog.resume()
        if waiting:
            log.info("%d refused changes from an earlier run are redone once the database "
                     "takes writes", waiting)  # fmt: skip
        self.bot.retry_hooks.append(self.retry_refused)  # after each healthy tick
        self.bot.message_handlers.append(self.take_message)
        self.bot.add_dynamic_items(ReflectButton, DraftButton, rating_glue.RateButton)
        self.bot.tree.add_command(self.feedback_menu)

    async def cog_unload(self) -> None:
        await self.stop_catch_up()  # what it stored is whole; the next start reads the rest
        self.bot.message_handlers.remove(self.take_message)
        await self.settle(questions=False)  # shutting down: store what is queued, send its ✅s
        await self.questions.close()  # unclaimed questions are asked after the next start
        self.bot.retry_hooks.remove(self.retry_refused)
        self.bot.remove_dynamic_items(ReflectButton, DraftButton)
        self.bot.tree.remove_command(self.feedback_menu.name, type=self.feedback_menu.type)

    # ------------------------------------------------------------------ commands

    @app_commands.command(name="reflect", description="Write this round's reflection in a form")
    @app_commands.describe(
        cohort="Your cohort (needed only if you are in more than one)",
        private="Send it to the facilitators only (it counts, but isn't in the thread)",
    )
    @app_commands.guild_only()
    async def reflect(
        self, interaction: discord.Interaction, cohort: str | None = None, private: bool = False
    ) -> None:
        ctx = await self._members_round(interaction, cohort)
        if private:
            reflections.require_private_allowed(ctx)
        await views.show_form(interaction, ReflectionModal(ctx, private=private))

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
        await views.show_form(interaction, FeedbackModal(ctx, message.id))

    # ----------------------------------------------------------------- listeners

    @commands.Cog.listener()
    async def on_interaction(self, interaction: discord.Interaction) -> None:
        """Every form submission, with or without a restart since it was opened (see
        :func:`bot.discord.views.show_form`): rebuilt from its custom id."""
        form = views.form_submission(interaction)
        if form is None:
            return
        submitted = reflection_submitted if form.target_message_id is None else feedback_submitted
        try:
            await submitted(interaction, form)
        except Exception as error:  # no modal in memory to report it: reply kindly here
            await interaction.client.tree.on_error(interaction, error)

    def take_message(self, message: discord.Message) -> None:
        """Every message the bot receives (see ``PraxisBot.dispatch``): queue thread texts."""
        if self.bot.intents.message_content and glue.is_member_text(message):
            self.inbox.push(glue.Received.of(message))  # stored with what else arrives now

    async def store(self, messages: list[glue.Received]) -> list[None]:
        """Store thread messages in one transaction, then start what they lead to.

        Runs for a whole batch (see :class:`~bot.core.batching.Batcher`), so a burst
        costs one commit. After the commit, one task per thread sends that thread's ✅s
        (and pairings and rating questions) in order, and one task checks every stored
        text for client identifiers and sends the privacy reminders: the ✅ never waits
        for that check. If the database can't be written, the threads are remembered and
        read back from Discord once it can (:meth:`retry_refused`): nothing is lost, and
        nothing is acknowledged unstored.
        """
        try:
            items, sources = await self._resolve(messages)
            outcomes = await reflections.ingest_batch(self.bot.db, items)
        except Exception as error:  # nobody awaits a listener's batch: handle it here
            self._not_stored(messages, error)
            return [None] * len(messages)
        by_thread: dict[int, list[tuple]] = {}
        stored = []
        for (message, member), (ctx, item), outcome in zip(sources, items, outcomes, strict=True):
            if outcome.stored:
                stored.append((message, member, ctx))
            if outcome.ack or outcome.unack or _new_feedback(outcome):
                work = (message, ctx, item.author, outcome)
                by_thread.setdefault(message.channel.id, []).append(work)
        for work in by_thread.values():
            self._start(self._after_store(work))
        if stored:
            self._start(self._check_privacy(stored))
        return [None] * len(messages)

    async def _resolve(self, messages: list[glue.Received]):
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

    def _not_stored(self, messages: list[glue.Received], error: Exception) -> None:
        """Remember where to read back from; the tick confirms and announces an outage."""
        if isinstance(error, StorageBusy | StorageUnavailable):
            log.warning("%d thread messages not stored yet (%s); they will be read back "
                        "from their threads", len(messages), type(error).__name__)  # fmt: skip
            self.bot.storage_trouble()
        else:
            log.exception("Could not store %d thread messages", len(messages))
        for message in messages:
            self.backlog.read_back(message.channel.id, message.id)

    async def _after_store(self, work: list[tuple]) -> None:
        """One thread's ✅s and late pairings, in the order posted: one task for the lot (a
        task per ✅ cost more than the ✅), one request at a time, as Discord's per-channel
        reaction limit would make them anyway; then its rating questions join the queue."""
        feedback = []
        for message, ctx, author, outcome in work:
            try:
                await glue.apply(self.bot, message.channel, outcome)
                if outcome.ack and ctx.round.assigned:
                    await pairs.add_latecomer(self.bot.db, self.bot.chat, ctx, author.id)
                if _new_feedback(outcome):
                    feedback.append(message.id)
            except Exception:  # one message's trouble must not hold back the others
                log.exception("Follow-up of a stored thread message failed")
        self.questions.put(feedback)  # asked after the ✅s, at the questions' own pace

    async def _check_privacy(self, stored: list[tuple]) -> None:
        """Check every stored text for client identifiers (off the event loop for a big
        batch, see :func:`~bot.core.privacy.find_identifiers_in`) and remind the writers."""
        found = await find_identifiers_in([message.content for message, _, _ in stored])
        flagged: dict[tuple[int, int], tuple] = {}
        for (message, member, ctx), findings in zip(stored, found, strict=True):
            if findings:
                flagged.setdefault((ctx.round.id, member.id), (message, member, ctx, findings))
        if flagged:
            await self._privacy_reminders(flagged)

    async def settle(self, questions: bool = True) -> None:
        """Wait until every message received so far is stored and its ✅ is sent, and
        (unless ``questions`` is False) its rating questions are asked."""
        await self.inbox.drain()
        while self._follow_ups:
            await asyncio.gather(*self._follow_ups, return_exceptions=True)
        if questions:
            await self.questions.drain()

    def _start(self, work) -> asyncio.Task:
        """Run follow-up work in its own task, kept referenced until it finishes."""
        task = asyncio.get_running_loop().create_task(work)
        self._follow_ups.add(task)
        task.add_done_callback(self._follow_ups.discard)
        return task

    async def _privacy_reminders(self, flagged: dict[tuple[int, int], tuple]) -> None:
        """A private word, once per member and round, when a thread message may name a
        client: claimed for the whole batch in one transaction before sending (a crash
        can lose a reminder, never send one twice), the outcomes recorded in another."""
        kind, db = "privacy_reminder", self.bot.db
        claimed = await notes.claim_many(db, list(flagged), kind, "dm", now())
        outcomes = []
        for key in sorted(claimed):
            message, member, ctx, findings = flagged[key]
            text = (
                f"A quick, private reminder about your message in round {ctx.round.number} of "
                f"**{ctx.cohort.name}** ({message.jump_url}): it seems to contain "
                f"{describe(findings)}, which could identify a client. Please consider "
                "editing it to change names and details. Nobody else has been told."
            )
            try:
                await member.send(text)
                outcomes.append((*key, "sent"))
            except discord.HTTPException as error:
                outcomes.append((*key, f"failed: HTTP {error.status}"))
        await notes.record_many(db, outcomes, kind, "dm")

    @commands.Cog.listener()
    async def on_raw_message_edit(self, payload: discord.RawMessageUpdateEvent) -> None:
        content = payload.data.get("content")
        if content is None or not self.bot.intents.message_content:
            return
        await self._change(Pending(EDIT, payload.channel_id, payload.message_id), content)

    @commands.Cog.listener()
    async def on_raw_message_delete(self, payload: discord.RawMessageDeleteEvent) -> None:
        await self._change(Pending(DELETE, payload.channel_id, payload.message_id))

    @commands.Cog.listener()
    async def on_raw_bulk_message_delete(self, payload: discord.RawBulkMessageDeleteEvent) -> None:
        for message_id in sorted(payload.message_ids):
            await self._change(Pending(DELETE, payload.channel_id, message_id))

    async def _change(self, change: Pending, text: str | None = None) -> None:
        """Apply an edit or deletion as it happens. If the database refuses, keep it for the
        catch-up, noted on disk: a member's deletion must reach the stored text, not just
        Discord, even if the bot crashes before the database is back."""
        if not await self._apply(change, text):
            self.backlog.change(change)

    async def _apply(self, change: Pending, text: str | None = None) -> bool:
        """Apply one change; an edit without ``text`` (a replay) reads the message's
        current text from Discord, so the latest version is stored. False: try later.

        A replayed edit Discord won't let the bot read again (no access to the channel
        any more) is given up, the stored text left as it was: kept, it would hold up
        every change queued after it, deletions too, for good.
        """
        db = self.bot.db
        try:
            if change.kind == EDIT and text is None:
                if not await reflections.edit_matters(db, change.message_id):
                    return True  # not stored (any channel's edits are noted), or gone since
                try:
                    text = await self._current_text(change)
                except discord.HTTPException as error:
                    if not 400 <= error.status < 500 or error.status == 429:
                        raise
                    log.warning("An edit can't be read again (HTTP %s); the stored text "
                                "stays as it was", error.status)  # fmt: skip
                    return True
            if change.kind == DELETE or text is None:
                outcome = await reflections.apply_delete(db, change.message_id, now())
            else:
                outcome = await reflections.apply_edit(db, change.message_id, text, now())
        except (StorageBusy, StorageUnavailable) as error:
            log.warning("An edit or deletion waits for the database (%s)", type(error).__name__)
            self.bot.storage_trouble()
            return False
        except discord.HTTPException as error:
            log.warning("An edit waits for Discord (HTTP %s)", error.status)
            return False
        await self._after_change(change.channel_id, outcome)
        return True

    async def _current_text(self, change: Pending) -> str | None:
        """The message's text now, or None if it has been deleted since."""
        channel = self.bot.get_partial_messageable(change.channel_id)
        await self.pace.take()  # replays share backfill's pace: one request each
        try:
            return (await channel.fetch_message(change.message_id)).content
        except discord.NotFound:
            return None

    async def _after_change(self, channel_id: int, outcome: reflections.Outcome) -> None:
        if outcome.ack or outcome.unack:
            channel = self.bot.get_channel(channel_id)
            if channel is not None:
                await glue.apply(self.bot, channel, outcome)

    @commands.Cog.listener()
    async def on_ready(self) -> None:
        """On start and on every new session: read what open threads got while we were
        away, in the background, so commands are answered meanwhile."""
        self.start_catch_up()

    def start_catch_up(self) -> asyncio.Task:
        """Start (or, on a new session, restart) the backfill task.

        The rounds are held (:class:`~bot.core.unread.Unread`) before this returns, so no
        tick, not even one the scheduler starts at this same ready, nudges on stale data.
        A restarted backfill skips what the first one stored: the database is the truth.
        """
        self.bot.unread.loading("discord")
        if self.catching_up is not None:
            self.catching_up.cancel()
        self.catching_up = asyncio.get_running_loop().create_task(
            self.catch_up(), name="praxis-backfill"
        )
        return self.catching_up

    async def stop_catch_up(self) -> None:
        """Cancel a running backfill and wait for it (a page being stored finishes)."""
        task, self.catching_up = self.catching_up, None
        if task is not None and not task.done():
            task.cancel()
            await asyncio.wait([task])

    async def catch_up(self) -> None:
        """Read every open round's thread from where storing stopped (start-up, reconnect),
        and queue the rating questions a stop left unasked.

        Requests are paced (:attr:`pace`); a few threads are read at once, and each
        thread's page is stored in its own short transaction, so commands never wait
        long for the database. Each round is released for nudges once its thread is read.
        """
        unread = self.bot.unread
        try:
            await self._replay_changes()
            contexts = []
            if self.bot.intents.message_content:
                contexts = [
                    ctx
                    for ctx in await reflections.open_contexts(self.bot.db)
                    if ctx.cohort.platform == "discord"
                    and self.bot.serves("discord", ctx.cohort.guild_id)  # this one's shards
                ]
            unread.waiting("discord", (ctx.round.id for ctx in contexts))
            rounds_here = [ctx.round.id for ctx in contexts]
            self.questions.put(await ratings.unasked(self.bot.db, rounds_here))
            pending = iter(contexts)

            async def reader() -> None:
                for ctx in pending:  # the readers share one iterator: each thread once
                    await self.backfill(ctx)

            await asyncio.gather(*(reader() for _ in range(BACKFILL_THREADS_AT_ONCE)))
        except Exception:
            log.exception("Backfill stopped; refused threads are read back after a tick")
            unread.waiting("discord", ())  # no list: hold nothing rather than everything
        self.backlog.trim()
        self.bot.read_back()

    async def retry_refused(self) -> None:
        """Redo what the database refused: edits and deletions, then the threads' messages,
        and go on asking the rating questions a refused claim held back."""
        self.questions.resume()
        await self._replay_changes()
        for thread_id in list(self.backlog.threads):
            ctx = await self.bot.contexts.get(thread_id)
            if ctx is None:  # not a round thread after all
                self.backlog.threads.pop(thread_id, None)
            else:
                await self.backfill(ctx)
        self.backlog.trim()

    async def _replay_changes(self) -> None:
        waiting, self.backlog.changes = self.backlog.changes, []
        for number, change in enumerate(waiting):
            if change.kind == EDIT and not self.bot.intents.message_content:
                continue  # without the intent edits aren't read at all
            if not await self._apply(change):  # still refused: keep the rest, in order
                self.backlog.changes.extend(waiting[number:])
                return

    async def backfill(self, ctx: RoundContext) -> None:
        """One history request per open thread when nothing was missed.

        Reading starts after the newest stored message, or before the first message the
        database refused, whichever is earlier; what is already stored is skipped. The
        round is released for nudges (:class:`~bot.core.unread.Unread`) once its thread
        is read whole and stored, or can't be read at all (gone, no access); after a
        passing failure it waits for the read-back after the next tick.
        """
        thread_id = ctx.round.thread_id
        try:
            start, forgotten_at = await reflections.last_seen_message(self.bot.db, ctx)
        except (StorageBusy, StorageUnavailable):  # read it whole once the database can
            self.backlog.read_back(thread_id, thread_id + 1)
            return
        if forgotten_at is not None:
            start = max(start, discord.utils.time_snowflake(forgotten_at, high=True))
        refused = self.backlog.threads.pop(thread_id, None)
        if refused is not None:
            start = min(start, refused - 1)
        try:
            thread = await _thread(self.bot, ctx, self.pace)
            page: list[glue.Received] = []
            await self.pace.take()
            history = thread.history(limit=None, after=discord.Object(start), oldest_first=True)
            seen = 0
            async for message in history:
                seen += 1
                if glue.is_member_text(message):
                    page.append(glue.Received.of(message))
                if len(page) == BACKFILL_BATCH:
                    await self._store_page(page)
                    page = []
                if seen % HISTORY_PAGE == 0:
                    await self.pace.take()  # the next message needs another request
            await self._store_page(page)
        except discord.HTTPException as error:
            log.warning("Backfill of round %s failed (HTTP %s)", ctx.round.id, error.status)
            if error.status == 429 or error.status >= 500:  # worth another try next tick
                self.backlog.read_back(thread_id, start + 1)
        if thread_id not in self.backlog.threads:  # else refused: read back later
            self.bot.unread.read(ctx.round.id)

    async def _store_page(self, page: list[glue.Received]) -> None:
        """Store a page of backfill in its own task, which a cancelled backfill (shutdown,
        a new session) doesn't cut short: the transaction and its ✅s finish whole, and
        :meth:`settle` waits for them."""
        if page:
            await asyncio.shield(self._start(self.store(page)))


async def setup(bot: commands.Bot) -> None:
    await bot.add_cog(Reflections(bot))
