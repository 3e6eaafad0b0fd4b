"""Which process does which server's scheduled work, when several share one database.

A lone process (the default) does everything and never writes a lease: its ticks get
:data:`SOLE`. When Praxis runs as several processes on one PostgreSQL (each started with
its own ``SHARD_IDS``, see docs/DEPLOYMENT.md), each tick first takes leases
(:meth:`Leases.refresh`): one per Discord server in the shards this process connects, one
per Slack workspace (any process serving Slack may take one: the Web API answers any of
them), and one for maintenance (the retention purge and the scrub). The tick then posts,
pairs, nudges, closes and digests only for cohorts whose lease it holds
(:class:`Ownership`).

A lease lasts :attr:`Leases.seconds` and is renewed every third of that while the process
lives (:meth:`Leases.keep`), so a process that is killed loses its leases within one
lease, and the next tick of the process that takes them over, or of the killed one
restarted (it comes back as a new owner), catches up the work that was due meanwhile:
the database, not the process, remembers what is done. Each send is also claimed in
the database before it goes out (a round's slot, a nudge, a digest), so a process that
stalled past its lease and woke up still couldn't double them.
"""

from __future__ import annotations

import logging
import os
import secrets
import socket
from collections.abc import Callable, Container, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from bot.core.clock import from_db_optional, to_db
from bot.storage import leases as store
from bot.storage.db import Database

log = logging.getLogger(__name__)

#: The lease for work on no cohort in particular: the retention purge and the scrub.
MAINTENANCE = "maintenance"


class _Everything(Container[int]):
    """Every cohort: what a lone process owns."""

    def __contains__(self, item: object) -> bool:
        return True

    def __repr__(self) -> str:
        return "EVERYTHING"


EVERYTHING: Container[int] = _Everything()


@dataclass(frozen=True, slots=True)
class Ownership:
    """What one tick may do: the cohorts whose scheduled work is this process's, and
    whether the cohort-less maintenance is."""

    cohorts: Container[int]
    maintenance: bool
    #: When each of ``cohorts`` last had its scheduled work done before this tick, by any
    #: process (None: never). Without it (a lone process), the heartbeat says it for all.
    ticked_before: Mapping[int, datetime | None] | None = None


#: A lone process's: everything.
SOLE = Ownership(EVERYTHING, maintenance=True)
#: Nothing (the leases couldn't be read): do no scheduled work this tick.
NOTHING = Ownership(frozenset(), maintenance=False)


def scope_of(platform: str, guild_id: int) -> str:
    return f"{platform}:{guild_id}"


class Leases:
    """This process's leases. ``wants(platform, guild_id)`` says which servers it serves."""

    def __init__(
        self,
        wants: Callable[[str, int], bool],
        seconds: int,
        *,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
        owner: str | None = None,
    ) -> None:
        self.wants = wants
        self.seconds = seconds
        self.clock = clock
        #: New at every start: a restarted process doesn't inherit its old leases, so it
        #: waits for them to expire like anyone else (two processes started with the same
        #: shards by mistake can't both hold a server).
        self.owner = owner or f"{socket.gethostname()}:{os.getpid()}:{secrets.token_hex(4)}"

    def _times(self) -> tuple[str, str]:
        now = self.clock()
        return to_db(now), to_db(now + timedelta(seconds=self.seconds))

    async def refresh(self, db: Database, tick: datetime | None = None) -> Ownership:
        """Renew what this process holds, take what it serves and nobody else holds, and
        say which cohorts that makes its own. Scopes are taken in sorted order, so two
        processes taking several at once can't deadlock each other.

        With ``tick`` (the tick's ``now``), each scope held is noted as ticked then, and
        the ownership says when each cohort's scope was ticked before: a slot after that
        was slept through (this server's process was down), not passed over on purpose,
        even if other processes ticked meanwhile."""
        cohorts = await store.cohort_scopes(db)
        wanted = {scope_of(p, g) for _, p, g in cohorts if self.wants(p, g)} | {MAINTENANCE}
        now, until = self._times()
        async with db.transaction() as tx:
            await store.renew(tx, self.owner, now, until)
            held = await store.held(tx, self.owner, now)
            if missing := sorted(wanted - held.keys()):
                await store.take(tx, missing, self.owner, now, until)
                held = await store.held(tx, self.owner, now)
            if tick is not None:
                await store.mark_ticked(tx, self.owner, now, to_db(tick))
        mine = {c: scope_of(p, g) for c, p, g in cohorts if scope_of(p, g) in held}
        ticked_before = None
        if tick is not None:
            ticked_before = {c: from_db_optional(held[s]) for c, s in mine.items()}
        return Ownership(frozenset(mine), MAINTENANCE in held, ticked_before)

    async def keep(self, db: Database) -> None:
        """Renew the leases held (between ticks, so a long quiet spell loses none)."""
        now, until = self._times()
        async with db.transaction() as tx:
            await store.renew(tx, self.owner, now, until)

    async def release(self, db: Database) -> None:
        """On a clean stop: the others may take this process's servers at once."""
        await store.release(db, self.owner, self._times()[0])
