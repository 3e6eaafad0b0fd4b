"""The Web API methods a simulated Slack answers, over the simulator's state.

Each handler takes the workspace the token belongs to and the call's arguments (query,
form or JSON merged, as Slack accepts them) and returns the response body without ``ok``;
a refusal raises :class:`ApiError` with Slack's documented error code. Limits follow Slack's
documentation: message text 40,000 characters, 50 blocks a message, 100 blocks a modal,
3,000 characters a plain-text input, ``views.open`` within 3 s of the trigger, once.
"""

from __future__ import annotations

import base64
import json
import time
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from slacksim.model import Conversation, Ephemeral, Message, UploadedFile, View, new_id

if TYPE_CHECKING:
    from slacksim.sim import SlackSim, Workspace

MESSAGE_TEXT_LIMIT = 40_000
MESSAGE_BLOCK_LIMIT = 50
VIEW_BLOCK_LIMIT = 100
PLAIN_TEXT_INPUT_LIMIT = 3_000
TRIGGER_SECONDS = 3.0
VIEW_TITLE_LIMIT = 24
VIEW_STACK_LIMIT = 3  # views one modal holds (the one opened and two pushed)


class ApiError(Exception):
    def __init__(self, code: str) -> None:
        super().__init__(code)
        self.code = code


Handler = Callable[["SlackSim", "Workspace", dict[str, Any]], dict[str, Any]]
METHODS: dict[str, Handler] = {}


def method(name: str) -> Callable[[Handler], Handler]:
    def register(handler: Handler) -> Handler:
        METHODS[name] = handler
        return handler

    return register


# -- argument helpers -------------------------------------------------------------------


def _json_arg(args: dict[str, Any], name: str) -> Any:
    """Slack takes structured arguments as JSON text in forms and as JSON in JSON bodies."""
    value = args.get(name)
    if isinstance(value, str):
        try:
            return json.loads(value)
        except json.JSONDecodeError as exc:
            raise ApiError(f"invalid_{name}") from exc
    return value


def _flag(args: dict[str, Any], name: str) -> bool:
    return str(args.get(name, "")).lower() in ("1", "true")


def _required(args: dict[str, Any], name: str, error: str | None = None) -> str:
    value = args.get(name)
    if value in (None, ""):
        raise ApiError(error or "invalid_arguments")
    return str(value)


def page(items: list[Any], args: dict[str, Any], *, default: int = 100, most: int = 1000):
    """Cursor pagination as Slack does it: an opaque ``next_cursor``, empty on the last page."""
    cursor = args.get("cursor") or ""
    try:
        start = int(base64.b64decode(cursor).decode().split(":")[1]) if cursor else 0
    except (ValueError, IndexError) as exc:
        raise ApiError("invalid_cursor") from exc
    limit = int(args.get("limit") or default)
    limit = max(1, min(limit, most))
    chunk = items[start : start + limit]
    more = start + limit < len(items)
    next_cursor = base64.b64encode(f"offset:{start + limit}".encode()).decode() if more else ""
    return chunk, more, {"next_cursor": next_cursor}


def _conversation(ws: Workspace, args: dict[str, Any], name: str = "channel") -> Conversation:
    channel_id = _required(args, name, "channel_not_found")
    conversation = ws.conversations.get(channel_id)
    if conversation is None and channel_id.startswith(("U", "W")):  # a user id: their DM
        person = ws.sim.users.get(channel_id)
        if person is not None and person.team_id == ws.id:
            conversation = ws.im_with(channel_id) or ws.open_im(channel_id)
    if conversation is None:
        raise ApiError("channel_not_found")
    return conversation


def _readable(ws: Workspace, conversation: Conversation) -> Conversation:
    if not conversation.is_im and ws.bot_user.id not in conversation.members:
        raise ApiError("not_in_channel")
    return conversation


def _writable(ws: Workspace, conversation: Conversation) -> Conversation:
    if conversation.is_archived:
        raise ApiError("is_archived")
    if conversation.is_im:
        person = ws.sim.users.get(conversation.members[0]) if conversation.members else None
        if person is None or person.deleted:
            raise ApiError("user_disabled")
        if not person.accepts_dms:
            raise ApiError("restricted_action")
        return conversation
    return _readable(ws, conversation)


def _message(conversation: Conversation, ts: str | None) -> Message:
    found = conversation.find(ts or "")
    if found is None:
        raise ApiError("message_not_found")
    return found


def _blocks(args: dict[str, Any], limit: int) -> list[dict[str, Any]] | None:
    blocks = _json_arg(args, "blocks")
    if blocks is None:
        return None
    if not isinstance(blocks, list) or len(blocks) > limit:
        raise ApiError("invalid_blocks")
    return blocks


def _text_and_blocks(args: dict[str, Any]) -> tuple[str, list[dict[str, Any]] | None]:
    text = str(args.get("text") or "")
    blocks = _blocks(args, MESSAGE_BLOCK_LIMIT)
    if not text and not blocks and not args.get("attachments"):
        raise ApiError("no_text")
    if len(text) > MESSAGE_TEXT_LIMIT:
        raise ApiError("msg_too_long")
    return text, blocks


# -- auth, team, users ------------------------------------------------------------------


@method("api.test")
def api_test(sim: SlackSim, ws: Workspace, args: dict[str, Any]) -> dict[str, Any]:
    return {"args": {k: v for k, v in args.items() if k != "token"}}


@method("auth.test")
def auth_test(sim: SlackSim, ws: Workspace, args: dict[str, Any]) -> dict[str, Any]:
    return {
        "url": f"https://{ws.domain}.slack.com/",
        "team": ws.name,
        "user": ws.bot_user.name,
        "team_id": ws.id,
        "user_id": ws.bot_user.id,
        "bot_id": ws.bot_id,
        "is_enterprise_install": False,
    }


@method("team.info")
def team_info(sim: SlackSim, ws: Workspace, args: dict[str, Any]) -> dict[str, Any]:
    return {"team": {"id": ws.id, "name": ws.name, "domain": ws.domain}}


@method("users.info")
def users_info(sim: SlackSim, ws: Workspace, args: dict[str, Any]) -> dict[str, Any]:
    user = sim.users.get(str(args.get("user", "")))
    if user is None or user.team_id != ws.id:
        raise ApiError("user_not_found")
    return {"user": user.payload()}


@method("users.list")
def users_list(sim: SlackSim, ws: Workspace, args: dict[str, Any]) -> dict[str, Any]:
    people = [u.payload() for u in sim.users.values() if u.team_id == ws.id]
    members, _, meta = page(people, args, default=200)
    return {"members": members, "response_metadata": meta}


@method("usergroups.list")
def usergroups_list(sim: SlackSim, ws: Workspace, args: dict[str, Any]) -> dict[str, Any]:
    include = _flag(args, "include_users")
    return {"usergroups": [g.payload(include_users=include) for g in ws.usergroups.values()]}


@method("usergroups.users.list")
def usergroups_users_list(sim: SlackSim, ws: Workspace, args: dict[str, Any]) -> dict[str, Any]:
    group = ws.usergroups.get(str(args.get("usergroup", "")))
    if group is None:
        raise ApiError("no_such_subteam")
    return {"users": list(group.users)}


# -- conversations ----------------------------------------------------------------------


@method("conversations.info")
def conversations_info(sim: SlackSim, ws: Workspace, args: dict[str, Any]) -> dict[str, Any]:
    conversation = _conversation(ws, args)
    if conversation.is_private and ws.bot_user.id not in conversation.members:
        raise ApiError("channel_not_found")  # a private channel the app isn't in is invisible
    return {"channel": conversation.payload()}


@method("conversations.list")
def conversations_list(sim: SlackSim, ws: Workspace, args: dict[str, Any]) -> dict[str, Any]:
    types = set(str(args.get("types") or "public_channel").split(","))
    wanted = [
        c.payload()
        for c in ws.conversations.values()
        if ("im" in types and c.is_im)
        or ("public_channel" in types and not c.is_im and not c.is_private)
        or ("private_channel" in types and c.is_private and ws.bot_user.id in c.members)
    ]
    channels, _, meta = page(wanted, args)
    return {"channels": channels, "response_metadata": meta}


@method("conversations.members")
def conversations_members(sim: SlackSim, ws: Workspace, args: dict[str, Any]) -> dict[str, Any]:
    conversation = _conversation(ws, args)
    if conversation.is_private and ws.bot_user.id not in conversation.members:
        raise ApiError("channel_not_found")
    members, _, meta = page(list(conversation.members), args)
    return {"members": members, "response_metadata": meta}


@method("conversations.join")
def conversations_join(sim: SlackSim, ws: Workspace, args: dict[str, Any]) -> dict[str, Any]:
    conversation = _conversation(ws, args)
    if conversation.is_private or conversation.is_im:
        raise ApiError("method_not_supported_for_channel_type")
    if conversation.is_archived:
        raise ApiError("is_archived")
    if ws.bot_user.id not in conversation.members:
        conversation.members.append(ws.bot_user.id)
    return {"channel": conversation.payload()}


@method("conversations.open")
def conversations_open(sim: SlackSim, ws: Workspace, args: dict[str, Any]) -> dict[str, Any]:
    users = [u for u in str(args.get("users") or "").split(",") if u]
    if len(users) != 1:
        raise ApiError("not_enough_users" if not users else "too_many_users")
    person = sim.users.get(users[0])
    if person is None or person.team_id != ws.id:
        raise ApiError("user_not_found")
    if person.deleted:
        raise ApiError("user_disabled")
    existing = ws.im_with(person.id)
    conversation = existing or ws.open_im(person.id)
    return {"channel": {"id": conversation.id}, "already_open": existing is not None}


def _window(messages: list[Message], args: dict[str, Any]) -> list[Message]:
    oldest, latest = args.get("oldest"), args.get("latest")
    inclusive = _flag(args, "inclusive")

    def inside(m: Message) -> bool:
        if oldest and (m.ts < oldest or (m.ts == oldest and not inclusive)):
            return False
        return not (latest and (m.ts > latest or (m.ts == latest and not inclusive)))

    return [m for m in messages if inside(m)]


@method("conversations.history")
def conversations_history(sim: SlackSim, ws: Workspace, args: dict[str, Any]) -> dict[str, Any]:
    conversation = _readable(ws, _conversation(ws, args))
    top = [m for m in conversation.messages if not m.is_reply]
    newest_first = list(reversed(_window(top, args)))
    return _message_page(newest_first, args, default=100)


@method("conversations.replies")
def conversations_replies(sim: SlackSim, ws: Workspace, args: dict[str, Any]) -> dict[str, Any]:
    conversation = _readable(ws, _conversation(ws, args))
    parent = conversation.find(str(args.get("ts") or ""))
    if parent is None:
        raise ApiError("thread_not_found")
    thread = [parent] + [
        m for m in conversation.messages if m.thread_ts == parent.ts and m.is_reply
    ]
    return _message_page(_window(thread, args), args, default=1000)


def _message_page(messages: list[Message], args: dict[str, Any], *, default: int):
    """One page of messages as history and replies answer: metadata only when asked for."""
    chunk, more, meta = page(messages, args, default=default)
    metadata = _flag(args, "include_all_metadata")
    return {
        "messages": [m.payload(with_metadata=metadata) for m in chunk],
        "has_more": more,
        "response_metadata": meta,
    }


# -- messages ---------------------------------------------------------------------------


@method("chat.postMessage")
def chat_post_message(sim: SlackSim, ws: Workspace, args: dict[str, Any]) -> dict[str, Any]:
    conversation = _writable(ws, _conversation(ws, args))
    text, blocks = _text_and_blocks(args)
    thread_ts = args.get("thread_ts") or None
    if thread_ts:
        parent = conversation.find(str(thread_ts))
        if parent is None or parent.is_reply:
            raise ApiError("thread_not_found")
    metadata = _json_arg(args, "metadata")
    message = sim.add_message(
        conversation,
        text=text,
        user=ws.bot_user.id,
        bot_id=ws.bot_id,
        blocks=blocks,
        thread_ts=str(thread_ts) if thread_ts else None,
        metadata=metadata,
    )
    message.username = str(args.get("username") or "") or None
    message.icon_url = str(args.get("icon_url") or "") or None
    return {"channel": conversation.id, "ts": message.ts, "message": message.payload()}


@method("chat.update")
def chat_update(sim: SlackSim, ws: Workspace, args: dict[str, Any]) -> dict[str, Any]:
    conversation = _writable(ws, _conversation(ws, args))
    message = _message(conversation, args.get("ts"))
    if message.bot_id != ws.bot_id:
        raise ApiError("cant_update_message")
    if "text" in args or "blocks" in args:
        text, blocks = _text_and_blocks(args)
        message.text, message.blocks = text, blocks if blocks is not None else message.blocks
    if "metadata" in args:
        message.metadata = _json_arg(args, "metadata")
    message.edited_ts = sim.next_ts()
    return {
        "channel": conversation.id,
        "ts": message.ts,
        "text": message.text,
        "message": message.payload(),
    }


@method("chat.delete")
def chat_delete(sim: SlackSim, ws: Workspace, args: dict[str, Any]) -> dict[str, Any]:
    conversation = _conversation(ws, args)
    message = _message(conversation, args.get("ts"))
    if message.bot_id != ws.bot_id:
        raise ApiError("cant_delete_message")
    sim.remove_message(conversation, message)
    return {"channel": conversation.id, "ts": message.ts}


@method("chat.postEphemeral")
def chat_post_ephemeral(sim: SlackSim, ws: Workspace, args: dict[str, Any]) -> dict[str, Any]:
    conversation = _writable(ws, _conversation(ws, args))
    user = _required(args, "user", "user_not_found")
    if user not in conversation.members:
        raise ApiError("user_not_in_channel")
    text, blocks = _text_and_blocks(args)
    thread_ts = args.get("thread_ts") or None
    sim.ephemerals.append(Ephemeral(conversation.id, user, text, blocks, thread_ts))
    return {"message_ts": sim.next_ts()}


@method("chat.getPermalink")
def chat_get_permalink(sim: SlackSim, ws: Workspace, args: dict[str, Any]) -> dict[str, Any]:
    conversation = _conversation(ws, args)
    message = _message(conversation, args.get("message_ts"))
    stamp = message.ts.replace(".", "")
    return {
        "channel": conversation.id,
        "permalink": f"https://{ws.domain}.slack.com/archives/{conversation.id}/p{stamp}",
    }


# -- reactions --------------------------------------------------------------------------


@method("reactions.add")
def reactions_add(sim: SlackSim, ws: Workspace, args: dict[str, Any]) -> dict[str, Any]:
    conversation = _writable(ws, _conversation(ws, args))
    message = _message(conversation, args.get("timestamp"))
    name = _required(args, "name", "invalid_name")
    users = message.reactions.setdefault(name, [])
    if ws.bot_user.id in users:
        raise ApiError("already_reacted")
    users.append(ws.bot_user.id)
    return {}


@method("reactions.remove")
def reactions_remove(sim: SlackSim, ws: Workspace, args: dict[str, Any]) -> dict[str, Any]:
    conversation = _readable(ws, _conversation(ws, args))
    message = _message(conversation, args.get("timestamp"))
    users = message.reactions.get(str(args.get("name") or ""), [])
    if ws.bot_user.id not in users:
        raise ApiError("no_reaction")
    users.remove(ws.bot_user.id)
    if not users:
        del message.reactions[str(args["name"])]
    return {}


@method("reactions.get")
def reactions_get(sim: SlackSim, ws: Workspace, args: dict[str, Any]) -> dict[str, Any]:
    conversation = _readable(ws, _conversation(ws, args))
    message = _message(conversation, args.get("timestamp"))
    return {"type": "message", "channel": conversation.id, "message": message.payload()}


# -- views ------------------------------------------------------------------------------


def _view_body(args: dict[str, Any]) -> dict[str, Any]:
    body = _json_arg(args, "view")
    if not isinstance(body, dict) or body.get("type") not in ("modal", "home"):
        raise ApiError("invalid_arguments")
    blocks = body.get("blocks", [])
    if len(blocks) > VIEW_BLOCK_LIMIT:
        raise ApiError("invalid_arguments")
    title = (body.get("title") or {}).get("text", "")
    if body["type"] == "modal" and (not title or len(title) > VIEW_TITLE_LIMIT):
        raise ApiError("invalid_arguments")
    for block in blocks:
        element = block.get("element") or {}
        if element.get("type") == "plain_text_input" and (
            int(element.get("max_length", PLAIN_TEXT_INPUT_LIMIT)) > PLAIN_TEXT_INPUT_LIMIT
        ):
            raise ApiError("invalid_arguments")
    return body


def _take_trigger(sim: SlackSim, args: dict[str, Any]) -> str:
    trigger = sim.triggers.pop(str(args.get("trigger_id") or ""), None)
    if trigger is None:
        raise ApiError("invalid_trigger_id")
    user, issued = trigger
    if time.monotonic() - issued > TRIGGER_SECONDS:
        raise ApiError("expired_trigger_id")
    return user


@method("views.open")
def views_open(sim: SlackSim, ws: Workspace, args: dict[str, Any]) -> dict[str, Any]:
    user = _take_trigger(sim, args)
    view_id = new_id("V")
    view = View(view_id, ws.id, user, _view_body(args), sim.next_hash(), view_id)
    sim.views[view.id] = view
    return {"view": view.payload()}


@method("views.push")
def views_push(sim: SlackSim, ws: Workspace, args: dict[str, Any]) -> dict[str, Any]:
    user = _take_trigger(sim, args)
    stack = [v for v in sim.views.values() if v.user_id == user and v.open and v.type == "modal"]
    if not stack:
        raise ApiError("invalid_trigger_id")
    top = stack[-1]
    if len([v for v in stack if v.root_view_id == top.root_view_id]) >= VIEW_STACK_LIMIT:
        raise ApiError("push_limit_reached")
    view = View(new_id("V"), ws.id, user, _view_body(args), sim.next_hash(), top.root_view_id)
    view.previous_view_id = top.id
    sim.views[view.id] = view
    return {"view": view.payload()}


@method("views.update")
def views_update(sim: SlackSim, ws: Workspace, args: dict[str, Any]) -> dict[str, Any]:
    view = sim.views.get(str(args.get("view_id") or ""))
    if view is None:
        external = args.get("external_id")
        view = next(
            (v for v in sim.views.values() if external and v.body.get("external_id") == external),
            None,
        )
    if view is None:
        raise ApiError("not_found")
    if args.get("hash") and args["hash"] != view.hash:
        raise ApiError("hash_conflict")
    view.body = _view_body(args)
    view.hash = sim.next_hash()
    return {"view": view.payload()}


@method("views.publish")
def views_publish(sim: SlackSim, ws: Workspace, args: dict[str, Any]) -> dict[str, Any]:
    user = _required(args, "user_id", "invalid_arguments")
    person = sim.users.get(user)
    if person is None or person.team_id != ws.id:
        raise ApiError("user_not_found")
    body = _view_body(args)
    if body["type"] != "home":
        raise ApiError("invalid_arguments")
    current = sim.home_views.get(user)
    if current and args.get("hash") and args["hash"] != current.hash:
        raise ApiError("hash_conflict")
    view_id = current.id if current else new_id("V")
    view = View(view_id, ws.id, user, body, sim.next_hash(), view_id)
    sim.home_views[user] = view
    return {"view": view.payload()}


# -- files ------------------------------------------------------------------------------


@method("files.getUploadURLExternal")
def files_get_upload_url(sim: SlackSim, ws: Workspace, args: dict[str, Any]) -> dict[str, Any]:
    filename = _required(args, "filename", "invalid_arguments")
    if int(args.get("length") or 0) <= 0:
        raise ApiError("invalid_arguments")
    file = UploadedFile(new_id("F"), filename, None)
    sim.files[file.id] = file
    return {"upload_url": f"{sim.base_url}upload/{file.id}", "file_id": file.id}


@method("files.completeUploadExternal")
def files_complete_upload(sim: SlackSim, ws: Workspace, args: dict[str, Any]) -> dict[str, Any]:
    entries = _json_arg(args, "files") or []
    files = []
    for entry in entries:
        file = sim.files.get(str(entry.get("id")))
        if file is None:
            raise ApiError("file_not_found")
        file.title = entry.get("title") or file.filename
        files.append(file)
    channel_id = args.get("channel_id") or args.get("channels")
    shown = [
        {"id": f.id, "name": f.filename, "title": f.title, "size": len(f.content)} for f in files
    ]
    if channel_id:
        conversation = _writable(ws, _conversation(ws, {"channel": str(channel_id).split(",")[0]}))
        thread_ts = args.get("thread_ts") or None
        for file in files:
            file.shared_to.append(conversation.id)
            file.thread_ts = thread_ts
            file.initial_comment = args.get("initial_comment")
        sim.add_message(
            conversation,
            text=str(args.get("initial_comment") or ""),
            user=ws.bot_user.id,
            bot_id=ws.bot_id,
            thread_ts=str(thread_ts) if thread_ts else None,
            files=shown,
        )
    return {"files": shown}
