"""Feedback pairs for a round: made once when reflections are due, extended for latecomers.

The pairs are a suggestion that makes coverage fair: feedback to any peer counts.
They are written in the same transaction that marks the round assigned, so a
restart can neither lose them nor make a second, different set.
"""

from __future__ import annotations

from datetime import datetime

from bot.core.assignment import Plan, assign_late, assign_peers, pair
from bot.core.clock import to_db
from bot.core.cohorts import get_cohort_by_id
from bot.core.ports import Chat, DeliveryError
from bot.core.reflections import RoundContext, counted_reflectors
from bot.core.rounds import Round
from bot.storage import assignments as store
from bot.storage.db import Database

RECENT_ROUNDS = 2


async def assign_due(db: Database, chat: Chat, now: datetime) -> list[int]:
    """Make pairs for every round whose reflection deadline has passed; returns round ids."""
    done = []
    for row in await store.unassigned_due(db, to_db(now)):
        round_ = Round.from_row(row)
        cohort = await get_cohort_by_id(db, round_.cohort_id)
        if cohort is None:
            continue
        ctx = RoundContext(round_, cohort)
        plan = await _fresh_plan(db, ctx)
        async with db.transaction() as tx:
            await store.insert(tx, round_.id, _pairs(plan), late=False)
            await store.mark_assigned(tx, round_.id, to_db(now))
        if any(plan.values()):
            await _announce(db, chat, ctx, plan, late=False)
        done.append(round_.id)
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
    everyone = {person: plan.get(person, ()) for person in reflectors if person != member_id}
    if not everyone:
        return False
    recent = await _recent(db, ctx)
    reviews, reviewers = assign_late(member_id, everyone, ctx.cohort.feedback_required, recent)
    pairs = [(member_id, author) for author in reviews] + [(r, member_id) for r in reviewers]
    async with db.transaction() as tx:
        await store.insert(tx, round_.id, pairs, late=True)
    added: dict[int, tuple[int, ...]] = {member_id: reviews}
    for reviewer in reviewers:
        added[reviewer] = (member_id,)
    await _announce(db, chat, ctx, added, late=True)
    return True


async def assigned_authors(db: Database, round_id: int, reviewer_id: int) -> tuple[int, ...]:
    return (await store.plan_for(db, round_id)).get(reviewer_id, ())


async def _fresh_plan(db: Database, ctx: RoundContext) -> Plan:
    if ctx.cohort.feedback_required == 0:
        return {}
    reflectors = await counted_reflectors(db, ctx)
    return assign_peers(
        reflectors, ctx.cohort.feedback_required, ctx.round.id, await _recent(db, ctx)
    )


async def _recent(db: Database, ctx: RoundContext) -> set[frozenset[int]]:
    rows = await store.recent_pairs(db, ctx.cohort.id, ctx.round.number, RECENT_ROUNDS)
    return {pair(row["reviewer_id"], row["author_id"]) for row in rows}


async def _announce(db: Database, chat: Chat, ctx: RoundContext, plan: Plan, *, late: bool) -> None:
    """Post the pairs once (a latecomer's pairs as a short addendum)."""
    try:
        posted = await chat.announce_pairs(ctx.round.thread_id, plan, late=late)
    except DeliveryError:
        return  # the pairs are stored and used in reminders; the message is a courtesy
    if not late:
        async with db.transaction() as tx:
            await store.set_message(tx, ctx.round.id, posted)


def _pairs(plan: Plan) -> list[tuple[int, int]]:
    return [(reviewer, author) for reviewer, authors in plan.items() for author in authors]
