"""The state a simulated Slack keeps: workspaces, people, conversations, messages, views.

Plain dataclasses, no I/O. Ids look like Slack's (``T…``, ``U…``, ``C…``, ``D…``, ``V…``,
``F…``, ``S…``) and message timestamps are Slack's ``"seconds.micros"`` strings, strictly
increasing per simulator, so they sort and compare as text exactly as Slack's do.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass, field
from typing import Any

_counter = itertools.count(1)


def new_id(prefix: str) -> str:
    """A fresh Slack-shaped id: a prefix letter and ten upper-case base-36 characters."""
    number = next(_counter)
    digits = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ"
    text = ""
    while number:
        number, rest = divmod(number, 36)
        text = digits[rest] + text
    return prefix + text.rjust(10, "0")


@dataclass
class User:
    id: str
    team_id: str
    name: str
    real_name: str
    is_admin: bool = False
    is_owner: bool = False
    is_bot: bool = False
    deleted: bool = False  # a deactivated account
    tz: str = "Europe/London"
    accepts_dms: bool = True  # False: the simulator refuses to open or post in a DM with them

    def avatar(self, size: int = 192) -> str:
        """Their profile picture's address (``profile.image_<size>``)."""
        return f"https://avatars.slack-edge.com/sim/{self.id}_{size}.png"

    def payload(self) -> dict[str, Any]:
        """``users.info``'s ``user`` object (the fields Slack documents as always present)."""
        return {
            "id": self.id,
            "team_id": self.team_id,
            "name": self.name,
            "real_name": self.real_name,
            "deleted": self.deleted,
            "is_admin": self.is_admin,
            "is_owner": self.is_owner,
            "is_bot": self.is_bot,
            "is_app_user": False,
            "tz": self.tz,
            "profile": {
                "real_name": self.real_name,
                "display_name": self.name,
                "display_name_normalized": self.name,
                "real_name_normalized": self.real_name,
                **{f"image_{size}": self.avatar(size) for size in (24, 32, 48, 72, 192, 512)},
            },
        }


@dataclass
class Message:
    channel: str
    ts: str
    text: str
    user: str | None = None  # the author's user id (a bot's messages carry bot_id too)
    bot_id: str | None = None
    thread_ts: str | None = None
    blocks: list[dict[str, Any]] | None = None
    metadata: dict[str, Any] | None = None
    edited_ts: str | None = None
    reactions: dict[str, list[str]] = field(default_factory=dict)  # name -> user ids
    reply_count: int = 0
    files: list[dict[str, Any]] = field(default_factory=list)
    team: str | None = None
    username: str | None = None  # an app's message shown under another name (chat:write.customize)
    icon_url: str | None = None  # ...and with another picture

    @property
    def is_reply(self) -> bool:
        return self.thread_ts is not None and self.thread_ts != self.ts

    def payload(self, *, with_metadata: bool = True) -> dict[str, Any]:
        """The message as ``conversations.history`` and events show it."""
        body: dict[str, Any] = {"type": "message", "ts": self.ts, "text": self.text}
        if self.user:
            body["user"] = self.user
        if self.team:
            body["team"] = self.team
        if self.bot_id:
            body["bot_id"] = self.bot_id
        if self.blocks is not None:
            body["blocks"] = self.blocks
        if self.thread_ts:
            body["thread_ts"] = self.thread_ts
        if not self.is_reply and self.reply_count:
            body["reply_count"] = self.reply_count
        if self.edited_ts:
            body["edited"] = {"user": self.user, "ts": self.edited_ts}
        if self.reactions:
            body["reactions"] = [
                {"name": name, "users": list(users), "count": len(users)}
                for name, users in self.reactions.items()
            ]
        if self.files:
            body["files"] = self.files
        if self.username:
            body["username"] = self.username
        if self.icon_url:
            body["icons"] = {"image_48": self.icon_url}
        if with_metadata and self.metadata:
            body["metadata"] = self.metadata
        return body


@dataclass
class Conversation:
    id: str
    team_id: str
    name: str
    members: list[str] = field(default_factory=list)
    is_private: bool = False
    is_im: bool = False
    is_archived: bool = False
    messages: list[Message] = field(default_factory=list)  # in ts order

    @property
    def channel_type(self) -> str:
        if self.is_im:
            return "im"
        return "group" if self.is_private else "channel"

    def payload(self) -> dict[str, Any]:
        body: dict[str, Any] = {
            "id": self.id,
            "name": self.name,
            "is_channel": not self.is_im and not self.is_private,
            "is_group": self.is_private and not self.is_im,
            "is_im": self.is_im,
            "is_private": self.is_private or self.is_im,
            "is_archived": self.is_archived,
            "context_team_id": self.team_id,
            "num_members": len(self.members),
        }
        if self.is_im:
            body["user"] = self.members[0] if self.members else None
        return body

    def find(self, ts: str) -> Message | None:
        for message in self.messages:
            if message.ts == ts:
                return message
        return None


@dataclass
class Usergroup:
    id: str
    team_id: str
    handle: str
    name: str
    users: list[str] = field(default_factory=list)

    def payload(self, *, include_users: bool = False) -> dict[str, Any]:
        body: dict[str, Any] = {
            "id": self.id,
            "team_id": self.team_id,
            "handle": self.handle,
            "name": self.name,
            "user_count": len(self.users),
        }
        if include_users:
            body["users"] = list(self.users)
        return body


@dataclass
class View:
    id: str
    team_id: str
    user_id: str  # whose view it is (modal opener, or home tab owner)
    body: dict[str, Any]
    hash: str
    root_view_id: str
    previous_view_id: str | None = None
    open: bool = True
    #: What the person typed, by (block_id, action_id): Slack's client keeps it while the
    #: view stays in the stack (a refused submission, a pushed view closed again).
    typed: dict[tuple[str, str], Any] = field(default_factory=dict)

    @property
    def type(self) -> str:
        return self.body.get("type", "modal")

    def payload(self, state: dict[str, Any] | None = None) -> dict[str, Any]:
        return {
            "id": self.id,
            "team_id": self.team_id,
            "type": self.type,
            "blocks": self.body.get("blocks", []),
            "private_metadata": self.body.get("private_metadata", ""),
            "callback_id": self.body.get("callback_id", ""),
            "state": {"values": state or {}},
            "hash": self.hash,
            "title": self.body.get("title"),
            "clear_on_close": bool(self.body.get("clear_on_close", False)),
            "notify_on_close": bool(self.body.get("notify_on_close", False)),
            "close": self.body.get("close"),
            "submit": self.body.get("submit"),
            "previous_view_id": self.previous_view_id,
            "root_view_id": self.root_view_id,
            "app_id": "A0PRAXIS00",
            "external_id": self.body.get("external_id", ""),
            "app_installed_team_id": self.team_id,
            "bot_id": "B0PRAXIS00",
        }


@dataclass
class Ephemeral:
    """A message only one person sees (``chat.postEphemeral``, ``respond()``, ``ack(text)``)."""

    channel: str | None
    user: str
    text: str
    blocks: list[dict[str, Any]] | None = None
    thread_ts: str | None = None


@dataclass
class UploadedFile:
    id: str
    filename: str
    title: str | None
    content: bytes = b""
    shared_to: list[str] = field(default_factory=list)  # channel ids
    thread_ts: str | None = None
    initial_comment: str | None = None
