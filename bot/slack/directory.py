"""Who someone is in a Slack workspace, from ``users.info``, remembered for a while.

Names, admin and owner flags, bots and deactivated accounts change rarely, and Slack
says when they do (the ``user_change`` event carries the whole user): so a person is
asked for once and then kept up to date by events, which keeps rosters and permission
checks to one call per newcomer. An entry still ages out after a week, in case an event
was missed. The clock is passed in so tests move it like everything else.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass

from slack_sdk.web.async_client import AsyncWebClient

FRESH_SECONDS = 7 * 24 * 3600  # a safety net: user_change events keep entries current


@dataclass(frozen=True, slots=True)
class SlackPerson:
    id: str
    name: str
    is_admin: bool
    is_owner: bool
    is_bot: bool
    deleted: bool
    avatar: str | None = None  # their profile picture, for a form posted under their name

    @property
    def manages_workspace(self) -> bool:
        """Slack's admins and owners play Discord's Manage Server."""
        return self.is_admin or self.is_owner


class Directory:
    def __init__(self, client: AsyncWebClient, clock: Callable[[], float] = time.monotonic):
        self._client = client
        self._clock = clock
        self._people: dict[str, tuple[float, SlackPerson]] = {}
        self._groups: dict[str, tuple[float, set[str]]] = {}

    async def person(self, user_id: str) -> SlackPerson:
        entry = self._people.get(user_id)
        if entry is not None and self._clock() - entry[0] < FRESH_SECONDS:
            return entry[1]
        response = await self._client.users_info(user=user_id)
        return self.learn(response["user"])

    def learn(self, user: dict) -> SlackPerson:
        """Remember a user object, from ``users.info`` or a ``user_change`` event."""
        profile = user.get("profile") or {}
        person = SlackPerson(
            id=user["id"],
            name=profile.get("display_name") or user.get("real_name") or user.get("name") or "",
            is_admin=bool(user.get("is_admin")),
            is_owner=bool(user.get("is_owner")),
            is_bot=bool(user.get("is_bot")) or user["id"] == "USLACKBOT",
            deleted=bool(user.get("deleted")),
            avatar=profile.get("image_192") or profile.get("image_72"),
        )
        self._people[person.id] = (self._clock(), person)
        return person

    def forget(self, user_id: str) -> None:
        """Slack said this account is gone: ask again before trusting what was cached."""
        self._people.pop(user_id, None)

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
        """A user group's members: asked for once, then kept current by Slack's
        ``subteam_members_changed`` events (see :meth:`group_changed`), like people."""
        entry = self._groups.get(usergroup)
        if entry is not None and self._clock() - entry[0] < FRESH_SECONDS:
            return set(entry[1])
        response = await self._client.usergroups_users_list(usergroup=usergroup)
        members = set(response["users"])
        self._groups[usergroup] = (self._clock(), members)
        return set(members)

    def group_changed(self, usergroup: str, added: list[str], removed: list[str]) -> None:
        entry = self._groups.get(usergroup)
        if entry is not None:
            self._groups[usergroup] = (entry[0], (entry[1] | set(added)) - set(removed))
