"""Which open rounds' threads have not been read back since Praxis (re)connected.

While Praxis was away, members kept writing; until a round's thread has been read back
(backfill), the database doesn't know what they wrote. A reminder, a "too short" note,
pairs or closing the round decided on that stale picture would be wrong (a member who
reflected during the downtime would be told to reflect). So the tick leaves those rounds'
member-facing work for a later tick (see :func:`bot.core.tick.run_tick`); posting new
rounds never waits.

A platform's backfill says :meth:`Unread.loading` at once when it starts (before it knows
which rounds it will read, every open round of that platform is held), then
:meth:`Unread.waiting` with the rounds it will read, and :meth:`Unread.read` as each
thread is done. Backfill runs in the background, so commands are answered meanwhile.
"""

from __future__ import annotations

from collections.abc import Iterable

from bot.core.reflections import open_contexts
from bot.storage.db import Database


class Unread:
    """Rounds held back from member-facing tick work until their thread is read back."""

    def __init__(self) -> None:
        self._loading: set[str] = set()  # platforms whose list of threads isn't known yet
        self._rounds: dict[str, set[int]] = {}  # platform -> rounds still to read

    def loading(self, platform: str) -> None:
        """A read-back of ``platform`` starts: hold all its open rounds for now."""
        self._loading.add(platform)

    def waiting(self, platform: str, round_ids: Iterable[int]) -> None:
        """The read-back of ``platform`` will read these rounds' threads (and no others:
        a read-back that starts over, or gives up, replaces the list)."""
        self._rounds[platform] = set(round_ids)
        self._loading.discard(platform)

    def read(self, round_id: int) -> None:
        """This round's thread has been read back (or can't be read at all)."""
        for rounds in self._rounds.values():
            rounds.discard(round_id)

    @property
    def pending(self) -> bool:
        return bool(self._loading) or any(self._rounds.values())

    async def held(self, db: Database) -> frozenset[int]:
        """The round ids whose member-facing work must wait, as of now (one query at most)."""
        held = set().union(*self._rounds.values())
        if self._loading:
            loading = set(self._loading)
            held.update(
                ctx.round.id for ctx in await open_contexts(db) if ctx.cohort.platform in loading
            )
        return frozenset(held)
