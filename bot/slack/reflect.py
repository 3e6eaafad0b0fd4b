"""Members' forms on Slack: Write reflection, Give feedback, and the privacy check.

Discord's twin is ``cogs/reflections.py``; both call the same core (``save_form_reflection``,
``save_form_feedback``, ``find_identifiers``), in each platform's idiom. On Slack:

* The prompt's *Write reflection* button (its value is the round id) and ``/praxis reflect``
  open a modal with one input per heading of the round. The modal's ``private_metadata``
  holds the round (and, for feedback, the reflection answered): Slack keeps views on its
  side, so a form open across a restart is submitted to the new process, which rebuilds
  everything from that and the round as it is now.
* The *Give feedback* message shortcut works on a peer's stored reflection in a round thread.
* A form is posted into the round's thread under the member's own name and picture
  (``chat:write.customize``), in as many messages as the text needs, split at whitespace
  and never cut; sending the form again edits those messages.
* If the text looks like it names a client, a view is pushed over the form saying what
  was found: *Post anyway* posts it, closing it (*Edit*) goes back to the form with the text
  as typed. Meanwhile the text waits in memory only (:class:`~bot.core.drafts.Drafts`),
  never on disk. A thread reply that looks like it names a client gets its writer a
  private reminder in the thread, once per round.
* A form for a round that has closed posts nothing: its writer gets the text back by DM.
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass
from typing import Any

from slack_sdk.errors import SlackApiError

from bot.core import cohorts, notes, pairs, reflections, rounds
from bot.core.drafts import Drafts
from bot.core.errors import InvalidInput, NotAllowed
from bot.core.limits import MAX_FEEDBACK_GUIDE_HEADINGS, MAX_STRUCTURE_SECTIONS
from bot.core.ports import NudgeMessage, Person
from bot.core.privacy import describe, find_identifiers
from bot.core.prompts import DEFAULT_STRUCTURE
from bot.core.reflections import Author, Outcome, Role, RoundContext
from bot.core.text import chunk_sections, headed_text, name_key
from bot.core.wording import nudge_text
from bot.slack import access, blocks
from bot.slack.blocks import DEIDENTIFY_NOTE, context, escape, section, sections
from bot.slack.chat import MESSAGE_CHARS
from bot.slack.errors import kind_errors

log = logging.getLogger(__name__)

REFLECT_FORM = "praxis_reflect_form"
FEEDBACK_SHORTCUT = "praxis_feedback"
FEEDBACK_FORM = "praxis_feedback_form"
PRIVACY_CHECK = "praxis_privacy_check"
FIELD_CHARS = 3000  # Slack's most for one plain-text input
TITLE_CHARS = 24  # ...and for a modal's title
LABEL_CHARS = 2000  # ...and for an input's label
ERROR_CHARS = 150  # a field error Slack shows in full

CLOSED_FOR_REFLECTIONS = "This round has closed, so it no longer takes reflections."
CLOSED_FOR_FEEDBACK = "This round has closed, so it no longer takes feedback."
NOT_A_REFLECTION = "“Give feedback” works on a peer's reflection in a round's thread."
DRAFT_GONE = (
    "Praxis no longer holds that text (it has restarted since, or half an hour has passed): "
    "it never saves a form before it is posted. Go back: your text is still in the form, "
    "and sending it again posts it."
)


@dataclass(frozen=True, slots=True)
class Submitted:
    """A reflection or feedback form as it came back: who, for which round, what text."""

    user: str
    round_id: int
    sections: list[tuple[str, str]]  # (heading, text), empty sections left out
    target_message: int | None = None  # the reflection answered; None for a reflection
    private: str | None = None  # the form's view id when sent to the facilitators only

    @property
    def text(self) -> str:
        return "\n\n".join(body for _, body in self.sections)


@dataclass(frozen=True, slots=True)
class Checked:
    """What a form's check found: the round, its writer and (feedback) whose reflection it
    answers; or a ``refusal`` that still gives the writer their text back."""

    ctx: RoundContext | None
    author: Author | None = None
    target: int | None = None
    refusal: str | None = None


def form_headings(ctx: RoundContext) -> tuple[str, ...]:
    return tuple(ctx.round.structure or DEFAULT_STRUCTURE)


def plain(text: str) -> dict[str, Any]:
    return {"type": "plain_text", "text": text}


def _text_input(block_id: str, label: str, *, optional: bool, hint: str | None) -> dict:
    element: dict[str, Any] = {"type": "plain_text_input", "action_id": "text",
                               "multiline": True, "max_length": FIELD_CHARS}  # fmt: skip
    if hint:
        element["placeholder"] = plain(hint[:150])
    return {"type": "input", "block_id": block_id, "optional": optional,
            "label": plain(label[:LABEL_CHARS]), "element": element}  # fmt: skip


def reflection_view(ctx: RoundContext) -> dict[str, Any]:
    """One input per heading of the round (well within 100 blocks: at most five)."""
    inputs = [
        _text_input(
            f"section_{i}", heading, optional=i > 0, hint=DEIDENTIFY_NOTE if i == 0 else None
        )
        for i, heading in enumerate(form_headings(ctx))
    ]
    intro = context(
        f"Round {ctx.round.number} of *{escape(ctx.cohort.name)}* · posted in the round's "
        "thread under your name; sending the form again updates it."
    )
    private = [_private_choice()] if ctx.cohort.private_reflections else []
    return {
        "type": "modal",
        "callback_id": REFLECT_FORM,
        "private_metadata": json.dumps({"round": ctx.round.id}),
        "title": plain(f"Round {ctx.round.number} reflection"[:TITLE_CHARS]),
        "submit": plain("Post"),
        "close": plain("Cancel"),
        "blocks": [intro, *inputs, *private],
    }


PRIVATE_CHOICE = "Send it to the facilitators only (it counts, but isn't posted in the thread)"


def _private_choice() -> dict[str, Any]:
    """A checkbox: the reflection goes to the cohort's facilitators by DM, not the thread."""
    box = {"text": plain(PRIVATE_CHOICE), "value": "private"}
    element = {"type": "checkboxes", "action_id": "private", "options": [box]}
    return {"type": "input", "block_id": "private", "optional": True,
            "label": plain("Private"), "element": element}  # fmt: skip


def _chose_private(view: dict[str, Any]) -> bool:
    entry = ((view.get("state") or {}).get("values") or {}).get("private") or {}
    chosen = (entry.get("private") or {}).get("selected_options") or []
    return any(option.get("value") == "private" for option in chosen)


def feedback_view(ctx: RoundContext, target_message: int, peer: str) -> dict[str, Any]:
    """The cohort's guide questions as inputs, first required (no guide: one free input).
    The metadata keeps the questions, so the answers are headed as the member saw them."""
    prompt = "What struck you, and why? What might you try in their place?"
    guide = list(ctx.cohort.feedback_headings[:MAX_FEEDBACK_GUIDE_HEADINGS])
    inputs = [
        _text_input(f"feedback_{i}", heading, optional=i > 0, hint=prompt if i == 0 else None)
        for i, heading in enumerate(guide)
    ] or [_text_input("feedback", "Your response", optional=False, hint=prompt)]
    meta = {"round": ctx.round.id, "target": target_message, "guide": guide}
    return {
        "type": "modal",
        "callback_id": FEEDBACK_FORM,
        "private_metadata": json.dumps(meta),
        "title": plain("Give feedback"),
        "submit": plain("Post"),
        "close": plain("Cancel"),
        "blocks": [
            context(f"Your response to <@{peer}>'s reflection, posted in the round's thread."),
            *([context(reflections.ANONYMOUS_NOTE)] if ctx.cohort.anonymous_feedback else []),
            *inputs,
        ],
    }


def _feedback_typed(view: dict[str, Any], guide: Any) -> list[tuple[str, str]]:
    """The answered fields as (heading, text): the free field, or one per guide question."""
    headings = (
        [str(h) for h in guide][:MAX_FEEDBACK_GUIDE_HEADINGS] if isinstance(guide, list) else []
    )
    typed = [("", _typed(view, "feedback"))]
    typed += [(heading, _typed(view, f"feedback_{i}")) for i, heading in enumerate(headings)]
    return [(heading, text) for heading, text in typed if text.strip()]


def privacy_view(findings, token: str) -> dict[str, Any]:
    """Pushed over the form: its Close button (*Edit*) goes back to the text as typed."""
    warning = (
        f"Before this goes into the thread: it seems to contain {escape(describe(findings))}, "
        "which could identify a client. Please change names and details so no one can be "
        "recognised.\n\n*Edit* takes you back to your text; *Post anyway* posts it as it is."
    )
    return {
        "type": "modal",
        "callback_id": PRIVACY_CHECK,
        "notify_on_close": True,  # so the text is let go of at once
        "private_metadata": json.dumps({"draft": token}),
        "title": plain("Before you post"),
        "submit": plain("Post anyway"),
        "close": plain("Edit"),
        "blocks": [section(warning)],
    }


def gone_view() -> dict[str, Any]:
    return {
        "type": "modal",
        "callback_id": PRIVACY_CHECK,
        "title": plain("Before you post"),
        "close": plain("Back"),
        "blocks": [section(DRAFT_GONE)],
    }


def render(part: str, headings: tuple[str, ...]) -> str:
    """A part of a form (the core's text, headings in ``**``) as escaped Slack mrkdwn."""
    marks = {f"**{heading}**": f"*{escape(heading)}*" for heading in headings}
    return "\n".join(marks.get(line, escape(line)) for line in part.split("\n"))


def form_post(name: str, part: str, headings, index: int, count: int) -> dict[str, Any]:
    label = "Reflection" if count == 1 else f"Reflection · part {index + 1} of {count}"
    return {
        "text": f"{label} by {escape(name)}",
        "blocks": [context(f"*{label}*"), *sections(render(part, headings))],
    }


def _metadata(view: dict[str, Any]) -> dict[str, Any]:
    try:
        meta = json.loads(view.get("private_metadata") or "{}")
    except ValueError:
        return {}
    return meta if isinstance(meta, dict) else {}


def _number(value: Any) -> int:
    """An id from a button or a view, which a crafted request could fill with anything."""
    try:
        return int(value)
    except (TypeError, ValueError):
        return 0


def _typed(view: dict[str, Any], block_id: str) -> str:
    entry = ((view.get("state") or {}).get("values") or {}).get(block_id) or {}
    return (entry.get("text") or {}).get("value") or ""


class ReflectForms:
    def __init__(self, runtime) -> None:
        self.rt = runtime
        self.drafts = Drafts()  # text waiting on the privacy check, in memory only

    def register(self, app) -> None:
        app.action(blocks.REFLECT_ACTION)(self.on_reflect_button)
        app.view(REFLECT_FORM)(self.on_reflection_form)
        app.shortcut(FEEDBACK_SHORTCUT)(self.on_feedback_shortcut)
        app.view(FEEDBACK_FORM)(self.on_feedback_form)
        app.view(PRIVACY_CHECK)(self.on_post_anyway)
        app.view_closed(PRIVACY_CHECK)(self.on_privacy_closed)

    # ------------------------------------------------------------------ who may write

    async def member(self, user: str, cohort: cohorts.Cohort) -> Author:
        """The cohort's member ``user`` (in its channel, not a facilitator), or NotAllowed."""
        person = await self.rt.people.person(user)
        channel = await self.rt.ids.text(cohort.channel_id)
        if (
            person.is_bot
            or person.deleted
            or await access.is_facilitator(self.rt, person, cohort)
            or user not in await self.rt.people.members(channel)
        ):
            raise NotAllowed(
                f"Reflections and feedback in *{escape(cohort.name)}* are written by its "
                f"members (the people in <#{channel}>, facilitators aside)."
            )
        return Author(await self.rt.ids.number("user", user), person.name, Role.MEMBER)

    async def _round(self, round_id: int) -> RoundContext | None:
        """The round a form belongs to, as it is now (posted or closed), or None if gone."""
        round_ = await rounds.get_round(self.rt.db, round_id) if round_id else None
        if round_ is None or round_.thread_id is None:
            return None
        ctx = await reflections.context_for_thread(self.rt.db, round_.thread_id)
        return ctx if ctx is not None and ctx.cohort.platform == "slack" else None

    # ------------------------------------------------------------------ opening the forms

    async def on_reflect_button(self, ack, body, respond) -> None:
        await ack()
        user = body["user"]["id"]
        async with kind_errors("the Write reflection button", body["team"]["id"]) as answer:
            ctx = await self._round(_number(body["actions"][0].get("value")))
            if ctx is None or ctx.round.state != "posted":
                raise InvalidInput(CLOSED_FOR_REFLECTIONS)
            await self.member(user, ctx.cohort)
            await self.rt.client.views_open(
                trigger_id=body["trigger_id"], view=reflection_view(ctx)
            )
        if answer.text:
            await respond(text=answer.text, response_type="ephemeral", replace_original=False)

    async def reflect_command(self, request) -> None:
        """``/praxis reflect [COHORT]``: the form for the current round of the member's cohort."""
        team = await self.rt.ids.number("team", request.team)
        found = [c for c in await cohorts.list_cohorts(self.rt.db, team) if c.platform == "slack"]
        if request.words:
            found = [c for c in found if name_key(c.name) == name_key(request.words[0])]
        mine = [c for c in found if await self._is_member(request.user, c)]
        if not mine:
            raise NotAllowed("You aren't a member of a cohort here (by that name).")
        if len(mine) > 1:
            names = ", ".join(f"*{escape(c.name)}*" for c in mine)
            raise InvalidInput(f"You're in several cohorts ({names}): `/praxis reflect COHORT`.")
        ctx = await reflections.current_context(self.rt.db, mine[0])
        if ctx is None or ctx.round.state != "posted":
            raise InvalidInput(f"*{escape(mine[0].name)}* has no open round right now.")
        await self.rt.client.views_open(trigger_id=request.trigger, view=reflection_view(ctx))
        return None

    async def _is_member(self, user: str, cohort) -> bool:
        try:
            await self.member(user, cohort)
        except NotAllowed:
            return False
        return True

    async def on_feedback_shortcut(self, ack, body, respond) -> None:
        await ack()
        user = body["user"]["id"]
        async with kind_errors("Give feedback", body["team"]["id"]) as answer:
            channel, message = body["channel"]["id"], body.get("message") or {}
            thread = await self.rt.ids.known_message(channel, message.get("thread_ts") or "")
            number = await self.rt.ids.known_message(channel, body.get("message_ts") or "")
            ctx = await self.rt.contexts.get(thread) if thread else None
            target = None
            if ctx is not None and number is not None and ctx.cohort.platform == "slack":
                target = await reflections.reflection_author(self.rt.db, ctx, number)
            if target is None:
                raise InvalidInput(NOT_A_REFLECTION)
            if ctx.round.state != "posted":
                raise InvalidInput(CLOSED_FOR_FEEDBACK)
            author = await self.member(user, ctx.cohort)
            if target == author.id:
                raise InvalidInput("That's your own reflection: add to it in the thread instead.")
            peer = await self.rt.ids.text(target)
            view = feedback_view(ctx, number, peer)
            await self.rt.client.views_open(trigger_id=body["trigger_id"], view=view)
        if answer.text:
            await respond(text=answer.text, response_type="ephemeral", replace_original=False)

    # ------------------------------------------------------------------ submissions

    async def on_reflection_form(self, ack, body, view) -> None:
        meta = _metadata(view)
        ctx = await self._round(_number(meta.get("round")))
        headings = form_headings(ctx) if ctx else ("",) * MAX_STRUCTURE_SECTIONS  # gone: no labels
        typed = [(h, _typed(view, f"section_{i}")) for i, h in enumerate(headings)]
        form = Submitted(
            body["user"]["id"],
            _number(meta.get("round")),
            [(h, t) for h, t in typed if t.strip()],
            private=view.get("id") if _chose_private(view) else None,
        )
        await self._decide(ack, body["user"]["team_id"], form, error_field="section_0")

    async def on_feedback_form(self, ack, body, view) -> None:
        meta = _metadata(view)
        form = Submitted(
            body["user"]["id"],
            _number(meta.get("round")),
            _feedback_typed(view, meta.get("guide")),
            target_message=_number(meta.get("target")),
        )
        field = "feedback_0" if meta.get("guide") else "feedback"
        await self._decide(ack, body["user"]["team_id"], form, error_field=field)

    async def _decide(self, ack, team: str, form: Submitted, *, error_field: str) -> None:
        """Check a form and answer Slack at once (within its 3 s): refuse it under the field,
        push the privacy check over it, or close it and post (or give the text back)."""
        async with kind_errors("a member's form", team) as answer:
            found = await self._check(form)
        if answer.text is not None:
            await ack(response_action="errors", errors={error_field: answer.text[:ERROR_CHARS]})
            return
        findings = find_identifiers(form.text) if found.refusal is None else []
        if findings:
            token = self.drafts.hold(form.user, once=True, post=form)
            await ack(response_action="push", view=privacy_view(findings, token))
            return
        await ack(response_action="clear")
        await self._post(team, form, found)

    async def _check(self, form: Submitted) -> Checked:
        """A round that closed or a reflection since deleted is a :class:`Checked` refusal
        (the writer gets the text back); anything else wrong raises a PraxisError."""
        ctx = await self._round(form.round_id)
        feedback = form.target_message is not None
        if ctx is None or ctx.round.state != "posted":
            return Checked(ctx, refusal=CLOSED_FOR_FEEDBACK if feedback else CLOSED_FOR_REFLECTIONS)
        author = await self.member(form.user, ctx.cohort)
        target = None
        if feedback:
            target = await reflections.reflection_author(self.rt.db, ctx, form.target_message)
            if target is None:
                gone = "That reflection has been deleted, so your feedback wasn't posted."
                return Checked(ctx, author, refusal=gone)
            if target == author.id:
                raise InvalidInput("That's your own reflection: add to it in the thread instead.")
        if not form.sections:
            raise InvalidInput("It's empty, so nothing was posted.")
        if form.private:
            reflections.require_private_allowed(ctx)
        return Checked(ctx, author, target)

    async def on_post_anyway(self, ack, body, view) -> None:
        """*Post anyway*: the text held for this view, checked again and posted as it is."""
        form = self.drafts.take(_metadata(view).get("draft") or "", "post", body["user"]["id"])
        if form is None:
            await ack(response_action="update", view=gone_view())
            return
        team = body["user"]["team_id"]
        async with kind_errors("a member's form", team) as answer:
            found = await self._check(form)
        await ack(response_action="clear")
        if answer.text is not None:
            await self._give_back(form.user, answer.text, form.sections)
            return
        await self._post(team, form, found)

    async def on_privacy_closed(self, ack, body, view) -> None:
        """*Edit*: back to the form (Slack keeps its text); let go of the copy held here."""
        await ack()
        self.drafts.take(_metadata(view).get("draft") or "", "post", body["user"]["id"])

    # ------------------------------------------------------------------ posting

    async def _post(self, team: str, form: Submitted, found: Checked) -> None:
        ctx, author = found.ctx, found.author
        if found.refusal is not None:
            await self._give_back(form.user, found.refusal, form.sections)
            return
        async with kind_errors("posting a member's form", team) as answer:
            if form.private:
                outcome, reply = await self._send_privately(ctx, author, form)
            elif form.target_message is None:
                outcome, reply = await self._post_reflection(ctx, author, form)
            else:
                outcome, reply = await self._post_feedback(ctx, author, form, found.target)
        if answer.text is not None:
            await self._give_back(form.user, f"{answer.text} Nothing was posted.", form.sections)
            return
        if not form.private:  # a private reflection has no thread message to ✅
            await self.rt.threads.apply(outcome)
        if outcome.ack and ctx.round.assigned:
            async with kind_errors("pairing a latecomer", team):
                await pairs.add_latecomer(self.rt.db, self.rt.chat, ctx, author.id)
        await self._tell(form.user, ctx, reply, self._short_note(ctx, author, outcome))

    async def _send_privately(self, ctx: RoundContext, author: Author, form: Submitted):
        """To the facilitators' DMs (or the digest channel) only, counted, never in the thread;
        stored under a number made from the form's view id, as it has no message."""
        number = await self.rt.ids.number("message", f"private:{form.private}")
        outcome = await reflections.save_private_reflection(
            self.rt.db, self.rt.chat, ctx, author, number, form.sections, self.rt.now()
        )
        self.rt.home.cohort_changed(ctx.cohort.id)
        reply = (
            f"Your private reflection ({outcome.words} words) went to the facilitators of "
            f"*{escape(ctx.cohort.name)}* only; it isn't in the thread."
        )
        return outcome, reply + (" It counts for this round." if outcome.counted else "")

    async def _post_reflection(self, ctx: RoundContext, author: Author, form: Submitted):
        """Post (or edit) the parts under the member's name, then store them; a post the
        database refused is taken down again, so the thread never shows one Praxis has no
        record of."""
        db, client = self.rt.db, self.rt.client
        channel, thread_ts = await self.rt.ids.message_ref(ctx.round.thread_id)
        person = await self.rt.people.person(form.user)
        existing = await reflections.form_message_ids(db, ctx.round.id, author.id)
        headings = form_headings(ctx)
        texts = chunk_sections(form.sections, MESSAGE_CHARS)
        parts: list[tuple[int, str]] = []
        new: list[int] = []
        try:
            for index, text in enumerate(texts):
                message = form_post(person.name, text, headings, index, len(texts))
                if index < len(existing):
                    where, ts = await self.rt.ids.message_ref(existing[index])
                    await client.chat_update(channel=where, ts=ts, **message)
                    parts.append((existing[index], text))
                    continue
                sent = await client.chat_postMessage(
                    channel=channel, thread_ts=thread_ts, username=person.name,
                    icon_url=person.avatar, unfurl_links=False, unfurl_media=False, **message,
                )  # fmt: skip
                new.append(await self.rt.ids.message(channel, sent["ts"]))
                parts.append((new[-1], text))
            outcome = await reflections.save_form_reflection(
                db, ctx, author, parts, headings, self.rt.now()
            )
        except Exception:
            await self._take_down(new)
            raise
        self.rt.home.cohort_changed(ctx.cohort.id)
        await self._take_down(existing[len(texts) :])  # a shorter text needs fewer parts
        verb = "updated" if existing else "posted"
        return outcome, f"Your reflection is {verb} in the round's thread ({outcome.words} words)."

    async def _post_feedback(self, ctx, author: Author, form: Submitted, target: int):
        text, headings = headed_text(form.sections), tuple(h for h, _ in form.sections if h)
        channel, thread_ts = await self.rt.ids.message_ref(ctx.round.thread_id)
        try:
            peer = f"<@{await self.rt.ids.text(target)}>"
        except KeyError:  # forgotten since: a pseudonym has no Slack id
            peer = "a former member"
        label = await reflections.anonymous_label(self.rt.db, ctx, author.id)
        sent = await self.rt.client.chat_postMessage(
            channel=channel, thread_ts=thread_ts, **await self._signed(form.user, label),
            text=f"Feedback for {peer}", blocks=sections(f"{peer}\n{render(text, headings)}"),
            unfurl_links=False, unfurl_media=False,
        )  # fmt: skip
        number = await self.rt.ids.message(channel, sent["ts"])
        try:
            outcome = await reflections.save_form_feedback(
                self.rt.db, ctx, author, number, text, (target, form.target_message),
                self.rt.now(), headings, anonymous=label is not None,
            )  # fmt: skip
        except Exception:
            await self._take_down([number])
            raise
        self.rt.home.cohort_changed(ctx.cohort.id)
        self.rt.ratings.ask(number)
        if label is not None:
            where = (
                f"is posted in the round's thread as {label}. A thread reply is never anonymous."
            )
            return outcome, f"Your feedback to {peer} {where}"
        return outcome, f"Your feedback to {peer} is posted in the round's thread."

    async def _signed(self, user: str, label: str | None) -> dict[str, str]:
        """Who the feedback appears from: the giver, or only their label (no picture)."""
        if label is not None:
            return {"username": label}
        person = await self.rt.people.person(user)
        return {"username": person.name, "icon_url": person.avatar}

    async def _take_down(self, numbers: list[int]) -> None:
        for number in numbers:
            channel, ts = await self.rt.ids.message_ref(number)
            try:
                await self.rt.client.chat_delete(channel=channel, ts=ts)
            except SlackApiError as error:
                code = error.response.get("error") if error.response else "unknown"
                if code != "message_not_found":
                    log.warning("Could not take down a form post (%s)", code)

    # ------------------------------------------------------------------ private words

    async def _tell(self, user: str, ctx: RoundContext, text: str, note: str | None) -> None:
        """A private word in the round's thread: done, and why it doesn't count yet if so."""
        channel, thread_ts = await self.rt.ids.message_ref(ctx.round.thread_id)
        try:
            await self.rt.client.chat_postEphemeral(
                channel=channel, user=user, thread_ts=thread_ts,
                text=f"{text}\n\n{note}" if note else text,
            )  # fmt: skip
        except SlackApiError as error:  # posted and stored all the same: only the word is lost
            log.info("Could not confirm a form privately (%s)", error.response.get("error"))

    @staticmethod
    def _short_note(ctx: RoundContext, author: Author, outcome: Outcome) -> str | None:
        """The core's "doesn't count yet" words, said at once (no DM follows: the core
        records the note with the post)."""
        if outcome.short is None:
            return None
        cohort, round_ = ctx.cohort, ctx.round
        needed = cohort.min_words if outcome.short == "reflection" else cohort.feedback_min_words
        message = NudgeMessage(
            kind=f"short_{outcome.short}", member=Person(author.id, author.name),
            cohort_name=cohort.name, round_id=round_.id, round_number=round_.number,
            round_title=round_.title or "", thread_id=round_.thread_id, due=round_.reflect_due,
            feedback_given=0, feedback_required=cohort.feedback_required, peers=(),
            words=outcome.words, words_needed=needed,
        )  # fmt: skip
        return nudge_text(message, blocks.MARKUP)

    async def _give_back(self, user: str, reason: str, parts: list[tuple[str, str]]) -> None:
        """A form that can't be posted: every word back to its writer, by DM, in parts."""
        texts = chunk_sections(parts, MESSAGE_CHARS)
        intro = f"{reason} Here is what you wrote, so nothing is lost." if texts else reason
        await self.rt.client.chat_postMessage(channel=user, text=blocks.from_core(intro))
        for index, text in enumerate(texts, 1):
            await self.rt.client.chat_postMessage(
                channel=user, text=f"Your text ({index} of {len(texts)})",
                blocks=sections(render(text, tuple(h for h, _ in parts if h))),
            )  # fmt: skip

    async def privacy_reminder(self, ctx: RoundContext, member: int, text: str) -> None:
        """A thread reply that may name a client: a private word to its writer, in the thread
        where only they see it, once per member and round (as Discord's DM)."""
        findings = find_identifiers(text)
        kind = "privacy_reminder"
        if not findings or not await notes.claim(
            self.rt.db, ctx.round.id, member, kind, "ephemeral", self.rt.now()
        ):
            return
        channel, thread_ts = await self.rt.ids.message_ref(ctx.round.thread_id)
        words = (
            f"A quick, private reminder about your message in round {ctx.round.number} of "
            f"*{escape(ctx.cohort.name)}*: it seems to contain {escape(describe(findings))}, "
            "which could identify a client. Please consider editing it to change names and "
            "details. Nobody else has been told."
        )
        try:
            await self.rt.client.chat_postEphemeral(
                channel=channel, user=await self.rt.ids.text(member), thread_ts=thread_ts,
                text=words,
            )  # fmt: skip
            outcome = "sent"
        except SlackApiError as error:
            outcome = f"failed: {error.response.get('error') if error.response else 'unknown'}"
        await notes.record(self.rt.db, ctx.round.id, member, kind, "ephemeral", outcome)
