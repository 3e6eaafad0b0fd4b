"""The digest: when a round's feedback window closes, its summary and chart go to the
cohort's facilitators, once. The round is claimed before sending; a passing failure
releases the claim so a later tick retries, a permanent one tells facilitators."""

from __future__ import annotations

import logging
from collections.abc import Container
from datetime import datetime

from bot.core.clock import to_db
from bot.core.cohorts import get_cohort_by_id
from bot.core.leases import EVERYTHING
from bot.core.ports import Chat, DeliveryError
from bot.core.reports import participation_chart, round_summary
from bot.core.rounds import Round
from bot.storage import reports as store
from bot.storage import rounds as round_store
from bot.storage.db import Database

log = logging.getLogger(__name__)


async def send_due(
    db: Database, chat: Chat, now: datetime, mine: Container[int] = EVERYTHING
) -> list[int]:
    """Send the digest of every closed round of ``mine`` (this process's cohorts) not yet
    sent; claimed before it goes out, so it goes out once."""
    sent = []
    for row in await store.undigested_closed(db):
        round_ = Round.from_row(row)
        if round_.cohort_id not in mine:
            continue
        cohort = await get_cohort_by_id(db, round_.cohort_id)
        if cohort is None or not await store.claim_digest(db, round_.id, to_db(now)):
            continue
        roster = await chat.roster(cohort)
        if roster is None:  # the server is unavailable right now: a later tick retries
            await store.release_digest(db, round_.id)
            continue
        summary = await round_summary(db, cohort, roster, round_.number, now=now)
        png = await participation_chart(db, cohort, roster, now=now)
        try:
            await chat.send_digest(cohort, summary, png)
        except DeliveryError as error:
            await _failed(db, cohort, round_, error, now)
            continue
        sent.append(round_.id)
    return sent


async def _failed(db: Database, cohort, round_: Round, error: DeliveryError, now: datetime) -> None:
    log.warning(
        "Digest for round %s of cohort %s failed: %s", round_.number, cohort.id, error.reason
    )
    if not error.permanent:
        await store.release_digest(db, round_.id)
        return
    async with db.transaction() as tx:
        await round_store.add_notice(
            tx,
            cohort.id,
            f"I couldn't deliver the digest for round {round_.number} of **{cohort.name}**: "
            f"{error.reason}. `/report round` shows the same summary.",
            to_db(now),
        )
