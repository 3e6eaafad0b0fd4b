"""Notices for Slack facilitators: shown under their next ``/praxis`` answer.

On Discord a facilitator sees undelivered notices after a command completes
(``cogs/rounds.py``); this is the Slack equivalent. A notice is shown once, to whichever
facilitator of its cohort (or workspace admin) runs a command first, and marked shown
only after the answer went out. The common case costs one database read and no Slack
call: only when something is waiting is the caller checked against each cohort.
"""

from __future__ import annotations

import contextlib
import logging
from dataclasses import dataclass, field

from bot.core import cohorts, health, notices
from bot.core.errors import StorageBusy, StorageUnavailable
from bot.core.notices import Notice
from bot.slack import access
from bot.slack.blocks import from_core

log = logging.getLogger(__name__)

TITLE = "Needs your attention"
NOTICE_CHARS = 3000  # one section's worth; /praxis show lists the latest again


@dataclass
class Attached:
    """An answer with any notices for its reader appended, and what to mark shown."""

    text: str
    shown: list[Notice] = field(default_factory=list)


async def attach(runtime, user: str, team: str, text: str) -> Attached:
    """``text``, followed by what the cohorts ``user`` facilitates need them to know."""
    try:
        texts, pending = await _waiting_for(runtime, user, team)
    except Exception as error:  # notices are extra: the answer goes out regardless
        log.warning("Could not look up notices for a /praxis answer (%s)", type(error).__name__)
        return Attached(text)
    if not texts:
        return Attached(text)
    told = from_core("\n\n".join(texts))[:NOTICE_CHARS]
    return Attached(f"{text}\n\n*{TITLE}*\n{told}", pending)


async def mark_shown(runtime, attached: Attached) -> None:
    """After the answer went out; if the database refuses, they are shown again next time."""
    if attached.shown:
        with contextlib.suppress(StorageBusy, StorageUnavailable):
            await notices.mark_delivered(runtime.db, attached.shown, runtime.now())


async def _waiting_for(runtime, user: str, team: str) -> tuple[list[str], list[Notice]]:
    number = await runtime.ids.known("team", team)
    if number is None:
        return [], []
    here = [c for c in await cohorts.list_cohorts(runtime.db, number) if c.platform == "slack"]
    problem = runtime.storage.problem
    if not here or (problem is None and not await notices.undelivered(runtime.db, _ids(here))):
        return [], []
    person = await runtime.people.person(user)
    theirs = [c for c in here if await access.is_facilitator(runtime, person, c)]
    pending = await notices.undelivered(runtime.db, _ids(theirs))
    texts = [notice.text for notice in pending]
    if theirs and problem is not None:
        texts.insert(0, health.down_text(problem))
    return texts, pending


def _ids(found) -> list[int]:
    return [cohort.id for cohort in found]
