"""The simulator: a Web API server on loopback, workspaces to arrange, people who act.

See the package docstring (:mod:`slacksim`) for the public contract.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import itertools
import json
import logging
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import parse_qsl, urlencode

from aiohttp import web
from slack_sdk.signature import SignatureVerifier

from slacksim.api import METHODS, VIEW_STACK_LIMIT, ApiError
from slacksim.model import (
    Conversation,
    Ephemeral,
    Message,
    UploadedFile,
    User,
    Usergroup,
    View,
    new_id,
)

log = logging.getLogger(__name__)

APP_ID = "A0PRAXIS00"


class SimError(Exception):
    """The test asked for something a person could not do in Slack's client."""


@dataclass
class InjectedError:
    method: str
    status: int
    error: str
    retry_after: int | None
    times: int | None  # None: every call
    effect: bool = False  # the call takes effect, then its answer is lost


@dataclass
class ApiCall:
    """One Web API request the app made, as the simulator answered it."""

    method: str
    args: dict[str, Any]
    team_id: str | None
    status: int
    ok: bool
    error: str | None = None


@dataclass
class Outcome:
    """What one action of a person led to, once the app had finished handling it.

    ``body`` is the app's acknowledgement (Bolt's ``ack(...)``) parsed as JSON where it is
    JSON; ``ephemerals`` are the private messages shown to that person meanwhile (``ack``
    text, ``respond()``, ``chat.postEphemeral``); ``views`` the modals opened, pushed or
    updated for them; ``messages`` what the app posted anywhere meanwhile.
    """

    status: int
    body: Any
    ephemerals: list[Ephemeral] = field(default_factory=list)
    views: list[View] = field(default_factory=list)
    messages: list[Message] = field(default_factory=list)

    @property
    def text(self) -> str:
        """Every private text shown to the actor, joined: the easy thing to assert on."""
        parts = [e.text for e in self.ephemerals]
        parts += [_blocks_text(e.blocks) for e in self.ephemerals if e.blocks]
        return "\n".join(p for p in parts if p)

    @property
    def view(self) -> View | None:
        return self.views[-1] if self.views else None

    @property
    def errors(self) -> dict[str, str]:
        """Field errors a view submission was answered with (``response_action: errors``)."""
        if isinstance(self.body, dict) and self.body.get("response_action") == "errors":
            return dict(self.body.get("errors") or {})
        return {}


def _blocks_text(blocks: Iterable[dict[str, Any]] | None) -> str:
    """The visible text of Block Kit blocks, for assertions."""
    out: list[str] = []

    def walk(node: Any) -> None:
        if isinstance(node, dict):
            if node.get("type") in ("plain_text", "mrkdwn") and isinstance(node.get("text"), str):
                out.append(node["text"])
                return
            if node.get("type") == "text" and isinstance(node.get("text"), str):
                out.append(node["text"])
                return
            for value in node.values():
                walk(value)
        elif isinstance(node, list):
            for value in node:
                walk(value)

    walk(list(blocks or []))
    return "\n".join(out)


@dataclass
class _Answer:
    """An app's HTTP answer, shaped like Bolt's response for :meth:`SlackSim.interact`."""

    status: int
    body: str


class Workspace:
    """A Slack workspace (team) with the app installed: its bot user, token and content."""

    def __init__(self, sim: SlackSim, name: str) -> None:
        self.sim = sim
        self.id = new_id("T")
        self.name = name
        self.domain = "".join(ch for ch in name.lower() if ch.isalnum()) or "workspace"
        self.bot_id = new_id("B")
        self.bot_user = User(new_id("U"), self.id, "praxis", "Praxis", is_bot=True)
        sim.users[self.bot_user.id] = self.bot_user
        self.bot_token = f"xoxb-{self.id}-{hashlib.sha1(self.id.encode()).hexdigest()[:24]}"
        self.token_revoked = False
        self.conversations: dict[str, Conversation] = {}
        self.usergroups: dict[str, Usergroup] = {}

    # -- builders --

    def add_user(
        self,
        name: str,
        *,
        real_name: str | None = None,
        admin: bool = False,
        owner: bool = False,
        tz: str = "Europe/London",
    ) -> Person:
        user = User(new_id("U"), self.id, name, real_name or name.title(), admin, owner, tz=tz)
        self.sim.users[user.id] = user
        return Person(self, user)

    def create_channel(
        self,
        name: str,
        *,
        members: Iterable[Person] = (),
        private: bool = False,
        with_app: bool = True,
    ) -> Conversation:
        ids = [p.id for p in members]
        if with_app:
            ids.append(self.bot_user.id)
        conversation = Conversation(new_id("G" if private else "C"), self.id, name, ids, private)
        self.conversations[conversation.id] = conversation
        return conversation

    def create_usergroup(self, handle: str, *, users: Iterable[Person] = ()) -> Usergroup:
        group = Usergroup(new_id("S"), self.id, handle, handle.title(), [p.id for p in users])
        self.usergroups[group.id] = group
        return group

    async def set_usergroup_members(self, group: Usergroup, people: Iterable[Person]) -> None:
        """An admin edits a user group: ``subteam_members_changed`` tells the app."""
        before, after = set(group.users), [p.id for p in people]
        group.users = after
        event = {
            "type": "subteam_members_changed",
            "subteam_id": group.id,
            "team_id": self.id,
            "added_users": sorted(set(after) - before),
            "removed_users": sorted(before - set(after)),
            "event_ts": self.sim.next_ts(),
        }
        await self.sim.send_event(self, event)

    def im_with(self, user_id: str) -> Conversation | None:
        for conversation in self.conversations.values():
            if conversation.is_im and conversation.members == [user_id]:
                return conversation
        return None

    def open_im(self, user_id: str) -> Conversation:
        conversation = Conversation(new_id("D"), self.id, user_id, [user_id], is_im=True)
        self.conversations[conversation.id] = conversation
        return conversation

    # -- changes made by an administrator --

    async def join(self, conversation: Conversation, person: Person) -> None:
        """``person`` joins: the member list changes and ``member_joined_channel`` is sent."""
        if person.id not in conversation.members:
            conversation.members.append(person.id)
            await self.sim.send_event(
                self, _member_event("member_joined_channel", person, conversation)
            )

    async def leave(self, conversation: Conversation, person: Person) -> None:
        if person.id in conversation.members:
            conversation.members.remove(person.id)
            await self.sim.send_event(
                self, _member_event("member_left_channel", person, conversation)
            )

    def archive(self, conversation: Conversation) -> None:
        conversation.is_archived = True

    def remove_app(self, conversation: Conversation) -> None:
        """The app is taken out of the channel: its calls there get ``not_in_channel``."""
        if self.bot_user.id in conversation.members:
            conversation.members.remove(self.bot_user.id)

    def add_app(self, conversation: Conversation) -> None:
        """The app is invited (back) to the channel (``/invite @App``)."""
        if self.bot_user.id not in conversation.members:
            conversation.members.append(self.bot_user.id)

    def revoke_token(self) -> None:
        self.token_revoked = True

    def messages(
        self, conversation: Conversation, *, thread_ts: str | None = None
    ) -> list[Message]:
        """Messages in a conversation (top level), or in one thread (parent first)."""
        if thread_ts is None:
            return [m for m in conversation.messages if not m.is_reply]
        return [m for m in conversation.messages if m.ts == thread_ts or m.thread_ts == thread_ts]


def _member_event(kind: str, person: Person, conversation: Conversation) -> dict[str, Any]:
    return {
        "type": kind,
        "user": person.id,
        "channel": conversation.id,
        "channel_type": "C" if not conversation.is_private else "G",
        "team": conversation.team_id,
    }


class Person:
    """Someone in a workspace who acts through Slack's client: posts, clicks, submits.

    Every action is delivered to the app as Slack delivers it and returns once the app has
    finished handling it (including work it started after acknowledging).
    """

    def __init__(self, workspace: Workspace, user: User) -> None:
        self.workspace = workspace
        self.user = user

    @property
    def id(self) -> str:
        return self.user.id

    @property
    def sim(self) -> SlackSim:
        return self.workspace.sim

    def __repr__(self) -> str:
        return f"<Person {self.user.name} {self.id}>"

    # -- settings a test arranges --

    def deactivate(self) -> None:
        self.user.deleted = True

    def refuse_dms(self) -> None:
        """Direct messages from the app can't be delivered (``restricted_action``)."""
        self.user.accepts_dms = False

    # -- messages --

    async def post(
        self, conversation: Conversation, text: str, *, thread_ts: str | None = None
    ) -> Message:
        if conversation.is_archived:
            raise SimError("the channel is archived")
        if not conversation.is_im and self.id not in conversation.members:
            raise SimError(f"{self.user.name} is not in #{conversation.name}")
        if thread_ts is not None and conversation.find(thread_ts) is None:
            raise SimError("no such thread")
        message = self.sim.add_message(
            conversation, text=text, user=self.id, thread_ts=thread_ts, team=self.workspace.id
        )
        event = {**message.payload(), "channel": conversation.id, "event_ts": message.ts}
        event["channel_type"] = conversation.channel_type
        await self.sim.send_message_event(self.workspace, conversation, event)
        return message

    async def reply(self, parent: Message, text: str) -> Message:
        """Reply in the thread of ``parent`` (a thread is its parent message's ``ts``)."""
        conversation = self.sim.conversation_of(parent)
        return await self.post(conversation, text, thread_ts=parent.thread_ts or parent.ts)

    async def dm(self, text: str) -> Message:
        """Write to the app in the Messages tab of its App Home."""
        ws = self.workspace
        conversation = ws.im_with(self.id) or ws.open_im(self.id)
        return await self.post(conversation, text)

    async def edit(self, message: Message, text: str) -> None:
        self._own(message)
        conversation = self.sim.conversation_of(message)
        previous = message.payload()
        message.text = text
        message.edited_ts = self.sim.next_ts()
        event = {
            "type": "message",
            "subtype": "message_changed",
            "channel": conversation.id,
            "hidden": True,
            "message": message.payload(),
            "previous_message": previous,
            "ts": message.edited_ts,
            "event_ts": message.edited_ts,
            "channel_type": conversation.channel_type,
        }
        await self.sim.send_message_event(self.workspace, conversation, event)

    async def delete(self, message: Message) -> None:
        self._own(message)
        conversation = self.sim.conversation_of(message)
        previous = message.payload()
        self.sim.remove_message(conversation, message)
        stamp = self.sim.next_ts()
        event = {
            "type": "message",
            "subtype": "message_deleted",
            "channel": conversation.id,
            "hidden": True,
            "deleted_ts": message.ts,
            "previous_message": previous,
            "ts": stamp,
            "event_ts": stamp,
            "channel_type": conversation.channel_type,
        }
        await self.sim.send_message_event(self.workspace, conversation, event)

    async def react(self, message: Message, name: str) -> None:
        users = message.reactions.setdefault(name, [])
        if self.id not in users:
            users.append(self.id)
        await self._reaction_event("reaction_added", message, name)

    async def unreact(self, message: Message, name: str) -> None:
        users = message.reactions.get(name, [])
        if self.id in users:
            users.remove(self.id)
            if not users:
                del message.reactions[name]
        await self._reaction_event("reaction_removed", message, name)

    async def _reaction_event(self, kind: str, message: Message, name: str) -> None:
        conversation = self.sim.conversation_of(message)
        if self.workspace.bot_user.id not in conversation.members and not conversation.is_im:
            return
        stamp = self.sim.next_ts()
        event = {
            "type": kind,
            "user": self.id,
            "reaction": name,
            "item": {"type": "message", "channel": conversation.id, "ts": message.ts},
            "item_user": message.user,
            "event_ts": stamp,
        }
        await self.sim.send_event(self.workspace, event)

    def _own(self, message: Message) -> None:
        if message.user != self.id:
            raise SimError(f"{self.user.name} can only change their own messages")

    # -- interactions --

    def _user_object(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "username": self.user.name,
            "name": self.user.name,
            "team_id": self.workspace.id,
        }

    def _team_object(self) -> dict[str, Any]:
        return {"id": self.workspace.id, "domain": self.workspace.domain}

    async def command(
        self, command: str, text: str = "", *, channel: Conversation | None = None
    ) -> Outcome:
        """Run a slash command (``/praxis help``) from ``channel`` (default: their DM)."""
        ws = self.workspace
        where = channel or ws.im_with(self.id) or ws.open_im(self.id)
        form = {
            "token": "verification-token",
            "team_id": ws.id,
            "team_domain": ws.domain,
            "channel_id": where.id,
            "channel_name": "directmessage" if where.is_im else where.name,
            "user_id": self.id,
            "user_name": self.user.name,
            "command": command,
            "text": text,
            "api_app_id": APP_ID,
            "is_enterprise_install": "false",
            "response_url": self.sim.response_url(self, where),
            "trigger_id": self.sim.new_trigger(self.id),
        }
        return await self.sim.interact(self, urlencode(form), form=True, channel=where.id)

    async def click(
        self,
        where: Message | View | Ephemeral,
        action_id: str,
        *,
        value: str | None = None,
    ) -> Outcome:
        """Click a button (or pick an option) in a message, a view, or an ephemeral message
        shown to this person, by its ``action_id``."""
        if isinstance(where, Ephemeral) and where.user != self.id:
            raise SimError("only the person it was shown to sees an ephemeral message")
        block_id, element = _find_element(_blocks_of(where), action_id)
        action: dict[str, Any] = {
            "action_id": action_id,
            "block_id": block_id,
            "type": element.get("type", "button"),
            "action_ts": self.sim.next_ts(),
        }
        if element.get("type") == "button":
            action["text"] = element.get("text")
            if "value" in element:
                action["value"] = element["value"]
        elif value is not None:
            action["selected_option"] = {
                "text": {"type": "plain_text", "text": value},
                "value": value,
            }
        payload: dict[str, Any] = {
            "type": "block_actions",
            "user": self._user_object(),
            "api_app_id": APP_ID,
            "token": "verification-token",
            "trigger_id": self.sim.new_trigger(self.id),
            "team": self._team_object(),
            "enterprise": None,
            "is_enterprise_install": False,
            "actions": [action],
            "state": {"values": {}},
        }
        channel = None
        if isinstance(where, Ephemeral):
            # Slack sends no ``message`` for an ephemeral one, only where it was shown.
            conversation = self.workspace.conversations[str(where.channel)]
            channel = conversation.id
            payload["container"] = {
                "type": "message",
                "message_ts": self.sim.next_ts(),
                "channel_id": conversation.id,
                "is_ephemeral": True,
            }
            payload["channel"] = {"id": conversation.id, "name": conversation.name}
            payload["response_url"] = self.sim.response_url(self, conversation)
        elif isinstance(where, Message):
            conversation = self.sim.conversation_of(where)
            channel = conversation.id
            payload["container"] = {
                "type": "message",
                "message_ts": where.ts,
                "channel_id": conversation.id,
                "is_ephemeral": False,
                **({"thread_ts": where.thread_ts} if where.thread_ts else {}),
            }
            payload["channel"] = {"id": conversation.id, "name": conversation.name}
            payload["message"] = where.payload()
            payload["response_url"] = self.sim.response_url(self, conversation)
        else:
            payload["container"] = {"type": "view", "view_id": where.id}
            payload["view"] = where.payload()
        return await self.sim.interact(self, _payload_form(payload), form=True, channel=channel)

    async def shortcut(self, message: Message, callback_id: str) -> Outcome:
        """Run a message shortcut (the ⋮ menu on a message) on ``message``."""
        conversation = self.sim.conversation_of(message)
        payload = {
            "type": "message_action",
            "token": "verification-token",
            "action_ts": self.sim.next_ts(),
            "team": self._team_object(),
            "user": self._user_object(),
            "channel": {"id": conversation.id, "name": conversation.name},
            "is_enterprise_install": False,
            "enterprise": None,
            "callback_id": callback_id,
            "trigger_id": self.sim.new_trigger(self.id),
            "message_ts": message.ts,
            "message": message.payload(),
            "response_url": self.sim.response_url(self, conversation),
        }
        return await self.sim.interact(
            self, _payload_form(payload), form=True, channel=conversation.id
        )

    async def submit(self, view: View, values: dict[str, Any] | None = None) -> Outcome:
        """Fill a modal's inputs (by ``action_id`` or ``block_id``) and press its submit button.

        The client's own rules apply first: a required input left empty, or text beyond an
        input's ``max_length``, raises :class:`SimError`, as Slack's client would not send it.
        """
        if not view.open:
            raise SimError("that view is closed")
        self.sim.require_on_top(view)
        state = _view_state(view, values or {})
        typed = {
            (block_id, action_id): _typed(entry)
            for block_id, entries in state.items()
            for action_id, entry in entries.items()
        }
        payload = {
            "type": "view_submission",
            "team": self._team_object(),
            "user": self._user_object(),
            "api_app_id": APP_ID,
            "token": "verification-token",
            "trigger_id": self.sim.new_trigger(self.id),
            "view": view.payload(state),
            "response_urls": [],
            "is_enterprise_install": False,
            "enterprise": None,
        }
        outcome = await self.sim.interact(self, _payload_form(payload), form=True, channel=None)
        self.sim.after_submission(view, outcome)
        view.typed = typed if view.open else {}  # the client keeps it while the view is shown
        return outcome

    async def search(self, view: View, action_id: str, typed: str) -> list[str]:
        """Type into an ``external_select``: ``block_suggestion``; returns the option values."""
        block_id, _ = _find_element(view.body.get("blocks", []), action_id)
        payload = {
            "type": "block_suggestion",
            "user": self._user_object(),
            "container": {"type": "view", "view_id": view.id},
            "api_app_id": APP_ID,
            "token": "verification-token",
            "action_id": action_id,
            "block_id": block_id,
            "value": typed,
            "team": self._team_object(),
            "view": view.payload(),
        }
        outcome = await self.sim.interact(self, _payload_form(payload), form=True, channel=None)
        body = outcome.body if isinstance(outcome.body, dict) else {}
        return [option["value"] for option in body.get("options", [])]

    async def close(self, view: View) -> Outcome | None:
        """Close the view on top of a modal with its Close button (``view_closed`` only if it
        asked to be told). A pushed view goes back to the one beneath it, as the person left
        it (what they typed there is kept); ``clear_on_close`` closes the whole modal."""
        if not view.open:
            raise SimError("that view is closed")
        self.sim.require_on_top(view)
        cleared = bool(view.body.get("clear_on_close"))
        for other in self.sim.views.values():
            if other is view or (cleared and other.root_view_id == view.root_view_id):
                other.open = False
        if not view.body.get("notify_on_close"):
            return None
        payload = {
            "type": "view_closed",
            "team": self._team_object(),
            "user": self._user_object(),
            "api_app_id": APP_ID,
            "token": "verification-token",
            "view": view.payload(),
            "is_cleared": cleared,
            "is_enterprise_install": False,
            "enterprise": None,
        }
        return await self.sim.interact(self, _payload_form(payload), form=True, channel=None)

    async def open_home(self) -> View | None:
        """Open the app's Home tab: ``app_home_opened``, then whatever the app published."""
        ws = self.workspace
        im = ws.im_with(self.id) or ws.open_im(self.id)
        event: dict[str, Any] = {
            "type": "app_home_opened",
            "user": self.id,
            "channel": im.id,
            "tab": "home",
            "event_ts": self.sim.next_ts(),
        }
        if self.id in self.sim.home_views:
            event["view"] = self.sim.home_views[self.id].payload()
        await self.sim.send_event(ws, event)
        return self.sim.home_views.get(self.id)

    # -- what they see --

    def private_messages(self) -> list[Ephemeral]:
        """Every ephemeral message shown to them so far, oldest first."""
        return [e for e in self.sim.ephemerals if e.user == self.id]

    def dms(self) -> list[Message]:
        """Messages in their direct conversation with the app, oldest first."""
        im = self.workspace.im_with(self.id)
        return list(im.messages) if im else []

    def open_views(self) -> list[View]:
        return [v for v in self.sim.views.values() if v.user_id == self.id and v.open]

    @property
    def home(self) -> View | None:
        return self.sim.home_views.get(self.id)


def _payload_form(payload: dict[str, Any]) -> str:
    return urlencode({"payload": json.dumps(payload)})


def _blocks_of(where: Message | View | Ephemeral) -> list[dict[str, Any]]:
    if isinstance(where, View):
        return list(where.body.get("blocks", []))
    return list(where.blocks or [])


def _find_element(blocks: list[dict[str, Any]], action_id: str) -> tuple[str, dict[str, Any]]:
    for index, block in enumerate(blocks):
        block_id = block.get("block_id") or f"b{index}"
        candidates = list(block.get("elements") or [])
        for key in ("accessory", "element"):
            if block.get(key):
                candidates.append(block[key])
        for element in candidates:
            if isinstance(element, dict) and element.get("action_id") == action_id:
                return block_id, element
    raise SimError(f"no element with action_id {action_id!r} there")


_SELECTED = {
    "static_select": lambda v: {
        "selected_option": {"text": {"type": "plain_text", "text": v}, "value": v}
    },
    "external_select": lambda v: {
        "selected_option": {"text": {"type": "plain_text", "text": v}, "value": v}
    },
    "radio_buttons": lambda v: {
        "selected_option": {"text": {"type": "plain_text", "text": v}, "value": v}
    },
    "checkboxes": lambda v: {
        "selected_options": [{"text": {"type": "plain_text", "text": x}, "value": x} for x in v]
    },
    "multi_static_select": lambda v: {
        "selected_options": [{"text": {"type": "plain_text", "text": x}, "value": x} for x in v]
    },
    "channels_select": lambda v: {"selected_channel": v},
    "conversations_select": lambda v: {"selected_conversation": v},
    "users_select": lambda v: {"selected_user": v},
    "multi_users_select": lambda v: {"selected_users": list(v)},
    "multi_conversations_select": lambda v: {"selected_conversations": list(v)},
    "usergroups_select": lambda v: {"selected_usergroup": v},
    "timepicker": lambda v: {"selected_time": v},
    "datepicker": lambda v: {"selected_date": v},
}


def _view_state(view: View, values: dict[str, Any]) -> dict[str, Any]:
    state: dict[str, Any] = {}
    for index, block in enumerate(view.body.get("blocks", [])):
        if block.get("type") != "input":
            continue
        element = block.get("element") or {}
        block_id = block.get("block_id") or f"b{index}"
        action_id = element.get("action_id") or f"a{index}"
        kind = element.get("type", "plain_text_input")
        value = values.get(action_id, values.get(block_id))
        if value is None:  # what they typed before, else as the app filled it in
            value = view.typed.get((block_id, action_id))
        if value is None:
            value = _initial(element)
        if value in (None, "", []) and not block.get("optional"):
            raise SimError(f"{_label(block)} is required")
        if kind in ("plain_text_input", "number_input", "email_text_input", "url_text_input"):
            text = "" if value is None else str(value)
            if len(text) > int(element.get("max_length", 3000)):
                raise SimError(
                    f"{_label(block)} takes at most {element.get('max_length', 3000)} characters"
                )
            entry = {"type": kind, "value": text or None}
        elif kind in _SELECTED:
            entry = {"type": kind, **(_SELECTED[kind](value) if value not in (None, "") else {})}
        else:
            entry = {"type": kind, "value": value}
        state.setdefault(block_id, {})[action_id] = entry
    return state


def _typed(entry: dict[str, Any]) -> Any:
    """A submitted state entry back as the value a test would pass to ``submit``."""
    if "selected_option" in entry:
        return entry["selected_option"]["value"]
    if "selected_options" in entry:
        return [option["value"] for option in entry["selected_options"]]
    for key, value in entry.items():
        if key != "type":
            return value
    return None


def _initial(element: dict[str, Any]) -> Any:
    """The value an input shows when the view opens (``initial_*``), in submission form."""
    if element.get("initial_option"):
        return element["initial_option"]["value"]
    if element.get("initial_options"):
        return [option["value"] for option in element["initial_options"]]
    keys = (
        "initial_time",
        "initial_date",
        "initial_conversation",
        "initial_channel",
        "initial_user",
        "initial_users",
        "initial_conversations",
        "initial_value",
    )
    for key in keys:
        if element.get(key) not in (None, ""):
            return element[key]
    return None


def _label(block: dict[str, Any]) -> str:
    return str((block.get("label") or {}).get("text") or block.get("block_id") or "a field")


class SlackSim:
    """A stateful, in-process fake of the Slack platform for one Bolt app.

    Use as ``async with SlackSim() as slack:``; point the app's ``AsyncWebClient`` at
    ``slack.api_url`` and call ``slack.connect(app)``.
    """

    def __init__(self, *, signing_secret: str = "slacksim-signing-secret") -> None:
        self.signing_secret = signing_secret
        self.users: dict[str, User] = {}
        self.workspaces: list[Workspace] = []
        self.views: dict[str, View] = {}
        self.home_views: dict[str, View] = {}
        self.files: dict[str, UploadedFile] = {}
        self.ephemerals: list[Ephemeral] = []
        self.posted: list[Message] = []  # every message the app posted, in order
        self.calls: list[ApiCall] = []
        self.triggers: dict[str, tuple[str, float]] = {}
        self.events_sent = 0
        self.events_dropped = 0  # events sent while no app was connected
        self._errors: list[InjectedError] = []
        self._responses: dict[str, tuple[Person, str]] = {}
        self._clock_offset = timedelta(0)
        self._frozen: datetime | None = None
        self._last_ts = 0
        self._hashes = itertools.count(1)
        self._app: Any = None
        self._url: str | None = None
        self._runner: web.AppRunner | None = None
        self.port = 0

    # -- life cycle --

    async def __aenter__(self) -> SlackSim:
        await self.start()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.close()

    async def start(self) -> None:
        server = web.Application(client_max_size=50 * 1024 * 1024)
        server.router.add_route("*", "/api/{method}", self._api)
        server.router.add_post("/upload/{file_id}", self._upload)
        server.router.add_post("/respond/{token}", self._respond)
        self._runner = web.AppRunner(server, access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        self.port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]

    async def close(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/"

    @property
    def api_url(self) -> str:
        """The base URL for ``AsyncWebClient(base_url=...)`` (Slack's is ``https://slack.com/api/``)."""
        return f"{self.base_url}api/"

    def connect(self, app: Any) -> None:
        """The Bolt ``AsyncApp`` that receives this simulator's events and interactions."""
        self._app, self._url = app, None

    def deliver_to(self, url: str) -> None:
        """Send events and interactions over HTTP to a running app's request URL (e.g.
        ``http://127.0.0.1:3000/slack/events``), as Slack does in HTTP mode. An action then
        returns when the app has answered; what it does after answering comes later."""
        self._url = url

    def disconnect(self) -> None:
        """The app is down: events are dropped (Slack gives up after its retries), and a
        person's command or click fails, as Slack's client says when an app doesn't answer."""
        self._app = None

    def create_workspace(self, name: str = "Practice School") -> Workspace:
        workspace = Workspace(self, name)
        self.workspaces.append(workspace)
        return workspace

    # -- time --

    def now(self) -> datetime:
        """The simulator's clock (the wall clock plus any ``advance_time``), in UTC."""
        if self._frozen is not None:
            return self._frozen
        return datetime.now(UTC) + self._clock_offset

    def advance_time(self, delta: timedelta) -> None:
        if self._frozen is not None:
            self._frozen += delta
        else:
            self._clock_offset += delta

    def set_time(self, moment: datetime) -> None:
        """Freeze the clock at ``moment`` (message ``ts`` values follow it)."""
        self._frozen = moment.astimezone(UTC)

    def next_ts(self) -> str:
        """A message timestamp from the clock, strictly greater than every earlier one."""
        micros = int(self.now().timestamp() * 1_000_000)
        self._last_ts = max(micros, self._last_ts + 1)
        return f"{self._last_ts // 1_000_000}.{self._last_ts % 1_000_000:06d}"

    def next_hash(self) -> str:
        return f"{int(time.time())}.{next(self._hashes):08d}"

    # -- errors --

    def inject_error(
        self,
        method: str,
        *,
        error: str = "internal_error",
        status: int | None = None,
        retry_after: int | None = None,
        times: int | None = 1,
        effect: bool = False,
    ) -> None:
        """Answer the next ``times`` calls of ``method`` (``*`` for any) with an error.

        ``error="ratelimited"`` answers 429 with ``Retry-After`` (default 1 s); an
        ``error`` such as ``channel_not_found`` or ``not_in_channel`` answers 200 with
        ``ok: false`` as Slack does; ``status=500`` answers a server error.
        ``times=None`` keeps answering so until :meth:`clear_errors`. ``effect=True``
        lets the call take effect before answering the error: Slack did the work, but the
        answer was lost (a timeout or a 5xx from a proxy), the case that tempts a retry to
        do it twice.
        """
        if status is None:
            status = 429 if error == "ratelimited" else 200
        if status == 429 and retry_after is None:
            retry_after = 1
        self._errors.append(InjectedError(method, status, error, retry_after, times, effect))

    def clear_errors(self) -> None:
        self._errors.clear()

    def _take_error(self, method: str) -> InjectedError | None:
        for injected in self._errors:
            if injected.method in (method, "*"):
                if injected.times is not None:
                    injected.times -= 1
                    if injected.times <= 0:
                        self._errors.remove(injected)
                return injected
        return None

    def calls_to(self, method: str) -> list[ApiCall]:
        return [c for c in self.calls if c.method == method]

    # -- the Web API server --

    async def _api(self, request: web.Request) -> web.Response:
        name = request.match_info["method"]
        args = await _arguments(request)
        token = args.pop("token", None)
        auth = request.headers.get("Authorization", "")
        if auth.startswith("Bearer "):
            token = auth[len("Bearer ") :]
        workspace = next((w for w in self.workspaces if w.bot_token == token), None)
        injected = self._take_error(name)
        if injected is not None and injected.effect and workspace is not None:
            with contextlib.suppress(ApiError):
                METHODS[name](self, workspace, dict(args))
        if injected is not None:
            return self._record(
                name, args, workspace, injected.status, injected.error, injected.retry_after
            )
        if workspace is None:
            return self._record(name, args, None, 200, "invalid_auth" if token else "not_authed")
        if workspace.token_revoked:
            return self._record(name, args, workspace, 200, "token_revoked")
        handler = METHODS.get(name)
        if handler is None:
            return self._record(name, args, workspace, 200, "unknown_method")
        try:
            body = handler(self, workspace, args)
        except ApiError as exc:
            return self._record(name, args, workspace, 200, exc.code)
        self.calls.append(ApiCall(name, args, workspace.id, 200, True))
        return web.json_response({"ok": True, **body})

    def _record(
        self,
        name: str,
        args: dict[str, Any],
        workspace: Workspace | None,
        status: int,
        error: str,
        retry_after: int | None = None,
    ) -> web.Response:
        self.calls.append(
            ApiCall(name, args, workspace.id if workspace else None, status, False, error)
        )
        headers = {"Retry-After": str(retry_after)} if retry_after is not None else None
        return web.json_response({"ok": False, "error": error}, status=status, headers=headers)

    async def _upload(self, request: web.Request) -> web.Response:
        file = self.files.get(request.match_info["file_id"])
        if file is None:
            return web.Response(status=404, text="not found")
        if request.content_type.startswith("multipart/"):
            reader = await request.multipart()
            part = await reader.next()
            file.content = await part.read() if part is not None else b""  # type: ignore[union-attr]
        else:
            file.content = await request.read()
        return web.Response(text=f"OK - {len(file.content)}")

    async def _respond(self, request: web.Request) -> web.Response:
        """``response_url``: what ``respond()`` sends after a command or a click."""
        entry = self._responses.get(request.match_info["token"])
        if entry is None:
            return web.Response(status=404, text="expired_url")
        person, channel = entry
        body = await request.json()
        if body.get("delete_original"):
            return web.Response(text="ok")
        if body.get("response_type") == "in_channel":
            conversation = person.workspace.conversations[channel]
            ws = person.workspace
            self.add_message(
                conversation,
                text=body.get("text", ""),
                user=ws.bot_user.id,
                bot_id=ws.bot_id,
                blocks=body.get("blocks"),
            )
        else:
            self.ephemerals.append(
                Ephemeral(channel, person.id, body.get("text", ""), body.get("blocks"))
            )
        return web.Response(text="ok")

    def response_url(self, person: Person, conversation: Conversation) -> str:
        token = new_id("R")
        self._responses[token] = (person, conversation.id)
        return f"{self.base_url}respond/{token}"

    def new_trigger(self, user_id: str) -> str:
        trigger = (
            f"{int(time.time())}.{new_id('X')}.{hashlib.md5(user_id.encode()).hexdigest()[:8]}"
        )
        self.triggers[trigger] = (user_id, time.monotonic())
        return trigger

    # -- state changes shared by the API and the people --

    def add_message(
        self,
        conversation: Conversation,
        *,
        text: str,
        user: str | None,
        bot_id: str | None = None,
        blocks: list[dict[str, Any]] | None = None,
        thread_ts: str | None = None,
        metadata: dict[str, Any] | None = None,
        files: list[dict[str, Any]] | None = None,
        team: str | None = None,
    ) -> Message:
        message = Message(
            conversation.id,
            self.next_ts(),
            text,
            user=user,
            bot_id=bot_id,
            thread_ts=thread_ts,
            blocks=blocks,
            metadata=metadata,
            files=files or [],
            team=team or conversation.team_id,
        )
        conversation.messages.append(message)
        if thread_ts:
            parent = conversation.find(thread_ts)
            if parent is not None:
                parent.thread_ts = parent.ts
                parent.reply_count += 1
        if bot_id:
            self.posted.append(message)
        return message

    def remove_message(self, conversation: Conversation, message: Message) -> None:
        conversation.messages.remove(message)
        if message.is_reply:
            parent = conversation.find(message.thread_ts or "")
            if parent is not None:
                parent.reply_count = max(0, parent.reply_count - 1)

    def conversation_of(self, message: Message) -> Conversation:
        for workspace in self.workspaces:
            if message.channel in workspace.conversations:
                return workspace.conversations[message.channel]
        raise SimError("that message's conversation no longer exists")

    def after_submission(self, view: View, outcome: Outcome) -> None:
        """Apply a view submission's ``response_action`` as Slack's client does."""
        action = outcome.body.get("response_action") if isinstance(outcome.body, dict) else None
        if action == "errors":
            return
        if action == "update":
            view.body = outcome.body["view"]
            view.hash = self.next_hash()
            outcome.views.append(view)
            return
        if action == "push":
            if len(self.stack(view)) >= VIEW_STACK_LIMIT:
                raise SimError(f"a modal holds at most {VIEW_STACK_LIMIT} views")
            pushed = View(
                new_id("V"),
                view.team_id,
                view.user_id,
                outcome.body["view"],
                self.next_hash(),
                view.root_view_id,
                view.id,
            )
            self.views[pushed.id] = pushed
            outcome.views.append(pushed)
            return
        if action == "clear":
            for other in self.views.values():
                if other.root_view_id == view.root_view_id:
                    other.open = False
            return
        view.open = False

    def stack(self, view: View) -> list[View]:
        """The open views of ``view``'s modal, the one opened first, the one shown last."""
        return [v for v in self.views.values() if v.open and v.root_view_id == view.root_view_id]

    def require_on_top(self, view: View) -> None:
        """Only the view a modal shows can be submitted or closed."""
        stack = self.stack(view)
        if stack and stack[-1] is not view:
            raise SimError("that view is under another one: close the one on top first")

    # -- delivery to the app --

    def _headers(self, body: str, content_type: str) -> dict[str, list[str]]:
        stamp = str(int(time.time()))  # Bolt checks this against the real clock
        signature = SignatureVerifier(self.signing_secret).generate_signature(
            timestamp=stamp, body=body
        )
        return {
            "content-type": [content_type],
            "x-slack-signature": [signature],
            "x-slack-request-timestamp": [stamp],
        }

    async def _dispatch(
        self, body: str, *, form: bool, on_ack: Callable[[Any], None] | None = None
    ) -> Any:
        from slack_bolt.request.async_request import AsyncBoltRequest

        content_type = "application/x-www-form-urlencoded" if form else "application/json"

        if self._url is not None:
            return await self._post(body, content_type, on_ack)
        if self._app is None:
            if form:
                raise SimError("the app is not connected: Slack would say it didn't respond")
            self.events_dropped += 1
            return None
        request = AsyncBoltRequest(body=body, headers=self._headers(body, content_type))
        before = asyncio.all_tasks()
        response = await self._app.async_dispatch(request)
        if on_ack is not None:  # what the person sees first: the answer to the request itself
            on_ack(response)
        await self.settle(before)
        return response

    async def _post(self, body: str, content_type: str, on_ack: Any) -> Any:
        import aiohttp

        headers = {k: v[0] for k, v in self._headers(body, content_type).items()}
        async with (
            aiohttp.ClientSession() as session,
            session.post(self._url, data=body.encode(), headers=headers) as answer,
        ):
            response = _Answer(answer.status, await answer.text())
        if on_ack is not None:
            on_ack(response)
        return response

    async def settle(
        self, before: set[asyncio.Task[Any]] | None = None, within: float = 10.0
    ) -> None:
        """Wait until the work the app started since ``before`` has finished.

        Bolt acknowledges first and runs a listener's remaining work in a task; this waits
        for such tasks (and any they start), so an action returns with its effects visible.
        """
        before = before or set()
        current = asyncio.current_task()
        deadline = asyncio.get_running_loop().time() + within
        while True:
            await asyncio.sleep(0)
            pending = [
                t
                for t in asyncio.all_tasks()
                if t not in before and t is not current and not t.done()
            ]
            if not pending:
                return
            remaining = deadline - asyncio.get_running_loop().time()
            if remaining <= 0:
                log.warning("slacksim: %d task(s) still running after %.0f s", len(pending), within)
                return
            await asyncio.wait(pending, timeout=remaining)

    async def send_event(self, workspace: Workspace, event: dict[str, Any]) -> Any:
        """Deliver an Events API ``event_callback`` envelope, signed, to the app."""
        self.events_sent += 1
        envelope = {
            "token": "verification-token",
            "team_id": workspace.id,
            "api_app_id": APP_ID,
            "event": event,
            "type": "event_callback",
            "event_id": new_id("Ev"),
            "event_time": int(self.now().timestamp()),
            "authorizations": [
                {
                    "enterprise_id": None,
                    "team_id": workspace.id,
                    "user_id": workspace.bot_user.id,
                    "is_bot": True,
                    "is_enterprise_install": False,
                }
            ],
            "is_ext_shared_channel": False,
        }
        return await self._dispatch(json.dumps(envelope), form=False)

    async def send_message_event(
        self, workspace: Workspace, conversation: Conversation, event: dict[str, Any]
    ) -> None:
        """Message events reach the app only where it is a member, or in its DMs."""
        if conversation.is_im or workspace.bot_user.id in conversation.members:
            await self.send_event(workspace, event)

    async def interact(
        self, person: Person, body: str, *, form: bool, channel: str | None
    ) -> Outcome:
        marks = (len(self.ephemerals), len(self.posted), {k: v.hash for k, v in self.views.items()})
        acked: dict[str, Any] = {}

        def take_ack(response: Any) -> None:
            parsed: Any = response.body
            with contextlib.suppress(TypeError, ValueError):
                parsed = json.loads(response.body) if response.body else None
            acked["body"] = parsed
            if isinstance(parsed, dict) and "response_action" not in parsed:
                if "text" in parsed or "blocks" in parsed:
                    text, blocks = parsed.get("text", ""), parsed.get("blocks")
                    self.ephemerals.append(Ephemeral(channel, person.id, text, blocks))
            elif isinstance(parsed, str) and parsed:
                self.ephemerals.append(Ephemeral(channel, person.id, parsed))

        response = await self._dispatch(body, form=form, on_ack=take_ack)
        parsed = acked.get("body")
        views = [
            v for k, v in self.views.items() if v.user_id == person.id and marks[2].get(k) != v.hash
        ]
        return Outcome(
            status=response.status,
            body=parsed,
            ephemerals=[e for e in self.ephemerals[marks[0] :] if e.user == person.id],
            views=views,
            messages=self.posted[marks[1] :],
        )


async def _arguments(request: web.Request) -> dict[str, Any]:
    """Query, form and JSON arguments merged, as Slack's Web API accepts all three."""
    args: dict[str, Any] = dict(request.query)
    if request.can_read_body:
        if request.content_type == "application/json":
            body = await request.json()
            if isinstance(body, dict):
                args.update(body)
        elif request.content_type == "application/x-www-form-urlencoded":
            args.update(dict(parse_qsl((await request.read()).decode())))
        elif request.content_type.startswith("multipart/"):
            form = await request.post()
            args.update({k: v for k, v in form.items() if isinstance(v, str)})
    return args
