"""The Slack app manifest asks for what the code uses, and for nothing it doesn't."""

from __future__ import annotations

import json
import re
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
MANIFEST = json.loads((ROOT / "slack-manifest.json").read_text(encoding="utf-8"))

#: The bot scope each Web API method Praxis calls needs (Slack's method reference pages).
SCOPES = {
    "auth_test": None,
    "chat_postMessage": "chat:write",
    "chat_postEphemeral": "chat:write",
    "chat_update": "chat:write",
    "chat_delete": "chat:write",
    "conversations_history": "channels:history",
    "conversations_replies": "channels:history",
    "conversations_info": "channels:read",
    "conversations_members": "channels:read",
    "conversations_open": "im:write",
    "conversations_join": "channels:join",
    "reactions_add": "reactions:write",
    "reactions_remove": "reactions:write",
    "users_info": "users:read",
    "usergroups_list": "usergroups:read",
    "usergroups_users_list": "usergroups:read",
    "views_open": None,
    "views_update": None,
    "views_publish": None,
    "files_upload_v2": "files:write",
}
#: Scopes an argument needs on top of its method's: a member's form is posted under
#: their own name and picture.
ARGUMENT_SCOPES = {"username=": "chat:write.customize", "icon_url=": "chat:write.customize"}


def methods_called() -> set[str]:
    """Every ``client.method(`` the Slack side calls, read from its source."""
    called = set()
    for path in (ROOT / "bot" / "slack").glob("*.py"):
        called |= set(re.findall(r"client\.([a-z]+_[A-Za-z_]+)\(", path.read_text()))
    return called


def test_every_method_praxis_calls_has_its_scope_in_the_manifest():
    called = methods_called()
    assert called, "no Web API calls found: the pattern no longer matches the code"
    unknown = called - SCOPES.keys()
    assert not unknown, f"add these methods' scopes to SCOPES and the manifest: {unknown}"
    granted = set(MANIFEST["oauth_config"]["scopes"]["bot"])
    needed = {SCOPES[m] for m in called} - {None}
    source = "".join(path.read_text() for path in (ROOT / "bot" / "slack").glob("*.py"))
    needed |= {scope for argument, scope in ARGUMENT_SCOPES.items() if argument in source}
    assert needed <= granted, f"the manifest lacks {needed - granted}"
    assert "commands" in granted
    # Private channels: history and membership need the groups: twins of the channels: scopes.
    assert {"groups:history", "groups:read"} <= granted


def test_the_one_command_and_the_events_the_listeners_need():
    (command,) = MANIFEST["features"]["slash_commands"]
    assert command["command"] == "/praxis"
    assert command["should_escape"] is True  # @mentions arrive as <@U…|name>, as parsed
    events = set(MANIFEST["settings"]["event_subscriptions"]["bot_events"])
    assert {"message.channels", "message.groups"} <= events
    assert "app_home_opened" in events and MANIFEST["features"]["app_home"]["home_tab_enabled"]
    assert MANIFEST["settings"]["interactivity"]["is_enabled"] is True
    assert MANIFEST["settings"]["socket_mode_enabled"] is True


def test_the_give_feedback_shortcut_is_declared_as_the_code_names_it():
    from bot.slack.reflect import FEEDBACK_SHORTCUT

    (shortcut,) = MANIFEST["features"]["shortcuts"]
    assert shortcut["type"] == "message" and shortcut["callback_id"] == FEEDBACK_SHORTCUT
    assert len(shortcut["description"]) <= 150 and shortcut["name"] == "Give feedback"
