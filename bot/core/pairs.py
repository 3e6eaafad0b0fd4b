"""Feedback pairs for a round: made once when reflections are due, extended for latecomers.

The pairs are a suggestion that makes coverage fair: feedback to any peer counts.
They are written in the same transaction that marks the round assigned, so a
restart can neither lose them nor make a second, different set.

The list is posted in as many messages as the platform needs (see ``Posted``). Each
part's message id is stored on its pairs as soon as it is posted, so after a failure
or a restart a later tick posts only the parts still missing; ``pairs_announced_at``
closes the list once every part is out, or when a permanent failure (a deleted thread,
a missing permission) makes trying again pointless. A latecomer's addendum is posted
once and not retried: the pairs are stored and used in reminders either way.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Container
from datetime import datetime

from bot.core.assignment import Plan, assign_late, assign_peers, pair
from bot.core.clock import to_db
from bot.core.cohorts import get_cohort_by_id
from bot.core.leases import EVERYTHING
from bot.core.ports import Chat, DeliveryError
from bot.core.reflections import RoundContext, counted_reflectors, private_reflectors
from bot.core.rounds import Round
from bot.storage import assignments as store
from bot.storage.db import Database

log = logging.getLogger(__name__)

RECENT_ROUNDS = 2


async def assign_due(
    db: Database,
    chat: Chat,
    now: datetime,
    held: Container[int] = frozenset(),
    mine: Container[int] = EVERYTHING,
) -> list[int]:
    """Make pairs for every round of ``mine`` (this process's cohorts) whose reflection
    deadline has passed; returns round ids. Rounds in ``held`` wait: their thread isn't
    read back yet, so who reflected is unknown.

    Then post every pairs list with parts still missing (new ones, and those a failure
    or a restart interrupted).
    """
    done = []
    for row in await store.unassigned_due(db, to_db(now)):
        round_ = Round.from_row(row)
        if round_.id in held or round_.cohort_id not in mine:
            continue
        cohort = await get_cohort_by_id(db, round_.cohort_id)
        if cohort is None:
            continue
        plan = await _fresh_plan(db, RoundContext(round_, cohort))
        async with db.transaction() as tx:
            await store.insert(tx, round_.id, _pairs(plan), late=False)
            await store.mark_assigned(tx, round_.id, to_db(now))
        done.append(round_.id)
    for row in await store.unannounced_rounds(db):
        if row["cohort_id"] in mine:
            await _announce_rest(db, chat, Round.from_row(row), now)
    return done


async def add_latecomer(db: Database, chat: Chat, ctx: RoundContext, member_id: int) -> bool:
    """Pair someone whose reflection came in after the pairs were made. True if changed."""
    round_ = ctx.round
    state = await store.assignment_state(db, round_.id)
    if state is None or state["assigned_at"] is None:
        return False
    plan = await store.plan_for(db, round_.id)
    if member_id in plan or ctx.cohort.feedback_required == 0:
        return False
    reflectors = await counted_reflectors(db, ctx)
    private = await private_reflectors(db, ctx)
    everyone = {
        person: plan.get(person, ())
        for person in reflectors
        if person != member_id and person not in private
    }
    if not everyone:
        return False
    recent = await _recent(db, ctx)
    reviews, reviewers = assign_late(member_id, everyone, ctx.cohort.feedback_required, recent)
    if member_id in private:  # they may review others; nobody is asked to review theirs
        reviewers = ()
    pairs = [(member_id, author) for author in reviews] + [(r, member_id) for r in reviewers]
    async with db.transaction() as tx:
        await store.insert(tx, round_.id, pairs, late=True)
    added: dict[int, tuple[int, ...]] = {member_id: reviews}
    for reviewer in reviewers:
        added[reviewer] = (member_id,)
    await _post_parts(db, chat, round_, added, late=True, continued=False)
    return True


async def assigned_authors(db: Database, round_id: int, reviewer_id: int) -> tuple[int, ...]:
    return (await store.plan_for(db, round_id)).get(reviewer_id, ())


async def _fresh_plan(db: Database, ctx: RoundContext) -> Plan:
    if ctx.cohort.feedback_required == 0:
        return {}
    reflectors = await counted_reflectors(db, ctx)
    private = await private_reflectors(db, ctx)
    recent = await _recent(db, ctx)
    k = ctx.cohort.feedback_required
    public_reflectors = [p for p in reflectors if p not in private]
    # Tens of milliseconds of pure Python for a small cohort: in a thread, the event loop
    # gets its turn every switch interval instead of waiting for the search to end.
    plan = await asyncio.to_thread(assign_peers, public_reflectors, k, ctx.round.id, recent)
    public = dict(plan)
    for person in sorted(set(reflectors) & private):
        if public:  # reviews public reflections only; their own is in no one's list
            plan[person] = assign_late(person, public, k, recent)[0]
    return plan


async def _recent(db: Database, ctx: RoundContext) -> set[frozenset[int]]:
    rows = await store.recent_pairs(db, ctx.cohort.id, ctx.round.number, RECENT_ROUNDS)
    return {pair(row["reviewer_id"], row["author_id"]) for row in rows}


async def _announce_rest(db: Database, chat: Chat, round_: Round, now: datetime) -> None:
    """Post the parts of the round's pairs list not posted yet; close the list when done."""
    plan, started = await store.unannounced_plan(db, round_.id)
    if await _post_parts(db, chat, round_, plan, late=False, continued=started):
        async with db.transaction() as tx:
            await store.mark_announced(tx, round_.id, to_db(now))


async def _post_parts(
    db: Database, chat: Chat, round_: Round, plan: Plan, *, late: bool, continued: bool
) -> bool:
    """Post ``plan`` one message at a time, storing each part's id as soon as it is out.

    Returns False after a transient failure (the rest waits for a later tick), True
    when everything is posted or a permanent failure ends the attempt.
    """
    pending = [(reviewer, authors) for reviewer, authors in plan.items() if authors]
    while pending:
        try:
            posted = await chat.announce_pairs(
                round_.thread_id, dict(pending), late=late, continued=continued
            )
        except DeliveryError as error:
            log.warning("Posting feedback pairs for round %s failed: %s", round_.id, error.reason)
            return error.permanent
        part, pending = pending[: posted.count], pending[posted.count :]
        async with db.transaction() as tx:
            reviewers = [reviewer for reviewer, _ in part]
            await store.set_part_message(tx, round_.id, reviewers, posted.message_id, late)
            if not late and not continued:
                await store.set_message(tx, round_.id, posted.message_id)
        continued = True
    return True


def _pairs(plan: Plan) -> list[tuple[int, int]]:
    return [(reviewer, author) for reviewer, authors in plan.items() for author in authors]
