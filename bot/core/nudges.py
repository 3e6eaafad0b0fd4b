"""Nudges: a private, kind reminder to whoever hasn't responded, once per step.

Three kinds per round, each with its moment:

* ``reflect_reminder``: ``reflect_nudge_hours`` before reflections are due, to members
  without a counted reflection;
* ``reflect_last_call``: at the reflection deadline (if the cohort keeps it on);
* ``feedback_reminder``: ``feedback_nudge_hours`` before feedback is due, to members who
  still owe feedback, naming whose reflections they could respond to.

Two more kinds explain, privately, why a post doesn't count yet: ``short_reflection`` and
``short_feedback``, sent once the member has stopped writing for a while (a reflection
written in several messages is not interrupted) and never mentioned in the thread.

A moment inside the cohort's quiet hours moves to their end; a nudge whose moment
moves past its deadline is dropped rather than sent late. Facilitators, excused members
and members who turned nudges off are never nudged. At most one nudge per member, round
and kind, ever: the ``member_notes`` row is claimed before sending.
"""

from __future__ import annotations

import logging
from collections.abc import Container
from dataclasses import dataclass, field
from datetime import datetime, time, timedelta

from bot.core import notes, pairs
from bot.core.clock import to_db
from bot.core.cohorts import Cohort
from bot.core.leases import EVERYTHING
from bot.core.ports import Chat, DeliveryError, NudgeMessage, Person
from bot.core.reflections import Progress, RoundContext, member_progress, open_contexts
from bot.core.turns import yield_every
from bot.storage import members as member_store
from bot.storage import posts as post_store
from bot.storage.db import Database

log = logging.getLogger(__name__)

REFLECT_REMINDER = "reflect_reminder"
LAST_CALL = "reflect_last_call"
FEEDBACK_REMINDER = "feedback_reminder"
KINDS = (REFLECT_REMINDER, LAST_CALL, FEEDBACK_REMINDER)
SHORT_REFLECTION = "short_reflection"
SHORT_FEEDBACK = "short_feedback"
PRIVATE_ONLY = frozenset({SHORT_REFLECTION, SHORT_FEEDBACK})  # never mentioned in public
WRITING_PAUSE = timedelta(minutes=20)
LAST_CALL_VALID = timedelta(hours=24)  # after a longer outage a "due now" note would mislead


# --------------------------------------------------------------------------- timing


def in_quiet_hours(cohort: Cohort, moment: datetime) -> bool:
    start, end = _hhmm(cohort.quiet_start), _hhmm(cohort.quiet_end)
    local = moment.astimezone(cohort.schedule.zone).time()
    if start == end:
        return False
    if start < end:
        return start <= local < end
    return local >= start or local < end


def after_quiet_hours(cohort: Cohort, moment: datetime) -> datetime:
    """``moment``, or the end of the quiet hours it falls in."""
    if not in_quiet_hours(cohort, moment):
        return moment
    zone = cohort.schedule.zone
    local = moment.astimezone(zone)
    end = datetime.combine(local.date(), _hhmm(cohort.quiet_end), tzinfo=zone)
    if end <= local:
        end = datetime.combine(
            local.date() + timedelta(days=1), _hhmm(cohort.quiet_end), tzinfo=zone
        )
    return end.astimezone(moment.tzinfo)


def window(ctx: RoundContext, kind: str) -> tuple[datetime, datetime] | None:
    """When this kind of nudge may go out for this round: ``[from, until)``, or never."""
    cohort, round_ = ctx.cohort, ctx.round
    if kind == REFLECT_REMINDER and cohort.reflect_nudge_hours > 0:
        start = round_.reflect_due - timedelta(hours=cohort.reflect_nudge_hours)
        until = round_.reflect_due
    elif kind == LAST_CALL and cohort.last_call:
        start = round_.reflect_due
        until = min(after_quiet_hours(cohort, start) + LAST_CALL_VALID, round_.feedback_due)
    elif kind == FEEDBACK_REMINDER and cohort.feedback_nudge_hours > 0 and cohort.feedback_required:
        start = round_.feedback_due - timedelta(hours=cohort.feedback_nudge_hours)
        until = round_.feedback_due
    else:
        return None
    start = max(after_quiet_hours(cohort, start), round_.slot_at)
    return (start, until) if start < until else None


def due_kinds(ctx: RoundContext, now: datetime) -> list[str]:
    if in_quiet_hours(ctx.cohort, now):
        return []
    found = []
    for kind in KINDS:
        span = window(ctx, kind)
        if span is not None and span[0] <= now < span[1]:
            found.append(kind)
    if LAST_CALL in found and REFLECT_REMINDER in found:
        found.remove(REFLECT_REMINDER)  # a last call supersedes a reminder never sent in time
    return found


# -------------------------------------------------------------------------- planning


@dataclass(frozen=True, slots=True)
class Planned:
    ctx: RoundContext
    member: Person
    kind: str
    reason: str
    message: NudgeMessage


@dataclass(slots=True)
class NudgeReport:
    by_dm: list[tuple[int, str]] = field(default_factory=list)
    in_thread: list[tuple[int, str]] = field(default_factory=list)
    failed: list[tuple[int, str]] = field(default_factory=list)


async def plan(
    db: Database, ctx: RoundContext, roster: list[Person], now: datetime
) -> list[Planned]:
    """Who would be nudged now, for what, and why (``/nudge preview`` shows exactly this)."""
    due = await _due(db, ctx, now)
    return [] if due is None else await _plan_due(db, ctx, roster, *due)


async def _due(db: Database, ctx: RoundContext, now: datetime) -> tuple[list[str], dict] | None:
    """The kinds due now and the short posts waiting, or None: the common case, every tick,
    settled by one query and before the roster is read (on Slack that costs Web API calls)."""
    if in_quiet_hours(ctx.cohort, now) or ctx.round.state != "posted":
        return None
    kinds = due_kinds(ctx, now)
    shorts = await _short_posts(db, ctx, now)
    return (kinds, shorts) if kinds or shorts else None


async def _plan_due(
    db: Database, ctx: RoundContext, roster: list[Person], kinds: list[str], shorts: dict
) -> list[Planned]:
    guild_id = ctx.cohort.guild_id
    settings = await member_store.settings_for(db, guild_id, [p.id for p in roster])
    excused = await member_store.excused(db, ctx.round.id)
    sent = await post_store.notes_sent(db, ctx.round.id)
    names = {p.id: p.name for p in roster}
    found = []
    for person in roster:
        row = settings.get(person.id)
        if person.id in excused or (row is not None and not row["nudges"]):
            continue
        for kind, words in shorts.get(person.id, ()):
            if (person.id, kind) not in sent:
                found.append(_short_note(ctx, person, kind, words))
        if not kinds:
            continue
        progress = await member_progress(db, ctx, person.id)
        for kind in kinds:
            if (person.id, kind) in sent:
                continue
            planned = await _plan_one(db, ctx, person, kind, progress, names)
            if planned is not None:
                found.append(planned)
    return found


async def _short_posts(db: Database, ctx: RoundContext, now: datetime) -> dict[int, list]:
    cohort = ctx.cohort
    rows = await post_store.short_posts(
        db,
        ctx.round.id,
        cohort.reflection_threshold if cohort.min_words else 0,
        cohort.feedback_threshold if cohort.feedback_min_words else 0,
        to_db(now - WRITING_PAUSE),
    )
    found: dict[int, list] = {}
    for row in rows:
        found.setdefault(row["author_id"], []).append((f"short_{row['kind']}", row["words"]))
    return found


def _short_note(ctx: RoundContext, person: Person, kind: str, words: int) -> Planned:
    cohort, round_ = ctx.cohort, ctx.round
    needed = cohort.min_words if kind == SHORT_REFLECTION else cohort.feedback_min_words
    message = NudgeMessage(
        kind=kind,
        member=person,
        cohort_name=cohort.name,
        round_id=round_.id,
        round_number=round_.number,
        round_title=round_.title or "",
        thread_id=round_.thread_id,
        due=round_.reflect_due if kind == SHORT_REFLECTION else round_.feedback_due,
        feedback_given=0,
        feedback_required=cohort.feedback_required,
        peers=(),
        words=words,
        words_needed=needed,
    )
    what = "reflection" if kind == SHORT_REFLECTION else "feedback"
    return Planned(ctx, person, kind, f"{what} under the minimum ({words} of {needed})", message)


async def _plan_one(db, ctx, person, kind, progress, names) -> Planned | None:
    round_ = ctx.round
    if kind in (REFLECT_REMINDER, LAST_CALL):
        if progress.reflected:
            return None
        reason = (
            f"reflection started ({progress.reflection_words} of {progress.min_words} words)"
            if progress.reflection_words
            else "no reflection yet"
        )
        due, peers = round_.reflect_due, ()
    else:
        if progress.feedback_owed == 0:
            return None
        suggested = await suggested_peers(db, ctx, person.id, progress)
        if not suggested:
            return None  # nobody to respond to yet
        peers = tuple(names.get(a) or next(p.name for p in progress.could_respond_to if p.id == a)
                      for a in suggested[:5])  # fmt: skip
        reason = f"owes feedback to {progress.feedback_owed} more peer(s)"
        due = round_.feedback_due
    message = NudgeMessage(
        kind=kind,
        member=person,
        cohort_name=ctx.cohort.name,
        round_id=round_.id,
        round_number=round_.number,
        round_title=round_.title or "",
        thread_id=round_.thread_id,
        due=due,
        feedback_given=progress.feedback_given,
        feedback_required=progress.feedback_required,
        peers=peers,
    )
    return Planned(ctx, person, kind, reason, message)


async def suggested_peers(
    db: Database, ctx: RoundContext, member_id: int, progress: Progress
) -> list[int]:
    """Whom a member who owes feedback could respond to: their pairs they haven't responded
    to yet, or else anyone with a counted reflection they haven't responded to (reminders
    and the Slack Home tab name the same people)."""
    assigned = await pairs.assigned_authors(db, ctx.round.id, member_id)
    open_peers = {p.id for p in progress.could_respond_to}
    return [a for a in assigned if a in open_peers] or sorted(open_peers)


# -------------------------------------------------------------------------- sending


async def send_due(
    db: Database,
    chat: Chat,
    now: datetime,
    cohort_id: int | None = None,
    held: Container[int] = frozenset(),
    mine: Container[int] = EVERYTHING,
) -> NudgeReport:
    """Send every nudge due now (for one cohort, or all of ``mine``: this process's); one
    failure stops none. Rounds in ``held`` wait: what members wrote there while Praxis
    was away isn't read back yet."""
    report = NudgeReport()
    for ctx in await open_contexts(db):
        if (cohort_id is not None and ctx.cohort.id != cohort_id) or ctx.round.id in held:
            continue
        if ctx.cohort.id not in mine:
            continue
        due = await _due(db, ctx, now)
        if due is None:
            continue
        roster = await chat.roster(ctx.cohort)
        if roster is None:
            continue
        await _deliver(db, chat, await _plan_due(db, ctx, roster, *due), now, report)
    return report


async def _deliver(db: Database, chat: Chat, planned: list[Planned], now: datetime, report) -> None:
    if not planned:
        return
    ctx = planned[0].ctx
    guild_id = ctx.cohort.guild_id
    settings = await member_store.settings_for(db, guild_id, [p.member.id for p in planned])
    to_thread: list[Planned] = []
    for item in planned:
        row = settings.get(item.member.id)
        closed = bool(row and row["dms_closed"])
        channel = "thread" if closed else "dm"
        if not await notes.claim(db, ctx.round.id, item.member.id, item.kind, channel, now):
            continue
        if closed:
            if item.kind in PRIVATE_ONLY:
                await notes.record(
                    db, ctx.round.id, item.member.id, item.kind, "dm", "skipped: DMs closed"
                )
            else:
                to_thread.append(item)
            continue
        known = row["dm_channel_id"] if row else None
        try:
            dm_channel = await chat.send_nudge(item.member.id, known, item.message)
        except DeliveryError as error:
            if error.dms_closed:
                await _remember(db, guild_id, item.member.id, now, dms_closed=1)
                if item.kind in PRIVATE_ONLY:
                    await notes.record(
                        db, ctx.round.id, item.member.id, item.kind, "dm", "skipped: DMs closed"
                    )
                else:
                    to_thread.append(item)
            else:
                await _failed(db, item, error, report)
            continue
        if dm_channel != known:
            await _remember(db, guild_id, item.member.id, now, dm_channel_id=dm_channel)
        await notes.record(db, ctx.round.id, item.member.id, item.kind, "dm", "sent")
        report.by_dm.append((item.member.id, item.kind))
    if to_thread:
        await _deliver_in_thread(db, chat, ctx, to_thread, report)


async def _deliver_in_thread(db, chat, ctx: RoundContext, items: list[Planned], report) -> None:
    """Everyone whose DMs are closed, mentioned in the round's thread.

    As few messages as the platform allows; each member's note is recorded as soon as
    the message naming them is out, so a failure frees only the claims of those not
    posted yet, and a later tick posts only them.
    """
    while items:
        try:
            posted = await chat.nudge_in_thread(
                ctx.round.thread_id, [item.message for item in items]
            )
        except DeliveryError as error:
            for item in items:
                await _failed(db, item, error, report)
            return
        for item in items[: posted.count]:
            await notes.record(db, ctx.round.id, item.member.id, item.kind, "thread", "sent")
            report.in_thread.append((item.member.id, item.kind))
        items = items[posted.count :]


async def _failed(db: Database, item: Planned, error: DeliveryError, report: NudgeReport) -> None:
    """A transient failure frees the claim so a later tick retries; a permanent one is kept."""
    round_id, member_id = item.ctx.round.id, item.member.id
    if error.permanent:
        await notes.record(db, round_id, member_id, item.kind, "dm", f"failed: {error.reason}")
    else:
        await notes.release(db, round_id, member_id, item.kind)
    report.failed.append((member_id, item.kind))
    log.warning("Nudge %s to a member failed: %s", item.kind, error.reason)


async def _remember(db: Database, guild_id: int, user_id: int, now: datetime, **values) -> None:
    async with db.transaction() as tx:
        await member_store.upsert(tx, guild_id, user_id, to_db(now), **values)


async def next_due(db: Database, now: datetime) -> datetime | None:
    """The next moment a nudge window opens or pairs are due, across open rounds."""
    found = []
    for number, ctx in enumerate(await open_contexts(db), start=1):
        await yield_every(number)
        if ctx.round.reflect_due > now:
            found.append(ctx.round.reflect_due)  # pairs are made then
        for kind in KINDS:
            span = window(ctx, kind)
            if span is not None and span[0] > now:
                found.append(span[0])
    return min(found, default=None)


async def set_nudges(db: Database, guild_id: int, user_id: int, on: bool, now: datetime) -> None:
    await _remember(db, guild_id, user_id, now, nudges=int(on))


async def excuse(db: Database, ctx: RoundContext, member_id: int, by: int, now: datetime) -> bool:
    async with db.transaction() as tx:
        return await member_store.excuse(tx, ctx.round.id, member_id, by, to_db(now))


def _hhmm(value: str) -> time:
    hour, minute = (int(part) for part in value.split(":"))
    return time(hour, minute)
