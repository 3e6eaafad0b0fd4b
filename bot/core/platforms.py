"""Several chat platforms behind the one :class:`~bot.core.ports.Chat` the core talks to.

A cohort lives on one platform (``cohorts.platform``). :class:`Platforms` implements
``Chat`` by handing each call to the adapter of the cohort it concerns: calls that name
a cohort go straight there; calls that name a round (a prompt, a nudge) or a round's
thread (pairs, in-thread nudges) look its cohort's platform up once and remember it,
since a round never moves. With one platform there is nothing to look up.
"""

from __future__ import annotations

from datetime import datetime

from bot.core.ports import Chat, NudgeMessage, Person, Posted, RoundPost
from bot.storage import rounds as round_store
from bot.storage.db import Database


class Platforms:
    def __init__(self, db: Database | None = None, **chats: Chat) -> None:
        self.db = db
        self._chats: dict[str, Chat] = dict(chats)
        self._by_round: dict[int, str] = {}
        self._by_thread: dict[int, str] = {}

    def add(self, name: str, chat: Chat) -> None:
        self._chats[name] = chat

    def __getitem__(self, name: str) -> Chat:
        return self._chats[name]

    def for_cohort(self, cohort) -> Chat:
        return self._chats[getattr(cohort, "platform", "discord")]

    async def _for_round(self, round_id: int) -> Chat:
        return await self._remembered(self._by_round, round_id, round_store.platform_of_round)

    async def _for_thread(self, thread_id: int) -> Chat:
        return await self._remembered(self._by_thread, thread_id, round_store.platform_of_thread)

    async def _remembered(self, known: dict[int, str], key: int, look_up) -> Chat:
        """The adapter for a round or thread: asked of the database once, then remembered."""
        if len(self._chats) == 1:
            return next(iter(self._chats.values()))
        if key not in known:
            known[key] = await look_up(self.db, key)
        return self._chats[known[key]]

    # -- Chat --

    async def find_round_message(
        self, channel_id: int, round_id: int, since: datetime
    ) -> int | None:
        chat = await self._for_round(round_id)
        return await chat.find_round_message(channel_id, round_id, since)

    async def post_round(self, channel_id: int, post: RoundPost) -> int:
        return await (await self._for_round(post.round_id)).post_round(channel_id, post)

    async def open_round_thread(self, channel_id: int, message_id: int, post: RoundPost) -> int:
        chat = await self._for_round(post.round_id)
        return await chat.open_round_thread(channel_id, message_id, post)

    async def roster(self, cohort) -> list[Person] | None:
        return await self.for_cohort(cohort).roster(cohort)

    async def send_nudge(
        self, user_id: int, dm_channel_id: int | None, message: NudgeMessage
    ) -> int:
        chat = await self._for_round(message.round_id)
        return await chat.send_nudge(user_id, dm_channel_id, message)

    async def nudge_in_thread(self, thread_id: int, messages: list[NudgeMessage]) -> Posted:
        return await (await self._for_thread(thread_id)).nudge_in_thread(thread_id, messages)

    async def send_digest(self, cohort, summary, chart_png: bytes) -> None:
        await self.for_cohort(cohort).send_digest(cohort, summary, chart_png)

    async def tell_facilitators(self, cohort, title: str, text: str) -> None:
        await self.for_cohort(cohort).tell_facilitators(cohort, title, text)

    async def announce_pairs(
        self, thread_id: int, plan: dict[int, tuple[int, ...]], *, late: bool, continued: bool
    ) -> Posted:
        chat = await self._for_thread(thread_id)
        return await chat.announce_pairs(thread_id, plan, late=late, continued=continued)
