"""Slack's text ids, as the integers the core and every table use.

Slack names things with strings (team ``T…``, channel ``C…``, user ``U…``, user group
``S…``) and a message by its channel and ``ts`` (``"1712345678.000100"``, which must
round-trip exactly: as a float it would not). The first time Praxis meets one it is
given a small integer in ``platform_ids``; after that the integer is read from memory.
A Slack thread is its parent message, so a round's thread id is its prompt's message
id, as on Discord (where a thread started from a message shares its id).
"""

from __future__ import annotations

from bot.storage import platform_ids as store
from bot.storage.db import Database

PLATFORM = "slack"
_CACHE_LIMIT = 100_000  # entries per direction; cleared whole when full (ids never change)


def message_key(channel: str, ts: str) -> str:
    return f"{channel}:{ts}"


def split_message_key(key: str) -> tuple[str, str]:
    channel, _, ts = key.partition(":")
    return channel, ts


class SlackIds:
    def __init__(self, db: Database) -> None:
        self._db = db
        self._numbers: dict[tuple[str, str], int] = {}
        self._texts: dict[int, tuple[str, str]] = {}

    def _remember(self, kind: str, external: str, number: int) -> int:
        if len(self._numbers) >= _CACHE_LIMIT:
            self._numbers.clear()
            self._texts.clear()
        self._numbers[(kind, external)] = number
        self._texts[number] = (kind, external)
        return number

    async def number(self, kind: str, external: str) -> int:
        """The integer for a Slack id, created the first time."""
        cached = self._numbers.get((kind, external))
        if cached is not None:
            return cached
        async with self._db.transaction() as tx:
            number = await store.number_for(tx, PLATFORM, kind, external)
        return self._remember(kind, external, number)

    async def numbers(self, kind: str, externals: list[str]) -> dict[str, int]:
        """Integers for many ids of one kind, creating the missing ones in one transaction."""
        found = {e: self._numbers[(kind, e)] for e in externals if (kind, e) in self._numbers}
        missing = sorted(set(externals) - set(found))
        if missing:
            async with self._db.transaction() as tx:
                for external in missing:
                    found[external] = await store.number_for(tx, PLATFORM, kind, external)
            for external in missing:
                self._remember(kind, external, found[external])
        return found

    async def known(self, kind: str, external: str) -> int | None:
        """The integer for a Slack id Praxis has met before; None (and nothing stored) if not."""
        cached = self._numbers.get((kind, external))
        if cached is not None:
            return cached
        found = await store.find_numbers(self._db, PLATFORM, kind, [external])
        number = found.get(external)
        return None if number is None else self._remember(kind, external, number)

    async def text(self, number: int) -> str:
        """The Slack id an integer stands for (KeyError if it stands for none)."""
        cached = self._texts.get(number)
        if cached is None:
            found = await store.externals_for(self._db, [number])
            if number not in found:
                raise KeyError(number)
            kind, external = found[number]
            self._remember(kind, external, number)
            cached = found[number]
        return cached[1]

    def forget(self, numbers) -> None:
        """Drop numbers whose rows ``/praxis me forget`` deleted: a cached one would still
        lead a Slack id to them, and a new message would be stored under a number that
        stands for nothing. Met again, the Slack id gets a fresh number."""
        for number in numbers:
            entry = self._texts.pop(number, None)
            if entry is not None:
                self._numbers.pop(entry, None)

    async def message(self, channel: str, ts: str) -> int:
        return await self.number("message", message_key(channel, ts))

    async def known_message(self, channel: str, ts: str) -> int | None:
        return await self.known("message", message_key(channel, ts))

    async def message_ref(self, number: int) -> tuple[str, str]:
        """``(channel, ts)`` of a message number."""
        return split_message_key(await self.text(number))
