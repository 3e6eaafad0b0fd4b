"""Who someone is in a Slack workspace, from ``users.info``, remembered for a while.

Names, admin and owner flags, bots and deactivated accounts change rarely; asking Slack
once an hour per person keeps rosters and permission checks to one call per newcomer.
The clock is passed in so tests move it like everything else.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass

from slack_sdk.web.async_client import AsyncWebClient

FRESH_SECONDS = 3600


@dataclass(frozen=True, slots=True)
class SlackPerson:
    id: str
    name: str
    is_admin: bool
    is_owner: bool
    is_bot: bool
    deleted: bool

    @property
    def manages_workspace(self) -> bool:
        """Slack's admins and owners play Discord's Manage Server."""
        return self.is_admin or self.is_owner


class Directory:
    def __init__(self, client: AsyncWebClient, clock: Callable[[], float] = time.monotonic):
        self._client = client
        self._clock = clock
        self._people: dict[str, tuple[float, SlackPerson]] = {}

    async def person(self, user_id: str) -> SlackPerson:
        entry = self._people.get(user_id)
        if entry is not None and self._clock() - entry[0] < FRESH_SECONDS:
            return entry[1]
        response = await self._client.users_info(user=user_id)
        user = response["user"]
        profile = user.get("profile") or {}
        person = SlackPerson(
            id=user["id"],
            name=profile.get("display_name") or user.get("real_name") or user.get("name") or "",
            is_admin=bool(user.get("is_admin")),
            is_owner=bool(user.get("is_owner")),
            is_bot=bool(user.get("is_bot")) or user["id"] == "USLACKBOT",
            deleted=bool(user.get("deleted")),
        )
        self._people[user_id] = (self._clock(), person)
        return person

    async def members(self, channel: str) -> list[str]:
        """Everyone in a channel, across pages."""
        members: list[str] = []
        cursor = None
        while True:
            page = await self._client.conversations_members(
                channel=channel, limit=1000, cursor=cursor
            )
            members += page["members"]
            cursor = (page.get("response_metadata") or {}).get("next_cursor")
            if not cursor:
                return members

    async def group_members(self, usergroup: str) -> set[str]:
        response = await self._client.usergroups_users_list(usergroup=usergroup)
        return set(response["users"])
