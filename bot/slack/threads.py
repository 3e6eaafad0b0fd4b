"""Thread replies on Slack: reflections and feedback, edits and deletions, backfill.

The rules of what counts are the core's (``bot.core.reflections``). Slack threads are
flat, so feedback is a thread reply that @mentions a peer who has a reflection in the
round: it counts as feedback on that reflection (the first such peer mentioned). Any
other reply by a member is part of their reflection, as on Discord.
"""

from __future__ import annotations

import logging
import re
from datetime import UTC, datetime
from typing import Any

from slack_sdk.errors import SlackApiError

from bot.core import pairs, reflections
from bot.core.reflections import Author, Incoming, Role, RoundContext

log = logging.getLogger(__name__)

ACK = "white_check_mark"
MENTION = re.compile(r"<@([UW][A-Z0-9]+)(?:\|[^>]*)?>")
REPLIES_PAGE = 200


def posted_at(ts: str) -> datetime:
    return datetime.fromtimestamp(float(ts), UTC)


class Threads:
    def __init__(self, runtime) -> None:
        self.rt = runtime

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

    async def store(self, ctx: RoundContext, events: list[dict[str, Any]]) -> None:
        """Store thread messages of one round in one transaction, then add the ✅s."""
        channel = await self.rt.ids.text(ctx.cohort.channel_id)
        items = []
        for event in events:
            author = await self.author(event["user"], ctx)
            if author.role is Role.OTHER:
                continue
            items.append((ctx, await self._incoming(ctx, channel, event, author)))
        outcomes = await reflections.ingest_batch(self.rt.db, items)
        for (_, message), outcome in zip(items, outcomes, strict=True):
            await self.apply(outcome)
            if outcome.ack and ctx.round.assigned:
                await pairs.add_latecomer(self.rt.db, self.rt.chat, ctx, message.author.id)
            if outcome.stored:  # may name a client: a private word in the thread, once a round
                await self.rt.reflect.privacy_reminder(ctx, message.author.id, message.text)

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
        number = await self.rt.ids.known_message(event["channel"], message.get("ts", ""))
        if number is None:
            return
        outcome = await reflections.apply_edit(
            self.rt.db, number, message.get("text") or "", self.rt.now()
        )
        await self.apply(outcome)

    async def on_delete(self, event: dict[str, Any]) -> None:
        number = await self.rt.ids.known_message(event["channel"], event.get("deleted_ts", ""))
        if number is None:
            return
        outcome = await reflections.apply_delete(self.rt.db, number, self.rt.now())
        await self.apply(outcome)

    # ------------------------------------------------------------------ ✅ and backfill

    async def apply(self, outcome: reflections.Outcome) -> None:
        """Add or remove the ✅ after the commit; a failure is logged, never retried."""
        for number, add in [(n, True) for n in outcome.ack] + [(n, False) for n in outcome.unack]:
            channel, ts = await self.rt.ids.message_ref(number)
            call = self.rt.client.reactions_add if add else self.rt.client.reactions_remove
            try:
                await call(channel=channel, timestamp=ts, name=ACK)
            except SlackApiError as error:
                code = error.response.get("error") if error.response else "unknown"
                if code not in ("already_reacted", "no_reaction", "message_not_found"):
                    log.warning("Could not %s a ✅ (%s)", "add" if add else "remove", code)

    async def backfill(self) -> int:
        """Read back what members posted in open Slack rounds while Praxis was away."""
        stored = 0
        for ctx in await reflections.open_contexts(self.rt.db):
            if ctx.cohort.platform != "slack" or ctx.round.thread_id is None:
                continue
            try:
                stored += await self._backfill_round(ctx)
            except SlackApiError as error:
                code = error.response.get("error") if error.response else "unknown"
                log.warning("Backfill of round %s failed (%s)", ctx.round.id, code)
        return stored

    async def _backfill_round(self, ctx: RoundContext) -> int:
        channel, thread_ts = await self.rt.ids.message_ref(ctx.round.thread_id)
        cursor, count = None, 0
        while True:
            page = await self.rt.client.conversations_replies(
                channel=channel, ts=thread_ts, limit=REPLIES_PAGE, cursor=cursor
            )
            events = [
                {**m, "channel": channel}
                for m in page["messages"]
                if m["ts"] != thread_ts and m.get("user") and not m.get("bot_id")
                and m.get("subtype") in (None, "thread_broadcast")
            ]  # fmt: skip
            if events:
                await self.store(ctx, events)
                count += len(events)
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
