"""Helpfulness ratings: the writer of a reflection says, privately, whether each piece of
feedback on it helped ("helpful" or "not yet"), and may change their mind.

Praxis asks once per feedback (:func:`claim_ask`: the ratings row is claimed before the
platform sends the question, so a retry or a second delivery never asks twice). The
questions wait in :class:`Questions` and go out paced, after the feedback's ✅, so a burst
of feedback never holds thread replies behind a direct message each; what a stop left
unasked, :func:`unasked` finds again. Only the reflection's writer may answer; anyone else
gets a kind refusal and nothing is stored.
Facilitators see the counts per giver and round; a giver sees how their own feedback was
rated. Nobody sees who rated what.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

from bot.core.clock import to_db
from bot.core.errors import InvalidInput, StorageBusy, StorageUnavailable
from bot.core.text import giver_shown
from bot.storage import posts as posts_store
from bot.storage import ratings as store
from bot.storage.db import Database, Tx

log = logging.getLogger(__name__)

NOT_YOURS = (
    "Only the person whose reflection this feedback answers can rate it, so nothing was changed."
)
GONE = "That feedback is no longer there, so there is nothing to rate."


@dataclass(frozen=True, slots=True)
class Ask:
    """A question to send the reflection's writer about one piece of feedback."""

    feedback_message_id: int
    round_id: int
    rater_id: int
    giver_name: str


@dataclass(frozen=True, slots=True)
class Tally:
    """How a giver's feedback in one round was rated."""

    rated: int = 0
    helpful: int = 0


async def claim_ask(db: Database, feedback_message_id: int, now: datetime) -> Ask | None:
    """The question to send about this feedback, or None if it isn't feedback on a member's
    reflection or Praxis already asked (claimed before sending: at most one question each)."""
    asks = await claim_asks(db, [feedback_message_id], now)
    return asks[0] if asks else None


async def claim_asks(db: Database, feedback_message_ids: Sequence[int], now: datetime) -> list[Ask]:
    """:func:`claim_ask` for a batch of feedback (one thread's, stored together), in one
    transaction: a burst of feedback costs one claim, not one per message."""
    asks = []
    if not feedback_message_ids:
        return asks
    async with db.transaction() as tx:
        for message_id in feedback_message_ids:
            if (ask := await _claim(tx, message_id, to_db(now))) is not None:
                asks.append(ask)
    return asks


async def _claim(tx: Tx, feedback_message_id: int, now: str) -> Ask | None:
    post = await posts_store.get(tx, feedback_message_id)
    if post is None or post["kind"] != "feedback" or post["target_id"] is None:
        return None
    if post["target_id"] == post["author_id"] or post["deleted_at"] is not None:
        return None
    if not await store.claim_ask(tx, post, now):
        return None
    return Ask(feedback_message_id, post["round_id"], post["target_id"], giver_shown(post))


async def unasked(db: Database, round_ids: list[int]) -> list[int]:
    """These rounds' feedback that no question was claimed for yet: what a stop (or a
    refused claim) left waiting, asked again after the next start (one query for a
    thousand open rounds, not one each)."""
    return await store.unasked(db, round_ids)


class Pacer(Protocol):
    """What :class:`Questions` needs of a pace (``bot.pacing.Pace``): wait for a turn."""

    async def take(self) -> None: ...


class Questions:
    """Rating questions waiting to be asked, sent one at a time at a pace the platform's
    rate limit allows, never ahead of the feedback's own ✅.

    Why not ask right away: every piece of feedback means a direct message, and a burst of
    feedback (a whole cohort replying after a session) would otherwise queue thread
    replies' ✅s behind as many DMs. Here a burst costs one list append per thread; the
    questions follow, claimed a few at a time just before they are sent (a crash can lose
    at most those few; the rest stay unclaimed and :func:`unasked` finds them on the next
    start). The first ``burst`` questions go at once, so a quiet cohort notices no delay.
    """

    def __init__(
        self,
        db: Callable[[], Database],
        send: Callable[[Ask], Awaitable[None]],
        now: Callable[[], datetime],
        pace: Pacer,
        claim_at_once: int = 10,
    ) -> None:
        self._db, self._send, self._now = db, send, now
        self.pace = pace
        self._claim_at_once = claim_at_once
        self._waiting: list[int] = []  # feedback message ids, in the order they were stored
        self._sender: asyncio.Task | None = None
        self.sent = 0  # questions handed to the platform (benchmarks read it)

    @property
    def waiting(self) -> int:
        return len(self._waiting)

    def put(self, feedback_message_ids: Iterable[int]) -> None:
        """Queue questions about this feedback; returns at once."""
        self._waiting.extend(feedback_message_ids)
        if self._waiting and self._sender is None:
            self._sender = asyncio.get_running_loop().create_task(
                self._run(), name="praxis-rating-questions"
            )

    async def drain(self) -> None:
        """Wait until every question queued so far is asked (tests, benchmarks)."""
        while self._sender is not None:
            await asyncio.shield(self._sender)

    async def close(self) -> None:
        """Stop sending; what is still queued was never claimed, so the next start asks it."""
        task, self._sender = self._sender, None
        self._waiting.clear()
        if task is not None and not task.done():
            task.cancel()
            await asyncio.wait([task])

    def resume(self) -> None:
        """Send again what a refused claim left queued; the bot calls this after every
        healthy tick (its retry hooks), so no restart is needed. Cheap when nothing waits."""
        self.put(())

    async def _run(self) -> None:
        try:
            while self._waiting:
                batch = self._waiting[: self._claim_at_once]
                try:
                    claimed = await self._claim_batch(batch)
                except (StorageBusy, StorageUnavailable):  # all kept, in order, for resume()
                    log.warning("Could not note %d rating questions; they wait until the "
                                "database takes writes", len(self._waiting))  # fmt: skip
                    return
                del self._waiting[: len(batch)]  # put() only appends meanwhile
                for question in claimed:
                    await self.pace.take()
                    try:
                        await self._send(question)
                        self.sent += 1
                    except Exception:  # one question's trouble must not hold back the rest
                        log.exception("A rating question could not be sent")
        finally:
            if self._sender is asyncio.current_task():
                self._sender = None

    async def _claim_batch(self, feedback_message_ids: list[int]) -> list[Ask]:
        """Claim the batch; storage refusals are raised, anything else logged and the batch
        dropped (its questions are found again at the next start)."""
        try:
            return await claim_asks(self._db(), feedback_message_ids, self._now())
        except (StorageBusy, StorageUnavailable):
            raise
        except Exception:  # a bug: log it, and keep the queue moving for the others
            log.exception("Could not claim %d rating questions", len(feedback_message_ids))
        return []


async def rate(
    db: Database, rater_id: int, feedback_message_id: int, helpful: bool, now: datetime
) -> str:
    """Store (or change) ``rater_id``'s rating of this feedback; the sentence to answer with.

    Raises :class:`InvalidInput` (nothing stored) unless the rater wrote the reflection
    the feedback answers.
    """
    async with db.transaction() as tx:
        post = await posts_store.get(tx, feedback_message_id)
        if post is None or post["kind"] != "feedback" or post["deleted_at"] is not None:
            raise InvalidInput(GONE)
        if post["target_id"] != rater_id:
            raise InvalidInput(NOT_YOURS)
        await store.set_rating(tx, post, helpful, to_db(now))
    answer = "helpful" if helpful else "not helpful yet"
    return (
        f"Thanks: you rated {giver_shown(post)}'s feedback {answer}. Only you and the "
        "cohort's facilitators see ratings (as counts); press the other button to change it."
    )


async def tallies(
    db: Database, cohort_id: int, round_id: int | None = None
) -> dict[tuple[int, int], Tally]:
    """Per (round, giver): how their feedback was rated."""
    rows = await store.by_giver(db, cohort_id, round_id)
    return {(r["round_id"], r["giver_id"]): Tally(r["rated"], r["helpful"]) for r in rows}


async def member_line(db: Database, cohort_id: int, round_id: int, member_id: int) -> str:
    """How a member's own feedback in one round was rated, as a line to add to
    ``/me progress`` (starting with a line break), or "" before any rating."""
    tally = (await tallies(db, cohort_id, round_id)).get((round_id, member_id))
    if tally is None or not tally.rated:
        return ""
    return f"\n💬 Your feedback this round: {tally.helpful} of {tally.rated} rated helpful."
