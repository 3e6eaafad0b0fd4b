"""``run_tick(db, chat, now)``: everything due at one moment, in a fixed order.

It starts by writing the heartbeat: while the database can't be written (a full disk,
a read-only file) it stops there and asks to be run again a minute later. After that
each step is independent: if one raises, the rest still run and the failure is logged;
the next tick tries again. The report says what happened and when the next tick is
needed, which the scheduler uses for its wake-up.

Rounds whose thread hasn't been read back since a (re)connect (:mod:`bot.core.unread`)
are held: no pairs, nudges, "too short" notes or closing for them until a later tick,
since what members wrote meanwhile isn't stored yet. Claiming and posting new rounds,
announcing pairs already made, digests of closed rounds and the rest never wait.

When Praxis runs as several processes, each tick first takes its leases
(:mod:`bot.core.leases`) and works only on the cohorts they cover; a lone process's
covers every cohort.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from bot.core import digests, health, nudges, pairs, privacy_rights, rounds
from bot.core.clock import require_aware
from bot.core.errors import StorageBusy, StorageUnavailable
from bot.core.leases import NOTHING, SOLE, Leases, Ownership
from bot.core.ports import Chat
from bot.core.unread import Unread
from bot.storage.db import Database

log = logging.getLogger(__name__)


@dataclass(slots=True)
class TickReport:
    now: datetime
    rounds: rounds.RoundsOutcome = field(
        default_factory=lambda: rounds.RoundsOutcome([], [], [], [], [])
    )
    assigned: list[int] = field(default_factory=list)
    digests: list[int] = field(default_factory=list)
    purged: int = 0
    scrubbed: bool | None = None  # None: nothing removed needed clearing from the files
    nudges: nudges.NudgeReport = field(default_factory=nudges.NudgeReport)
    failed_steps: list[str] = field(default_factory=list)
    next_due: datetime | None = None
    storage_problem: StorageUnavailable | None = None
    busy: bool = False  # the database was locked by another writer: nothing was done
    held: frozenset[int] = frozenset()  # rounds left for a later tick: not read back yet
    ownership: Ownership = SOLE  # the cohorts this process did the work of


#: How soon to look again at work due but left: rounds held for backfill (whose end also
#: wakes the scheduler), a failed step, another process's cohorts.
HELD_RETRY = timedelta(seconds=30)


#: How soon to try again while the database can't be written.
STORAGE_RETRY = timedelta(minutes=1)
#: How soon to try again when another writer held the database past the busy timeout.
BUSY_RETRY = timedelta(seconds=30)


async def run_tick(
    db: Database,
    chat: Chat,
    now: datetime,
    unread: Unread | None = None,
    leases: Leases | None = None,
) -> TickReport:
    require_aware(now)
    report = TickReport(now=now)
    try:
        last_tick = await health.heartbeat(db, now)
    except StorageUnavailable as problem:  # every step would fail the same way: wait it out
        log.warning("Skipping this tick: the database can't be written (%s)", problem.reason)
        report.storage_problem = problem
        report.next_due = now + STORAGE_RETRY
        report.ownership = SOLE if leases is None else NOTHING
        return report
    except StorageBusy:  # a passing lock (a backup, another process): not an outage
        log.warning("Skipping this tick: the database is busy; trying again shortly")
        report.busy = True
        report.next_due = now + BUSY_RETRY
        report.ownership = SOLE if leases is None else NOTHING
        return report
    held = report.held = await unread.held(db) if unread is not None else frozenset()
    report.ownership = await _ownership(db, leases, now)
    mine = report.ownership.cohorts
    ticked = report.ownership.ticked_before  # per cohort with several processes
    before = (lambda _: last_tick) if ticked is None else ticked.get
    steps: list[tuple[str, Callable[[], Awaitable[None]]]] = [
        ("claim rounds", lambda: rounds.claim_due_rounds(db, now, report.rounds, before, mine)),
        ("post rounds", lambda: rounds.deliver_pending(db, chat, now, report.rounds, mine)),
        ("pair reviewers", lambda: _assign(db, chat, now, report, held)),
        ("send nudges", lambda: _nudge(db, chat, now, report, held)),
        ("close rounds", lambda: rounds.close_finished(db, now, report.rounds, held, mine)),
        ("send digests", lambda: _digest(db, chat, now, report)),
    ]
    if report.ownership.maintenance:
        steps += [
            ("purge old texts", lambda: _purge(db, now, report)),
            ("clear removed texts from disk", lambda: _scrub(db, report)),
        ]
    for name, step in steps:
        try:
            await step()
        except Exception:
            log.exception("Tick step %r failed; the next tick will try again", name)
            report.failed_steps.append(name)
    try:
        candidates = [await rounds.next_due(db, now), await nudges.next_due(db, now)]
        report.next_due = min((c for c in candidates if c is not None), default=None)
        if report.next_due is not None and (held or report.next_due <= now):
            # Due already, yet left: a held round, a step that failed, another process's
            # cohort. Looking again at once would only repeat this tick, and a wake-up
            # planned for the past from inside the tick is dropped by APScheduler (this
            # job is still running), losing the next real one until the reconcile.
            report.next_due = max(report.next_due, now + HELD_RETRY)
    except Exception:
        log.exception("Could not plan the next tick; the reconcile job will cover it")
    return report


async def _ownership(db: Database, leases: Leases | None, now: datetime) -> Ownership:
    """Everything for a lone process; else what its leases cover. If they can't be read
    now, nothing: the work waits for the next tick rather than risk being done twice."""
    if leases is None:
        return SOLE
    try:
        return await leases.refresh(db, now)
    except (StorageBusy, StorageUnavailable) as problem:
        log.warning("Could not renew this process's leases; no scheduled work this tick (%s)",
                    problem)  # fmt: skip
        return NOTHING


async def _assign(db: Database, chat: Chat, now: datetime, report: TickReport, held) -> None:
    mine = report.ownership.cohorts
    report.assigned.extend(await pairs.assign_due(db, chat, now, held, mine))


async def _nudge(db: Database, chat: Chat, now: datetime, report: TickReport, held) -> None:
    report.nudges = await nudges.send_due(db, chat, now, held=held, mine=report.ownership.cohorts)


async def _digest(db: Database, chat: Chat, now: datetime, report: TickReport) -> None:
    report.digests.extend(await digests.send_due(db, chat, now, report.ownership.cohorts))


async def _purge(db: Database, now: datetime, report: TickReport) -> None:
    report.purged = await privacy_rights.purge_expired(db, now)


async def _scrub(db: Database, report: TickReport) -> None:
    """After a purge, or a forget or earlier scrub that couldn't finish: reset the WAL."""
    if db.scrub_pending:
        report.scrubbed = await db.scrub(now=report.now)
