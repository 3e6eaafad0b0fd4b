"""Whether Praxis can write to its database, and telling facilitators when that changes.

A full disk or a read-only database file stops every write, but not the bot: it keeps
answering, says so once (in the log and to each cohort's facilitators), and resumes by
itself. Every tick writes the heartbeat first, which doubles as the probe that notices
the problem was fixed; thread messages posted meanwhile are read back from the platform.
"""

from __future__ import annotations

import logging
from collections.abc import Container
from dataclasses import dataclass
from datetime import datetime

from bot.core.clock import from_db_optional, to_db
from bot.core.cohorts import list_active_cohorts
from bot.core.errors import StorageUnavailable
from bot.core.leases import EVERYTHING
from bot.core.ports import Chat, DeliveryError
from bot.storage import health as store
from bot.storage.db import Database

log = logging.getLogger(__name__)


async def heartbeat(db: Database, now: datetime) -> datetime | None:
    """The tick's first write; raises :class:`StorageUnavailable` while writes fail.

    Returns the previous tick's time (``None`` before the first), which tells a slot
    Praxis slept through from one it passed over on purpose."""
    async with db.transaction() as tx:
        previous = await store.beat(tx, to_db(now))
    return from_db_optional(previous)


@dataclass(slots=True)
class StorageWatch:
    """One 'down' and one 'up' per outage, however many writes fail in between.

    Down as soon as any write is refused. Up only once the heartbeat works *and* the
    retries (redoing what was refused) went through without a new refusal: a nearly
    full disk can take a small write and still refuse a big one.
    """

    down_since: datetime | None = None
    problem: StorageUnavailable | None = None
    _seen: int = 0

    def new_failure(self, db: Database) -> StorageUnavailable | None:
        """The latest refusal since the last call, if any."""
        if db.write_failures == self._seen:
            return None
        self._seen = db.write_failures
        return db.last_write_failure

    def went_down(self, problem: StorageUnavailable, now: datetime) -> None:
        self.down_since, self.problem = now, problem

    def came_back(self) -> None:
        self.down_since = self.problem = None


def down_text(problem: StorageUnavailable) -> str:
    return (
        f"Praxis can't save to its database right now: {problem.reason}. It keeps running, "
        "but reflections and feedback posted in the round threads are not being recorded "
        "(they get no ✅), and commands that change anything will say so. Please ask whoever "
        "runs the bot to free space or fix the file's permissions. Nothing in the threads is "
        "lost: Praxis reads them back as soon as it can save again."
    )


def up_text(since: datetime | None) -> str:
    when = f" since {since:%Y-%m-%d %H:%M} UTC" if since else ""
    return (
        f"Praxis can save again. Messages posted in the round threads{when} have been read "
        "back and acknowledged, and everything else carries on as normal."
    )


async def tell_facilitators(
    db: Database, chat: Chat, title: str, text: str, mine: Container[int] = EVERYTHING
) -> int:
    """Tell the facilitators of every cohort in ``mine`` (this process's: with several
    processes, each tells its own, so nobody hears it twice); returns how many cohorts
    were reached.

    Reading still works when writing doesn't, but if even that fails the log is all
    there is, so nothing here raises.
    """
    try:
        cohorts = await list_active_cohorts(db)
    except Exception as error:  # the database can't even be read: the log says it all
        log.warning("Could not list cohorts to tell facilitators: %s", type(error).__name__)
        return 0
    reached = 0
    for cohort in cohorts:
        if cohort.id not in mine:
            continue
        try:
            await chat.tell_facilitators(cohort, title, text)
            reached += 1
        except DeliveryError as error:
            log.info("Could not tell cohort %s's facilitators: %s", cohort.id, error.reason)
    return reached
