"""Reflections and peer feedback: what a message in a round thread counts as, and for whom.

The rules, in one place:

* A **reflection** is a member's own messages in the round thread that are not replies to
  someone else; several messages join into one reflection. Replies to oneself (or to the
  round's prompt) are part of it.
* **Feedback** is a member's reply to another member's reflection message (or a "Give
  feedback" form on it). It counts toward that member's requirement once it has at least
  the cohort's ``feedback_min_words``.
* Other replies are **comments**; a facilitator's messages are **facilitator** notes. Both
  are stored and count for nobody. Bots and people outside the cohort are ignored.
* A reflection **counts** once its words reach the cohort's ``min_words`` (and at least one).

Every message is stored once, by its platform message id, so a duplicate delivery or a
backfill of something already seen changes nothing.
"""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum

from bot.core.clock import from_db, to_db
from bot.core.cohorts import Cohort, get_cohort_by_id
from bot.core.errors import InvalidInput
from bot.core.ports import DeliveryError, Person
from bot.core.rounds import Round, recent_rounds, round_for_thread
from bot.core.text import count_body_words, count_words, peer_label
from bot.core.turns import yield_every
from bot.storage import cohorts as cohort_store
from bot.storage import posts as store
from bot.storage import rounds as round_store
from bot.storage.db import Database, Row, Tx


class Role(StrEnum):
    MEMBER = "member"
    FACILITATOR = "facilitator"
    OTHER = "other"


@dataclass(frozen=True, slots=True)
class Author:
    id: int
    name: str
    role: Role


@dataclass(frozen=True, slots=True)
class RoundContext:
    round: Round
    cohort: Cohort


@dataclass(frozen=True, slots=True)
class Incoming:
    """A message in a round thread, as any platform would describe it."""

    message_id: int
    author: Author
    text: str
    posted_at: datetime
    reply_to_id: int | None = None


@dataclass(slots=True)
class Outcome:
    """What changed, so the adapter can react (✅) and privately explain a short post."""

    kind: str | None = None
    stored: bool = False
    counted: bool = False
    ack: list[int] = field(default_factory=list)
    unack: list[int] = field(default_factory=list)
    short: str | None = None  # "reflection" or "feedback" when it does not count yet
    words: int = 0


async def context_for_thread(db: Database, thread_id: int) -> RoundContext | None:
    """The round (posted or closed) whose thread this is, with its cohort."""
    round_ = await round_for_thread(db, thread_id)
    if round_ is None or round_.state not in ("posted", "closed"):
        return None
    cohort = await get_cohort_by_id(db, round_.cohort_id)
    return None if cohort is None else RoundContext(round_, cohort)


#: The rules yield to the event loop after this many messages of a batch (a big batch
#: would otherwise hold the loop for ~10 ms).
RULES_TURN = 100


async def ingest_batch(db: Database, items: list[tuple[RoundContext, Incoming]]) -> list[Outcome]:
    """Store many thread messages in one transaction; one outcome per message, in order.

    Two hand-offs to the database whatever the batch size (besides BEGIN and COMMIT):
    existing ids, replied-to posts, and the authors' reflection totals and ✅s are read
    together, the rules run in memory, and the new rows go in together.
    Messages in the same batch see each other (a reply to a message a moment earlier).
    """
    if not items:
        return []
    async with db.transaction() as tx:
        existing, replied, totals = await store.batch_state(
            tx,
            [m.message_id for _, m in items],
            {m.reply_to_id for _, m in items} - {None},
            {(ctx.round.id, m.author.id) for ctx, m in items},
        )
        batch = _Batch(existing, replied, totals)
        outcomes = []
        for number, (ctx, message) in enumerate(items, start=1):
            outcomes.append(batch.take(ctx, message))
            if number % RULES_TURN == 0:
                await asyncio.sleep(0)
        await store.insert_new(tx, batch.rows)
    return outcomes


@dataclass(slots=True)
class _Batch:
    """The rules of the module docstring, applied to a batch held in memory."""

    existing: set[int]
    replied: dict[int, tuple[int, str]]
    totals: dict[tuple[int, int], list[int]]  # (round, author) -> [words, has ✅]
    rows: list[store.NewPost] = field(default_factory=list)

    def take(self, ctx: RoundContext, message: Incoming) -> Outcome:
        author = message.author
        if author.role is Role.OTHER:
            return Outcome()
        kind, target = classify(ctx, message, self.replied.get(message.reply_to_id))
        if message.message_id in self.existing:
            return Outcome(kind=kind, stored=False)
        self.existing.add(message.message_id)
        self.replied[message.message_id] = (author.id, kind)
        words = count_words(message.text)
        outcome = Outcome(kind=kind, stored=True, words=words)
        acked = 0
        if kind == "feedback":
            outcome.counted = words >= ctx.cohort.feedback_threshold
            outcome.short = None if outcome.counted else "feedback"
        elif kind == "reflection":
            total = self.totals.setdefault((ctx.round.id, author.id), [0, 0])
            total[0] += words
            outcome.words = total[0]
            outcome.counted = total[0] >= ctx.cohort.reflection_threshold
            if outcome.counted and not total[1]:
                total[1] = acked = 1
                outcome.ack = [message.message_id]
            if not outcome.counted and words and ctx.cohort.min_words > 0:
                outcome.short = "reflection"
        self.rows.append(
            store.NewPost(
                message.message_id,
                ctx.round.id,
                author.id,
                author.name,
                kind,
                message.reply_to_id,
                target,
                message.text,
                words,
                int(message.posted_at > _deadline(ctx.round, kind)),
                acked,
                to_db(message.posted_at),
            )
        )
        return outcome


async def apply_edit(db: Database, message_id: int, text: str, now: datetime) -> Outcome:
    """A stored message was edited: new text and word count; counting follows.

    A post whose text retention removed keeps its figures and stores no new text (a
    forgotten member's posts no longer carry their message ids, so they aren't found).
    """
    async with db.transaction() as tx:
        row = await store.get(tx, message_id)
        if not _editable(row):
            return Outcome()
        ctx = await _context_in_tx(tx, row["round_id"])
        words = count_words(text)
        await store.update_text(tx, message_id, text, words, to_db(now))
        outcome = await _settle_counting(tx, ctx, row["author_id"], row["kind"], words)
    outcome.stored = True
    return outcome


async def edit_matters(db: Database, message_id: int) -> bool:
    """Whether an edit of this message would change what is stored: a replayed edit reads
    the message again from the platform, and most edits the bot sees are of messages it
    never stored (any channel's), or deleted or forgotten since."""
    async with db.reading() as tx:
        return _editable(await store.get(tx, message_id))


def _editable(row: Row | None) -> bool:
    return (
        row is not None
        and row["deleted_at"] is None
        and row["purged_at"] is None
        and row["source"] == "thread"
    )


async def apply_delete(db: Database, message_id: int, now: datetime) -> Outcome:
    """A stored message was deleted: forget its text; a reflection may stop counting."""
    async with db.transaction() as tx:
        row = await store.get(tx, message_id)
        if row is None or row["deleted_at"] is not None:
            return Outcome()
        ctx = await _context_in_tx(tx, row["round_id"])
        await store.mark_deleted(tx, message_id, to_db(now))
        outcome = await _settle_counting(tx, ctx, row["author_id"], row["kind"], None)
    outcome.ack = [m for m in outcome.ack if m != message_id]
    outcome.unack = [m for m in outcome.unack if m != message_id]
    return outcome


async def _told_in_reply(
    tx: Tx, ctx: RoundContext, author_id: int, outcome: Outcome, now: datetime
) -> None:
    """A form's private reply already explained a short post: no DM about it later."""
    if outcome.short:
        note = (ctx.round.id, author_id, f"short_{outcome.short}", "ephemeral", to_db(now))
        await store.claim_notes(tx, [note])


def classify(
    ctx: RoundContext, message: Incoming, replied: tuple[int, str] | None
) -> tuple[str, int | None]:
    """What a message counts as, given the (author, kind) of the post it replies to."""
    if message.author.role is Role.FACILITATOR:
        return "facilitator", None
    if message.reply_to_id is None or message.reply_to_id == ctx.round.message_id:
        return "reflection", None
    if replied is None:
        return "comment", None
    replied_author, replied_kind = replied
    if replied_author == message.author.id:
        return "reflection", None
    if replied_kind == "reflection":
        return "feedback", replied_author
    return "comment", None


def _deadline(round_: Round, kind: str) -> datetime:
    return round_.reflect_due if kind == "reflection" else round_.feedback_due


async def _settle_counting(
    tx: Tx, ctx: RoundContext, author_id: int, kind: str, words: int | None
) -> Outcome:
    """Work out counting after a change (``words``: the changed message's) and move the ✅."""
    outcome = Outcome(kind=kind, words=words or 0)
    if kind == "feedback":
        outcome.counted = words is not None and words >= ctx.cohort.feedback_threshold
        if words is not None and not outcome.counted:
            outcome.short = "feedback"
        return outcome
    if kind != "reflection":
        return outcome
    total = await store.reflection_words(tx, ctx.round.id, author_id)
    outcome.words = total
    outcome.counted = total >= ctx.cohort.reflection_threshold
    outcome.ack, outcome.unack = await _sync_ack(tx, ctx, author_id, outcome.counted)
    if not outcome.counted and words and ctx.cohort.min_words > 0:
        outcome.short = "reflection"
    return outcome


async def _sync_ack(
    tx: Tx, ctx: RoundContext, author_id: int, counted: bool
) -> tuple[list[int], list[int]]:
    """Keep the ✅ on exactly one of a counted reflection's messages, and on none otherwise."""
    acked = await store.acked_reflections(tx, ctx.round.id, author_id)
    if counted and not acked:
        latest = await store.latest_live_reflection(tx, ctx.round.id, author_id)
        if latest is not None:
            await store.set_acked(tx, [latest], True)
            return [latest], []
    if not counted and acked:
        await store.set_acked(tx, acked, False)
        return [], acked
    return [], []


async def _context_in_tx(tx: Tx, round_id: int) -> RoundContext:
    round_ = Round.from_row(await round_store.get(tx, round_id))
    cohort = Cohort.from_row(await cohort_store.get(tx, round_.cohort_id))
    return RoundContext(round_, cohort)


# ----------------------------------------------------------------------------- forms


async def form_message_ids(db: Database, round_id: int, author_id: int) -> list[int]:
    """The messages of this member's form reflection in the round, so a resubmission edits them."""
    async with db.reading() as tx:
        return [
            row["message_id"]
            for row in await store.form_group(tx, round_id, author_id, "reflection")
            if not row["private"]  # a private one has no thread message to edit
        ]


async def save_form_reflection(
    db: Database,
    ctx: RoundContext,
    author: Author,
    parts: list[tuple[int, str]],
    headings: tuple[str, ...],
    now: datetime,
    *,
    private: bool = False,
) -> Outcome:
    """Store (or replace) a reflection written through the form and posted as ``parts``.

    A resubmission keeps the first submission's time, so fixing a typo after the
    deadline does not make an on-time reflection late. A ``private`` one was sent to the
    facilitators only: its "parts" are ids of the submission, never thread messages.
    """
    async with db.transaction() as tx:
        old = await store.form_group(tx, ctx.round.id, author.id, "reflection")
        first_posted = old[0]["posted_at"] if old else to_db(now)
        late = old[0]["late"] if old else int(now > ctx.round.reflect_due)
        was_acked = {row["message_id"] for row in old if row["acked"]}
        await store.delete_rows(tx, [row["message_id"] for row in old])
        for message_id, text in parts:
            await store.insert_if_new(
                tx,
                {
                    "message_id": message_id,
                    "round_id": ctx.round.id,
                    "author_id": author.id,
                    "author_name": author.name,
                    "kind": "reflection",
                    "source": "form",
                    "form_group": parts[0][0],
                    "text": text,
                    "word_count": count_body_words(text, headings),
                    "late": late,
                    "acked": int(message_id in was_acked),
                    "posted_at": first_posted,
                    "private": int(private),
                },
            )
        words = sum(count_body_words(text, headings) for _, text in parts)
        outcome = await _settle_counting(tx, ctx, author.id, "reflection", words)
        removed = was_acked - {message_id for message_id, _ in parts}
        outcome.unack.extend(sorted(removed))  # parts deleted from Discord: harmless to retry
        await _told_in_reply(tx, ctx, author.id, outcome, now)
    outcome.stored = True
    return outcome


PRIVATE_OFF = (
    "**{name}** doesn't take private reflections: please write yours in the round's "
    "thread, or talk to a facilitator directly."
)
IN_THREAD_ALREADY = (
    "Your reflection for this round is already in the thread, so it can't become private. "
    "Delete it there first if you'd rather send it to the facilitators only."
)
NOT_DELIVERED = (
    "Praxis couldn't reach the facilitators just now, so your private reflection wasn't "
    "sent or counted. Please try again later, or write to a facilitator directly."
)
NOTICE_CHARS = 3500  # one facilitator notice; fits a Discord embed and a Slack message


def require_private_allowed(ctx: RoundContext) -> None:
    """A cohort that turned private reflections off refuses them before anything is stored."""
    if not ctx.cohort.private_reflections:
        raise InvalidInput(PRIVATE_OFF.format(name=ctx.cohort.name))


async def save_private_reflection(
    db: Database,
    chat,
    ctx: RoundContext,
    author: Author,
    submission_id: int,
    sections: list[tuple[str, str]],
    now: datetime,
) -> Outcome:
    """Send a reflection meant for the facilitators only to them, then store it.

    It counts like any reflection (same deadline, same minimum), is stored under the
    form submission's id (it has no thread message) and is marked private, so pairing
    never asks anyone to review it. It reaches the cohort's facilitators through the
    Chat port's private path (their DMs or the digest channel).
    """
    require_private_allowed(ctx)
    async with db.reading() as tx:
        in_thread = await store.form_group(tx, ctx.round.id, author.id, "reflection")
    if any(not row["private"] for row in in_thread):
        raise InvalidInput(IN_THREAD_ALREADY)
    text = "\n\n".join(f"**{h}**\n{t}" if h else t for h, t in sections)
    await _deliver_privately(chat, ctx, author, text)
    headings = tuple(h for h, _ in sections if h)
    return await save_form_reflection(
        db, ctx, author, [(submission_id, text)], headings, now, private=True
    )


async def _deliver_privately(chat, ctx: RoundContext, author: Author, text: str) -> None:
    """To the facilitators first: a private reflection nobody can read is not stored."""
    title = f"Private reflection: {author.name}, round {ctx.round.number} of {ctx.cohort.name}"
    chunks = [text[i : i + NOTICE_CHARS] for i in range(0, len(text), NOTICE_CHARS)]
    try:
        for number, chunk in enumerate(chunks, start=1):
            part = f" ({number}/{len(chunks)})" if len(chunks) > 1 else ""
            await chat.tell_facilitators(ctx.cohort, f"{title}{part}"[:250], chunk)
    except DeliveryError as error:
        raise InvalidInput(NOT_DELIVERED) from error


async def reflection_author(db: Database, ctx: RoundContext, message_id: int) -> int | None:
    """Whose reflection a message is, if it is one in this round."""
    async with db.reading() as tx:
        row = await store.get(tx, message_id)
    if row is None or row["round_id"] != ctx.round.id or row["kind"] != "reflection":
        return None
    return row["author_id"] if row["deleted_at"] is None else None


async def anonymous_label(db: Database, ctx: RoundContext, author_id: int) -> str | None:
    """The name form feedback is posted under when the cohort keeps givers anonymous
    ("Peer 3": one number per giver per round, stored so it survives restarts); None: the
    giver's own name, as usual."""
    if not ctx.cohort.anonymous_feedback:
        return None
    async with db.transaction() as tx:
        number = await store.feedback_label(tx, ctx.round.id, author_id)
    return peer_label(number)


ANONYMOUS_NOTE = (
    "Praxis posts this form's feedback as “Peer N”, not under your name. "
    "A thread reply is never anonymous."
)
ANONYMOUS_FORM_TITLE = "Anonymous feedback (thread replies aren't)"  # Discord's limit: 45


async def save_form_feedback(
    db: Database,
    ctx: RoundContext,
    author: Author,
    message_id: int,
    text: str,
    target: tuple[int, int],
    now: datetime,
    headings: tuple[str, ...] = (),
    anonymous: bool = False,
) -> Outcome:
    """Store feedback written through "Give feedback": ``target`` is (member id, message id).

    ``anonymous``: it was posted under the giver's label (:func:`anonymous_label`); the row
    still names the real giver, so it counts for them and facilitators see who wrote it.

    ``headings`` are the cohort's guide questions the text carries: like a reflection
    form's, they are Praxis's words, so they don't count toward the member's minimum."""
    target_id, target_message = target
    words = count_body_words(text, headings)
    async with db.transaction() as tx:
        await store.insert_if_new(
            tx,
            {
                "message_id": message_id,
                "round_id": ctx.round.id,
                "author_id": author.id,
                "author_name": author.name,
                "kind": "feedback",
                "source": "form",
                "reply_to_id": target_message,
                "target_id": target_id,
                "text": text,
                "word_count": words,
                "late": int(now > ctx.round.feedback_due),
                "posted_at": to_db(now),
                "anonymous": int(anonymous),
            },
        )
        outcome = await _settle_counting(tx, ctx, author.id, "feedback", words)
        outcome.words = words
        await _told_in_reply(tx, ctx, author.id, outcome, now)
    outcome.stored = True
    return outcome


# -------------------------------------------------------------------------- progress


@dataclass(frozen=True, slots=True)
class Progress:
    """One member's standing in one round, as ``/me progress`` shows it."""

    reflection_words: int
    reflected: bool
    reflected_late: bool
    min_words: int
    feedback_given: int
    feedback_required: int
    could_respond_to: tuple[Person, ...]

    @property
    def feedback_owed(self) -> int:
        return max(self.feedback_required - self.feedback_given, 0)


async def member_progress(db: Database, ctx: RoundContext, member_id: int) -> Progress:
    cohort = ctx.cohort
    tallies = {
        row["author_id"]: row
        for row in await store.round_tallies(db, ctx.round.id, cohort.feedback_threshold)
    }
    mine = tallies.get(member_id)
    words = mine["reflection_words"] if mine else 0
    on_time = mine["reflection_words_on_time"] if mine else 0
    need = cohort.reflection_threshold
    given = await store.feedback_targets(db, ctx.round.id, member_id, cohort.feedback_threshold)
    peers = tuple(
        Person(author_id, row["author_name"])
        for author_id, row in tallies.items()
        if author_id != member_id and author_id not in given and row["reflection_words"] >= need
    )
    return Progress(
        reflection_words=words,
        reflected=words >= need,
        reflected_late=words >= need > on_time,
        min_words=cohort.min_words,
        feedback_given=len(given),
        feedback_required=cohort.feedback_required,
        could_respond_to=peers,
    )


async def context_by_number(db: Database, cohort: Cohort, number: int | None) -> RoundContext:
    """A round of this cohort by number, or its current one; a kind error otherwise."""
    if number is None:
        ctx = await current_context(db, cohort)
        if ctx is None:
            raise InvalidInput(f"**{cohort.name}** has no round yet.")
        return ctx
    row = await round_store.by_number(db, cohort.id, number)
    if row is None:
        raise InvalidInput(f"**{cohort.name}** has no round {number}.")
    return RoundContext(Round.from_row(row), cohort)


async def current_context(db: Database, cohort: Cohort) -> RoundContext | None:
    """The cohort's most recent round that has a thread (open or closed)."""
    for round_ in await recent_rounds(db, cohort, limit=5):
        if round_.state in ("posted", "closed") and round_.thread_id is not None:
            return RoundContext(round_, cohort)
    return None


async def open_contexts(db: Database) -> list[RoundContext]:
    """Every open round with its cohort (backfill, nudges): two queries, whatever the count."""
    async with db.reading() as tx:
        rounds = await round_store.open_with_threads(tx)
        cohorts = await cohort_store.with_open_rounds(tx)
    by_id = {row["id"]: Cohort.from_row(row) for row in cohorts}
    found = []
    for number, row in enumerate(rounds, start=1):
        round_ = Round.from_row(row)
        if round_.cohort_id in by_id:
            found.append(RoundContext(round_, by_id[round_.cohort_id]))
        await yield_every(number)
    return found


async def last_seen_message(db: Database, ctx: RoundContext) -> tuple[int, datetime | None]:
    """Backfill starts after the newest stored message (or the thread's start), and after
    the newest forgotten post's time: those keep their time but not their id, and must
    not be read back in as new."""
    newest_id, forgotten_at = await store.last_thread_message(db, ctx.round.id)
    start = newest_id if newest_id and newest_id > 0 else ctx.round.thread_id or 0
    return start, from_db(forgotten_at) if forgotten_at else None


async def counted_reflectors(db: Database, ctx: RoundContext) -> list[int]:
    """Members whose reflection in this round counts."""
    rows = await store.round_tallies(db, ctx.round.id, ctx.cohort.feedback_threshold)
    need = ctx.cohort.reflection_threshold
    return [row["author_id"] for row in rows if row["reflection_words"] >= need]


async def private_reflectors(db: Database, ctx: RoundContext) -> set[int]:
    """Members whose reflection went to the facilitators only: nobody reviews it."""
    return await store.private_reflectors(db, ctx.round.id)


class ContextCache:
    """Which round (if any) a thread belongs to, remembered briefly.

    Every thread message needs this; without the cache it costs two queries each. The
    owner clears it whenever rounds or cohorts change (each tick, each cohort edit),
    and entries expire after ``ttl`` seconds regardless. Concurrent misses for the
    same thread share one lookup, so a burst of messages costs one query pair.
    """

    def __init__(self, db: Database, ttl: float = 30.0) -> None:
        self._db = db
        self._ttl = ttl
        self._entries: dict[int, tuple[float, asyncio.Future[RoundContext | None]]] = {}

    def peek(self, thread_id: int) -> RoundContext | bool | None:
        """The cached answer without awaiting, or ``False`` when it must be looked up."""
        hit = self._entries.get(thread_id)
        if hit is None or hit[0] <= time.monotonic() or not hit[1].done():
            return False
        return hit[1].result() if hit[1].exception() is None else False

    async def get(self, thread_id: int) -> RoundContext | None:
        now = time.monotonic()
        hit = self._entries.get(thread_id)
        if hit is None or hit[0] <= now:
            lookup = asyncio.ensure_future(context_for_thread(self._db, thread_id))
            self._entries[thread_id] = hit = (now + self._ttl, lookup)
            lookup.add_done_callback(lambda done, key=thread_id: self._forget_failure(key, done))
        return await asyncio.shield(hit[1])

    def _forget_failure(self, thread_id: int, done: asyncio.Future) -> None:
        if not done.cancelled() and done.exception() is None:
            return
        entry = self._entries.get(thread_id)
        if entry is not None and entry[1] is done:
            del self._entries[thread_id]

    def clear(self) -> None:
        self._entries.clear()


async def reflection_message_of(db: Database, ctx: RoundContext, author_id: int) -> int | None:
    """One live message of ``author_id``'s reflection in the round, if they wrote one: on
    Slack, a reply that @mentions them is feedback on it."""
    async with db.reading() as tx:
        return await store.latest_live_reflection(tx, ctx.round.id, author_id)
