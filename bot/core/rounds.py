"""Rounds: due slots are claimed in the database, then posted, exactly once.

The order of writes is what makes this safe across crashes and outages:

1. **Claim**: a ``rounds`` row (unique per cohort and slot) with the prompt copied in.
   A second tick finds the row and claims nothing.
2. **Attempt**: ``attempts`` and the next retry time are committed *before* Discord
   is called, so a crash mid-post is retried later, not forgotten.
3. **Post**: on any attempt after the first, look for the bot's own prompt message
   (the round id is its marker) before sending a new one; record the message id at
   once, then the thread id, then mark the round posted.

A slot whose reflection window passed before it could be posted is recorded as
missed and reported to facilitators, never posted.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Container
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from bot.core import limits
from bot.core.clock import from_db, from_db_optional, to_db
from bot.core.cohorts import Cohort, get_cohort_by_id
from bot.core.errors import InvalidInput
from bot.core.leases import EVERYTHING
from bot.core.ports import MISSING_PERMISSION, Chat, Delay, DeliveryError, RoundPost
from bot.core.turns import yield_every
from bot.storage import cohorts as cohort_store
from bot.storage import prompts as prompt_store
from bot.storage import rounds as store
from bot.storage.db import Database, Row, Tx

log = logging.getLogger(__name__)

#: Posted more than this after its slot, a round says it is late.
LATE_AFTER = timedelta(minutes=10)
TRANSIENT_RETRY = (timedelta(minutes=1), timedelta(minutes=30))
EMPTY_BANK = "the cohort's prompt bank is empty"
#: Why a slot claimed late, although Praxis ticked after it, was not claimed on time:
#: it was skipped then, and a facilitator has just put it back.
PUT_BACK = "it was put back with /cohort unskip after its opening time"
PERMANENT_RETRY = (timedelta(minutes=15), timedelta(hours=6))


@dataclass(frozen=True, slots=True)
class Round:
    id: int
    cohort_id: int
    number: int
    slot_at: datetime
    manual: bool
    state: str
    title: str | None
    text: str | None
    structure: tuple[str, ...]
    reflect_due: datetime
    feedback_due: datetime
    channel_id: int
    message_id: int | None
    thread_id: int | None
    posted_at: datetime | None
    late: bool
    attempts: int
    failure: str | None
    assigned: bool = False  # feedback pairs have been made

    @classmethod
    def from_row(cls, row: Row) -> Round:
        return cls(
            id=row["id"],
            cohort_id=row["cohort_id"],
            number=row["number"],
            slot_at=from_db(row["slot_at"]),
            manual=bool(row["manual"]),
            state=row["state"],
            title=row["title"],
            text=row["text"],
            structure=prompt_store.structure_of(row) if row["structure"] else (),
            reflect_due=from_db(row["reflect_due"]),
            feedback_due=from_db(row["feedback_due"]),
            channel_id=row["channel_id"],
            message_id=row["message_id"],
            thread_id=row["thread_id"],
            posted_at=from_db_optional(row["posted_at"]),
            late=bool(row["late"]),
            attempts=row["attempts"],
            failure=row["failure"],
            assigned=row["assigned_at"] is not None,
        )

    @property
    def delay(self) -> Delay:
        """Why this round is late, from what its row remembers: the last failed attempt's
        reason, or the reason it was claimed late; with neither, Praxis was offline."""
        failure = self.failure or ""
        if failure == PUT_BACK:
            return Delay.PUT_BACK
        if MISSING_PERMISSION in failure:
            return Delay.PERMISSIONS
        if failure == EMPTY_BANK:
            return Delay.NO_PROMPTS
        return Delay.DISCORD if failure else Delay.OFFLINE

    def post(self, cohort_name: str, *, late: bool) -> RoundPost:
        return RoundPost(
            round_id=self.id,
            cohort_name=cohort_name,
            number=self.number,
            title=self.title or "",
            text=self.text or "",
            structure=self.structure,
            opens_at=self.slot_at,
            reflect_due=self.reflect_due,
            feedback_due=self.feedback_due,
            late=late,
            delay=self.delay,
        )


@dataclass(frozen=True, slots=True)
class StartedRound:
    """What ``/prompt post`` got: a new round, or the one that had just opened."""

    round: Round
    fresh: bool


@dataclass(frozen=True, slots=True)
class Opening:
    """When the next scheduled round opens, and the running round it waits for, if any."""

    at: datetime
    waits_for: int | None


@dataclass(slots=True)
class RoundsOutcome:
    claimed: list[int]
    posted: list[int]
    missed: list[int]
    failed: list[int]
    closed: list[int]


# ------------------------------------------------------------------------ claiming


async def claim_due_rounds(
    db: Database,
    now: datetime,
    outcome: RoundsOutcome,
    ticked_before: Callable[[int], datetime | None] = lambda _: None,
    mine: Container[int] = EVERYTHING,
) -> None:
    """Create a row for every scheduled slot that has come due since the last one.

    Whatever restarted the schedule (an edit, a resume, anything else that moved
    ``schedule_from``), no slot opens before the round opened under the earlier schedule
    has reached the end of its feedback window (:meth:`Cohort.schedule_after`).
    ``ticked_before(cohort_id)`` (when the cohort's scheduled work last ran: the tick
    before this one, or with several processes the last tick of the process holding its
    server) tells a slot Praxis slept through from one it passed over while it was
    skipped, and has just been put back.
    Four queries whatever the number of cohorts, then one transaction per new slot.
    Only cohorts in ``mine`` (this process's, see :mod:`bot.core.leases`).
    """
    cohorts = [Cohort.from_row(r) for r in await cohort_store.list_active(db) if r["id"] in mine]
    last_slots = await store.last_scheduled_slots(db)
    priors = await store.latest_opened_before_schedules(db)
    earliest = min((c.schedule_from for c in cohorts), default=now) - timedelta(days=1)
    skips = await store.skips_from(db, earliest.date().isoformat())
    for cohort in cohorts:
        schedule = cohort.schedule_after(priors.get(cohort.id))
        start = schedule.anchor
        if cohort.id in last_slots:
            start = max(start, from_db(last_slots[cohort.id]) + timedelta(microseconds=1))
        for slot in schedule.slots(start, now):
            if schedule.local_date(slot).isoformat() in skips.get(cohort.id, ()):
                continue
            last_tick = ticked_before(cohort.id)
            put_back = last_tick is not None and last_tick >= slot
            claimed = await _claim_slot(db, cohort, slot, now, put_back)
            if claimed is not None:
                round_id, missed = claimed
                (outcome.missed if missed else outcome.claimed).append(round_id)


async def _claim_slot(
    db: Database, cohort: Cohort, slot: datetime, now: datetime, put_back: bool
) -> tuple[int, bool] | None:
    reflect_due = slot + timedelta(hours=cohort.reflect_hours)
    missed = now >= reflect_due
    async with db.transaction() as tx:
        if await _slot_taken(tx, cohort, slot):
            return None
        values = await _new_round_values(tx, cohort, slot, now, manual=False)
        if missed:
            values.update(state="missed", failure="Praxis was offline until the window closed")
        else:
            values.update(await _take_prompt(tx, cohort, now))
            if put_back and now - slot > LATE_AFTER:
                values["failure"] = PUT_BACK  # the reason it is late, until an attempt fails
        round_id = await store.insert(tx, values)
        if missed:
            await store.add_notice(
                tx,
                cohort.id,
                f"Round {values['number']} of **{cohort.name}** "
                f"(due to open {_local(cohort, slot)}) "
                "was missed: Praxis was offline until its reflection window had closed, so it "
                "was not posted.",
                to_db(now),
            )
    return round_id, missed


async def _slot_taken(tx: Tx, cohort: Cohort, slot: datetime) -> bool:
    """Whether the slot already has a round: one ``/prompt post`` opened at this very instant.

    That round is the slot's round: it becomes a scheduled one, so later ticks move past
    the slot instead of claiming it again.
    """
    existing = await store.at_slot(tx, cohort.id, to_db(slot))
    if existing is not None and existing["manual"]:
        await store.update(tx, existing["id"], {"manual": 0})
    return existing is not None


async def start_round_now(db: Database, cohort: Cohort, now: datetime) -> StartedRound:
    """Claim a manual round (``/prompt post``) with the next prompt; the next tick posts it.

    A round claimed moments ago (a double click, two facilitators at once, the scheduled
    round opening at that instant) is handed back instead of starting a second one. The
    check shares the insert's transaction, so calls at the same moment start one round.
    """
    async with db.transaction() as tx:
        since = now - timedelta(seconds=limits.JUST_OPENED_SECONDS)
        recent = await store.opened_since(tx, cohort.id, to_db(since))
        if recent is not None:
            return StartedRound(Round.from_row(recent), fresh=False)
        if await prompt_store.count(tx, cohort.id) == 0:
            raise InvalidInput(
                f"**{cohort.name}** has no prompts yet. Add one with `/prompt add` first."
            )
        values = await _new_round_values(tx, cohort, now, now, manual=True)
        values.update(await _take_prompt(tx, cohort, now))
        round_id = await store.insert(tx, values)
        return StartedRound(Round.from_row(await store.get(tx, round_id)), fresh=True)


async def _new_round_values(
    tx: Tx, cohort: Cohort, slot: datetime, now: datetime, *, manual: bool
) -> dict[str, Any]:
    return {
        "cohort_id": cohort.id,
        "number": await store.next_number(tx, cohort.id),
        "slot_at": to_db(slot),
        "manual": int(manual),
        "state": "claimed",
        "reflect_due": to_db(slot + timedelta(hours=cohort.reflect_hours)),
        "feedback_due": to_db(slot + timedelta(hours=cohort.feedback_hours)),
        "channel_id": cohort.channel_id,
        "next_attempt_at": to_db(now),
        "created_at": to_db(now),
    }


async def _take_prompt(tx: Tx, cohort: Cohort, now: datetime) -> dict[str, Any]:
    """The next unused prompt of the current cycle; when all are used, start a new cycle."""
    cycle = await cohort_store.prompt_cycle(tx, cohort.id)
    prompt = await prompt_store.first_unused(tx, cohort.id, cycle)
    if prompt is None and await prompt_store.count(tx, cohort.id) > 0:
        cycle += 1
        await cohort_store.update(tx, cohort.id, {"prompt_cycle": cycle})
        await store.add_notice(
            tx,
            cohort.id,
            f"Every prompt in **{cohort.name}**'s bank has now been used, so the bank starts "
            "over from prompt 1. Add new prompts with `/prompt add` or `/prompt import`.",
            to_db(now),
        )
        prompt = await prompt_store.first_unused(tx, cohort.id, cycle)
    if prompt is None:
        return {}
    return {
        "prompt_id": prompt["id"],
        "prompt_cycle": cycle,
        "title": prompt["title"],
        "text": prompt["text"],
        "structure": prompt["structure"],
    }


# ------------------------------------------------------------------------- posting


async def deliver_pending(
    db: Database,
    chat: Chat,
    now: datetime,
    outcome: RoundsOutcome,
    mine: Container[int] = EVERYTHING,
) -> None:
    """Post every claimed or failed round of ``mine`` whose next attempt is due; one
    failure stops none."""
    for row in await store.pending(db, to_db(now)):
        if row["cohort_id"] not in mine:
            continue
        round_ = Round.from_row(row)
        cohort = await get_cohort_by_id(db, round_.cohort_id)
        if cohort is None:
            continue
        state = await _attempt(db, chat, cohort, round_, now)
        if state == "taken":  # another process's attempt got there first
            continue
        {"posted": outcome.posted, "missed": outcome.missed}.get(state, outcome.failed).append(
            round_.id
        )


async def _attempt(db: Database, chat: Chat, cohort: Cohort, round_: Round, now: datetime) -> str:
    too_late = now >= (round_.feedback_due if round_.message_id else round_.reflect_due)
    if too_late:
        await _mark_missed(db, cohort, round_, now)
        return "missed"
    if round_.title is None:
        async with db.transaction() as tx:
            found = await _take_prompt(tx, cohort, now)
            if found:
                await store.update(tx, round_.id, found)
        if not found:
            await _mark_failed(db, cohort, round_, now, EMPTY_BANK, True)
            return "failed"
        round_ = await _reload(db, round_.id)
    attempt = round_.attempts + 1
    retry_at = to_db(now + _backoff(attempt, False))
    async with db.transaction() as tx:  # claimed: of two processes, one makes this attempt
        if not await store.claim_attempt(tx, round_.id, round_.attempts, retry_at):
            return "taken"
    late = round_.manual is False and now - round_.slot_at > LATE_AFTER
    post = round_.post(cohort.name, late=late)
    channel_id, message_id = round_.channel_id, round_.message_id
    try:
        if message_id is None and attempt > 1:
            # An earlier attempt may have posted without hearing back: look where it went.
            message_id = await _find_earlier_post(chat, round_, channel_id)
        if message_id is None:
            channel_id = cohort.channel_id  # follow the cohort if a facilitator moved it
            message_id = await chat.post_round(channel_id, post)
        if message_id != round_.message_id:
            async with db.transaction() as tx:
                await store.update(
                    tx, round_.id, {"message_id": message_id, "channel_id": channel_id}
                )
        thread_id = await chat.open_round_thread(channel_id, message_id, post)
    except DeliveryError as error:
        await _mark_failed(db, cohort, round_, now, error.reason, error.permanent, attempt)
        return "failed"
    async with db.transaction() as tx:
        await store.update(
            tx,
            round_.id,
            {
                "thread_id": thread_id,
                "state": "posted",
                "posted_at": to_db(now),
                "late": int(late),
                "failure": None,
                "next_attempt_at": None,
            },
        )
    log.info("Posted round %s of cohort %s (late=%s)", round_.number, cohort.id, late)
    return "posted"


async def _find_earlier_post(chat: Chat, round_: Round, channel_id: int) -> int | None:
    try:
        return await chat.find_round_message(
            channel_id, round_.id, since=round_.slot_at - timedelta(minutes=1)
        )
    except DeliveryError as error:
        if error.permanent:
            return None  # the old channel is gone or closed to us: nothing of ours is there
        raise


async def _mark_failed(
    db: Database,
    cohort: Cohort,
    round_: Round,
    now: datetime,
    reason: str,
    permanent: bool,
    attempt: int | None = None,
) -> None:
    attempt = attempt or round_.attempts + 1
    log.warning("Round %s of cohort %s failed: %s", round_.number, cohort.id, reason)
    async with db.transaction() as tx:
        await store.update(
            tx,
            round_.id,
            {
                "state": "failed",
                "failure": reason,
                "attempts": attempt,
                "next_attempt_at": to_db(now + _backoff(attempt, permanent)),
            },
        )
        if permanent and reason != round_.failure:
            await store.add_notice(
                tx,
                cohort.id,
                f"I couldn't post round {round_.number} of **{cohort.name}**: {reason}. "
                "I'll keep trying while its reflection window is open.",
                to_db(now),
            )


async def _mark_missed(db: Database, cohort: Cohort, round_: Round, now: datetime) -> None:
    reason = round_.failure or "it could not be posted in time"
    async with db.transaction() as tx:
        await store.update(
            tx, round_.id, {"state": "missed", "next_attempt_at": None, "failure": reason}
        )
        await store.add_notice(
            tx,
            cohort.id,
            f"Round {round_.number} of **{cohort.name}** was missed: {reason}, and its "
            "reflection window has now closed.",
            to_db(now),
        )


def _backoff(attempt: int, permanent: bool) -> timedelta:
    base, cap = PERMANENT_RETRY if permanent else TRANSIENT_RETRY
    return min(base * 2 ** max(0, attempt - 1), cap)


async def _reload(db: Database, round_id: int) -> Round:
    async with db.reading() as tx:
        return Round.from_row(await store.get(tx, round_id))


# ------------------------------------------------------------------ closing & planning


async def close_finished(
    db: Database,
    now: datetime,
    outcome: RoundsOutcome,
    held: Container[int] = frozenset(),
    mine: Container[int] = EVERYTHING,
) -> None:
    """Close rounds past their feedback deadline, except ``held`` ones (not read back yet:
    their last messages, and so the digest, would be missing)."""
    async with db.transaction() as tx:
        outcome.closed.extend(await store.close_finished(tx, to_db(now), keep=held, cohorts=mine))


async def next_due(db: Database, now: datetime) -> datetime | None:
    """The earliest instant at which a tick will have rounds work to do."""
    candidates = [
        from_db(value)
        for value in (await store.earliest_pending_due(db), await store.earliest_open_deadline(db))
        if value is not None
    ]
    priors = await store.latest_opened_before_schedules(db)
    for number, row in enumerate(await cohort_store.list_active(db), start=1):
        cohort = Cohort.from_row(row)
        candidates.append(cohort.schedule_after(priors.get(cohort.id)).next_slot(now))
        await yield_every(number)
    return min(candidates, default=None)


async def next_opening(db: Database, cohort: Cohort, now: datetime) -> Opening | None:
    """When the claim step will open the cohort's next scheduled round; ``None`` if paused.

    It follows the claim step's rules: skipped dates, and a round opened before the
    schedule last restarted that is still in its feedback window.
    """
    if cohort.paused:
        return None
    skipped = {day.isoformat() for day in await upcoming_skips(db, cohort, now)}
    async with db.reading() as tx:
        prior = await store.latest_opened_before(tx, cohort.id, to_db(cohort.schedule_from))
    running = prior is not None and from_db(prior["feedback_due"]) > now
    schedule = cohort.schedule_after(prior)
    moment = now
    for _ in range(60):
        slot = schedule.next_slot(moment)
        if schedule.local_date(slot).isoformat() not in skipped:
            return Opening(slot, prior["number"] if running else None)
        moment = slot
    return None


# ---------------------------------------------------------------------------- reads


async def recent_rounds(db: Database, cohort: Cohort, limit: int = 5) -> list[Round]:
    return [Round.from_row(row) for row in await store.latest_for_cohort(db, cohort.id, limit)]


async def round_for_thread(db: Database, thread_id: int) -> Round | None:
    row = await store.by_thread(db, thread_id)
    return None if row is None else Round.from_row(row)


async def get_round(db: Database, round_id: int) -> Round | None:
    async with db.reading() as tx:
        row = await store.get(tx, round_id)
    return None if row is None else Round.from_row(row)


# ---------------------------------------------------------------------------- skips


def parse_local_date(raw: str) -> date:
    try:
        return date.fromisoformat(raw.strip())
    except ValueError:
        raise InvalidInput(
            f"“{raw.strip()[:40]}” isn't a date I can read. Write it as YYYY-MM-DD, "
            "for example 2026-12-28."
        ) from None


async def skip_date(db: Database, cohort: Cohort, raw: str, now: datetime) -> date:
    day = parse_local_date(raw)
    today = now.astimezone(cohort.schedule.zone).date()
    if day < today:
        raise InvalidInput("That date has already passed; pick today or a later date.")
    if day.weekday() != cohort.weekday:
        raise InvalidInput(
            f"**{cohort.name}** opens rounds on {cohort.weekday_name}s, and {day:%A %d %B %Y} "
            f"is a {day:%A}. Pick the {cohort.weekday_name} whose round you want to skip."
        )
    if not _is_round_day(cohort, day):
        raise InvalidInput(
            f"**{cohort.name}** posts every {cohort.every_weeks} weeks, and no round is "
            f"planned on {day:%A %d %B %Y}. `/cohort show` gives the next round's date."
        )
    async with db.transaction() as tx:
        await store.add_skip(tx, cohort.id, day.isoformat(), to_db(now))
    return day


async def unskip_date(db: Database, cohort: Cohort, raw: str, now: datetime) -> date:
    day = parse_local_date(raw)
    if day < now.astimezone(cohort.schedule.zone).date():
        raise InvalidInput("That date has already passed, so its round can't be put back.")
    async with db.transaction() as tx:
        removed = await store.remove_skip(tx, cohort.id, day.isoformat())
    if not removed:
        raise InvalidInput(f"{day:%A %d %B %Y} isn't skipped for **{cohort.name}**.")
    return day


async def upcoming_skips(db: Database, cohort: Cohort, now: datetime) -> list[date]:
    today = now.astimezone(cohort.schedule.zone).date()
    found = await store.upcoming_skips(db, cohort.id, today.isoformat())
    return [date.fromisoformat(value) for value in found]


def _is_round_day(cohort: Cohort, day: date) -> bool:
    """Whether the schedule has a slot on this cohort-local date."""
    schedule = cohort.schedule
    start = datetime.combine(day, datetime.min.time(), tzinfo=schedule.zone)
    return any(True for _ in schedule.slots(start, start + timedelta(days=1)))


def _local(cohort: Cohort, moment: datetime) -> str:
    return moment.astimezone(cohort.schedule.zone).strftime("%a %d %b %Y %H:%M")
