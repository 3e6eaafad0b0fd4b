"""Thread replies on Slack: reflections and feedback, edits and deletions, backfill.

The rules of what counts are the core's (``bot.core.reflections``). Slack threads are
flat, so feedback is a thread reply that @mentions a peer who has a reflection in the
round: it counts as feedback on that reflection (the first such peer mentioned). Any
other reply by a member is part of their reflection, as on Discord.

What the database refuses (see *Storage outages* in ARCHITECTURE.md) waits in a
:class:`~bot.storage.pending.Backlog`, noted in ``<database>.slack.pending.jsonl``: a
thread to read back (keyed by its thread number, read whole) and edits and deletions to
redo; :meth:`Threads.retry_refused` runs after each healthy tick. A ✅ Slack didn't take
for a passing reason (429s past slack-sdk's retries, a 5xx) is sent again then too.
"""

from __future__ import annotations

import logging
import re
from datetime import UTC, datetime
from typing import Any

import aiohttp
from slack_sdk.errors import SlackApiError

from bot.core import pairs, ratings, reflections
from bot.core.errors import StorageBusy, StorageUnavailable
from bot.core.ports import DeliveryError
from bot.core.reflections import Author, Incoming, Role, RoundContext
from bot.pacing import Pace
from bot.slack.chat import error_code, passing
from bot.storage.pending import DELETE, EDIT, Backlog, Pending, PendingFile

log = logging.getLogger(__name__)

ACK = "white_check_mark"
#: ✅s Slack refused for now, sent again after a tick: at most this many per tick, and none
#: after one is refused again. They run inside the tick (its lock held), and an incident
#: at Slack can leave one per reply waiting; ``reactions.add`` is Tier 3, ~50 a minute.
ACK_RETRIES_PER_TICK = 50
GONE = ("message_not_found", "thread_not_found")  # an edit's message was deleted since
MENTION = re.compile(r"<@([UW][A-Z0-9]+)(?:\|[^>]*)?>")
REPLIES_PAGE = 200
#: ``conversations.replies`` is a Tier 3 method: about 50 calls a minute per workspace.
#: Backfill reads one page per open thread; a workspace has at most 25 cohorts, so a
#: burst of 25 reads a whole workspace at once, and 25 more a minute after that keep any
#: minute at 50 or fewer. slack-sdk waits out a 429 (Retry-After) if one comes anyway.
REPLIES_BURST = 25
REPLIES_RATE = 25 / 60


def posted_at(ts: str) -> datetime:
    return datetime.fromtimestamp(float(ts), UTC)


class Threads:
    def __init__(self, runtime) -> None:
        self.rt = runtime
        settings = runtime.settings
        self.pending = PendingFile.beside(settings.database_path, "slack", settings.process_tag)
        self.backlog = Backlog(self.pending)
        self.unsent_acks: dict[int, bool] = {}  # message -> ✅ wanted; Slack said "later"
        self.pace = Pace(REPLIES_RATE, REPLIES_BURST)  # conversations.replies, per workspace
        if self.backlog.resume():
            log.info("Slack changes the database refused in an earlier run are redone once "
                     "it takes writes")  # fmt: skip

    def register(self, app) -> None:
        app.event({"type": "message", "subtype": "message_changed"})(self.on_edit)
        app.event({"type": "message", "subtype": "message_deleted"})(self.on_delete)
        app.event({"type": "message", "subtype": None})(self.on_message)
        app.event({"type": "message", "subtype": "thread_broadcast"})(self.on_message)

    # ------------------------------------------------------------------ new messages

    async def on_message(self, event: dict[str, Any]) -> None:
        thread_ts, ts = event.get("thread_ts"), event.get("ts")
        if not thread_ts or thread_ts == ts or event.get("bot_id") or not event.get("user"):
            return
        ctx = await self._round_of(event["channel"], thread_ts)
        if ctx is None:
            return
        await self.store(ctx, [event])

    async def store(self, ctx: RoundContext, events: list[dict[str, Any]]) -> int:
        """Store thread messages of one round in one transaction, then add the ✅s.

        If the database refuses them (or Slack can't say who wrote them, for now), nothing
        is acknowledged and the thread is read back later (:meth:`retry_refused`)."""
        channel = await self.rt.ids.text(ctx.cohort.channel_id)
        try:
            with self.rt.chat.translate("look up who wrote a reply", channel):
                items = []
                for event in events:
                    author = await self.author(event["user"], ctx)
                    if author.role is not Role.OTHER:
                        items.append((ctx, await self._incoming(ctx, channel, event, author)))
            outcomes = await reflections.ingest_batch(self.rt.db, items)
        except (StorageBusy, StorageUnavailable) as error:
            log.warning("%d Slack thread messages not stored yet (%s); their thread is read "
                        "back once the database takes writes", len(events),
                        type(error).__name__)  # fmt: skip
            self.rt.storage_trouble()
            self.backlog.read_back(ctx.round.thread_id, ctx.round.thread_id)
            return 0
        except DeliveryError as error:
            log.warning("%d Slack thread messages not stored: %s", len(events), error.reason)
            if not error.permanent:
                self.backlog.read_back(ctx.round.thread_id, ctx.round.thread_id)
            return 0
        if any(o.stored or o.ack or o.unack for o in outcomes):
            self.rt.home.cohort_changed(ctx.cohort.id)
        for (_, message), outcome in zip(items, outcomes, strict=True):
            await self.apply(outcome)
            if outcome.ack and ctx.round.assigned:
                await pairs.add_latecomer(self.rt.db, self.rt.chat, ctx, message.author.id)
            if outcome.stored:  # may name a client: a private word in the thread, once a round
                await self.rt.reflect.privacy_reminder(ctx, message.author.id, message.text)
            if outcome.stored and outcome.kind == "feedback":
                self.rt.ratings.ask(message.message_id)
        return sum(outcome.stored for outcome in outcomes)

    async def _incoming(self, ctx, channel: str, event: dict[str, Any], author: Author) -> Incoming:
        text = event.get("text") or ""
        return Incoming(
            message_id=await self.rt.ids.message(channel, event["ts"]),
            author=author,
            text=text,
            posted_at=posted_at(event["ts"]),
            reply_to_id=await self._feedback_target(ctx, author, text),
        )

    async def _feedback_target(self, ctx: RoundContext, author: Author, text: str) -> int | None:
        """The reflection a reply responds to: the first @mentioned peer's, if any."""
        for user in MENTION.findall(text):
            peer = await self.rt.ids.known("user", user)
            if peer is None or peer == author.id:
                continue
            message = await reflections.reflection_message_of(self.rt.db, ctx, peer)
            if message is not None:
                return message
        return None

    async def author(self, user: str, ctx: RoundContext) -> Author:
        """A facilitator (admin, owner or the cohort's user group), a member, or other."""
        from bot.slack.access import is_facilitator

        person = await self.rt.people.person(user)
        number = await self.rt.ids.number("user", user)
        if person.is_bot or person.deleted:
            return Author(number, person.name, Role.OTHER)
        if await is_facilitator(self.rt, person, ctx.cohort):
            return Author(number, person.name, Role.FACILITATOR)
        return Author(number, person.name, Role.MEMBER)  # they could post: a channel member

    # ------------------------------------------------------------------ edits, deletions

    async def on_edit(self, event: dict[str, Any]) -> None:
        message = event.get("message") or {}
        change = await self._change_of(event["channel"], message, EDIT)
        if change is not None:
            await self._change(change, message.get("text") or "")

    async def on_delete(self, event: dict[str, Any]) -> None:
        message = {**(event.get("previous_message") or {}), "ts": event.get("deleted_ts", "")}
        change = await self._change_of(event["channel"], message, DELETE)
        if change is not None:
            await self._change(change)

    async def _change_of(self, channel: str, message: dict[str, Any], kind: str) -> Pending | None:
        """The change to a stored message, keyed by its thread and its own number."""
        number = await self.rt.ids.known_message(channel, message.get("ts", ""))
        if number is None:
            return None
        thread_ts = message.get("thread_ts")
        thread = await self.rt.ids.known_message(channel, thread_ts) if thread_ts else None
        return Pending(kind, thread or 0, number)

    async def _change(self, change: Pending, text: str | None = None) -> None:
        """Apply an edit or deletion now, or keep it (noted on disk) for a later tick: a
        member's deletion must reach the stored text even if Praxis crashes meanwhile."""
        if not await self._apply(change, text):
            self.backlog.change(change)

    async def _apply(self, change: Pending, text: str | None = None) -> bool:
        """Apply one change; an edit without ``text`` (a replay) reads the message's
        current text from Slack, so the latest version is stored. False: try later.

        A replayed edit Slack won't let Praxis read again (not in the channel any more) is
        given up, the stored text left as it was: kept, it would hold up every change
        queued after it, deletions too, for good.
        """
        try:
            if change.kind == EDIT and text is None:
                if not await reflections.edit_matters(self.rt.db, change.message_id):
                    return True  # deleted or forgotten since
                try:
                    text = await self._current_text(change)
                except DeliveryError as error:
                    if not error.permanent:
                        raise
                    log.warning("A Slack edit can't be read again (%s); the stored text "
                                "stays as it was", error.reason)  # fmt: skip
                    return True
            if change.kind == DELETE or text is None:
                outcome = await reflections.apply_delete(self.rt.db, change.message_id,
                                                         self.rt.now())  # fmt: skip
            else:
                outcome = await reflections.apply_edit(
                    self.rt.db, change.message_id, text, self.rt.now()
                )
        except (StorageBusy, StorageUnavailable) as error:
            log.warning("A Slack edit or deletion waits for the database (%s)",
                        type(error).__name__)  # fmt: skip
            self.rt.storage_trouble()
            return False
        except DeliveryError as error:
            log.warning("A Slack edit waits for Slack: %s", error.reason)
            return False
        await self.apply(outcome)
        await self._home_changed(change.channel_id)
        return True

    async def _home_changed(self, thread: int) -> None:
        """An edited or deleted thread reply may change who owes what in Home tabs."""
        if self.rt.home.opened and thread:
            ctx = await self.rt.contexts.get(thread)
            if ctx is not None:
                self.rt.home.cohort_changed(ctx.cohort.id)

    async def _current_text(self, change: Pending) -> str | None:
        """The message's text now, or None if it has been deleted since."""
        channel, ts = await self.rt.ids.message_ref(change.message_id)
        thread_ts = (
            (await self.rt.ids.message_ref(change.channel_id))[1] if change.channel_id else ts
        )
        await self.pace.take()  # replays share backfill's pace: one request each
        with self.rt.chat.translate("read an edited reply again", channel):
            try:
                page = await self.rt.client.conversations_replies(
                    channel=channel, ts=thread_ts, oldest=ts, latest=ts, inclusive=True
                )
            except SlackApiError as error:
                if error_code(error) in GONE:
                    return None
                raise
        found = [m for m in page["messages"] if m.get("ts") == ts]
        return (found[0].get("text") or "") if found else None

    # ------------------------------------------------------------------ ✅ and backfill

    async def apply(self, outcome: reflections.Outcome) -> None:
        """Add or remove the ✅ after the commit; one Slack refuses for now is sent again
        after the next tick (:meth:`retry_refused`), others are logged."""
        for number, add in [(n, True) for n in outcome.ack] + [(n, False) for n in outcome.unack]:
            await self._react(number, add)

    async def _react(self, number: int, add: bool) -> bool:
        """Add or remove one ✅; False if Slack said "later" (kept in ``unsent_acks``)."""
        channel, ts = await self.rt.ids.message_ref(number)
        call = self.rt.client.reactions_add if add else self.rt.client.reactions_remove
        self.unsent_acks.pop(number, None)
        try:
            await call(channel=channel, timestamp=ts, name=ACK)
        except SlackApiError as error:
            code = error_code(error) or "unknown"
            if code in ("already_reacted", "no_reaction", "message_not_found"):
                return True
            log.warning("Could not %s a ✅ (%s)", "add" if add else "remove", code)
            if passing(error):
                self.unsent_acks[number] = add
                return False
        except (TimeoutError, aiohttp.ClientError):
            log.warning("Could not %s a ✅ (the connection failed)", "add" if add else "remove")
            self.unsent_acks[number] = add
            return False
        return True

    async def retry_refused(self) -> None:
        """After each healthy tick: redo refused edits and deletions, read refused threads
        back, send again the ✅s Slack didn't take, and go on asking the rating questions a
        refused claim held back. Cheap when nothing waits."""
        self.rt.ratings.questions.resume()
        await self._replay_changes()
        for thread_id in list(self.backlog.threads):
            del self.backlog.threads[thread_id]
            ctx = await self.rt.contexts.get(thread_id)
            if ctx is not None and ctx.cohort.platform == "slack":
                await self._read_thread(ctx)
                if thread_id not in self.backlog.threads:
                    self.rt.unread.read(ctx.round.id)
        for number, add in list(self.unsent_acks.items())[:ACK_RETRIES_PER_TICK]:
            if not await self._react(number, add):
                break  # Slack still says "later": the rest wait for the next tick
        self.backlog.trim()

    async def catch_up(self) -> int:
        """At start: redo what an earlier run noted, then read every open round's thread.

        Until a round's thread is read, the tick holds its nudges (``rt.unread``): with
        Discord in the same process, Discord's ready may start the scheduler meanwhile.
        """
        self.rt.unread.loading("slack")
        try:
            await self._replay_changes()
            stored = await self.backfill()
        except BaseException:
            self.rt.unread.waiting("slack", ())  # no list: hold nothing rather than everything
            raise
        self.backlog.trim()
        return stored

    async def _replay_changes(self) -> None:
        waiting, self.backlog.changes = self.backlog.changes, []
        for number, change in enumerate(waiting):
            if not await self._apply(change):  # still refused: keep the rest, in order
                self.backlog.changes.extend(waiting[number:])
                return

    async def backfill(self) -> int:
        """Read back what members posted in open Slack rounds while Praxis was away; each
        round is released for nudges once its thread is read (not after a passing
        failure: then it waits for the read-back after a tick). First, queue the rating
        questions a stop left unasked."""
        stored = 0
        contexts = [
            ctx
            for ctx in await reflections.open_contexts(self.rt.db)
            if ctx.cohort.platform == "slack" and ctx.round.thread_id is not None
        ]
        self.rt.unread.waiting("slack", (ctx.round.id for ctx in contexts))
        rounds_here = [ctx.round.id for ctx in contexts]
        self.rt.ratings.questions.put(await ratings.unasked(self.rt.db, rounds_here))
        for ctx in contexts:
            self.backlog.threads.pop(ctx.round.thread_id, None)
            stored += await self._read_thread(ctx)
            if ctx.round.thread_id not in self.backlog.threads:
                self.rt.unread.read(ctx.round.id)
        return stored

    async def _read_thread(self, ctx: RoundContext) -> int:
        """Read a round's whole thread; what is stored already is skipped."""
        channel, _ = await self.rt.ids.message_ref(ctx.round.thread_id)
        try:
            with self.rt.chat.translate("read the round's thread", channel):
                return await self._backfill_round(ctx)
        except DeliveryError as error:
            log.warning("Reading round %s's thread failed: %s", ctx.round.id, error.reason)
            if not error.permanent:
                self.backlog.read_back(ctx.round.thread_id, ctx.round.thread_id)
            return 0

    async def _backfill_round(self, ctx: RoundContext) -> int:
        """Every reply not stored yet, except those up to the newest forgotten post: a
        forgotten member's messages stay in Slack, and must not be read back in as new."""
        channel, thread_ts = await self.rt.ids.message_ref(ctx.round.thread_id)
        _, forgotten_at = await reflections.last_seen_message(self.rt.db, ctx)
        cursor, count = None, 0
        while True:
            await self.pace.take()
            page = await self.rt.client.conversations_replies(
                channel=channel, ts=thread_ts, limit=REPLIES_PAGE, cursor=cursor
            )
            events = [
                {**m, "channel": channel}
                for m in page["messages"]
                if m["ts"] != thread_ts and m.get("user") and not m.get("bot_id")
                and m.get("subtype") in (None, "thread_broadcast")
                and (forgotten_at is None or posted_at(m["ts"]) > forgotten_at)
            ]  # fmt: skip
            if events:
                count += await self.store(ctx, events)
            cursor = (page.get("response_metadata") or {}).get("next_cursor")
            if not cursor:
                return count

    async def _round_of(self, channel: str, thread_ts: str) -> RoundContext | None:
        thread = await self.rt.ids.known_message(channel, thread_ts)
        if thread is None:
            return None
        ctx = await self.rt.contexts.get(thread)
        if ctx is None or ctx.cohort.platform != "slack":
            return None
        return ctx
