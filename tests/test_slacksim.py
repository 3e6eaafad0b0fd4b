"""The simulated Slack, driven by the real slack-bolt AsyncApp and slack-sdk AsyncWebClient.

These tests pin the simulator's public contract (see ``slacksim``'s module docstring) and
check that what it sends and answers has the shape Slack documents, so that Praxis's
Slack tests prove something about Slack and not only about the simulator.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import pytest
import pytest_asyncio
from slack_bolt.async_app import AsyncApp
from slack_sdk.errors import SlackApiError
from slack_sdk.http_retry.builtin_async_handlers import AsyncRateLimitErrorRetryHandler
from slack_sdk.web.async_client import AsyncWebClient

from slacksim import SimError, SlackSim

# The keys Slack documents for each payload type (api.slack.com reference pages and
# bolt-python's own fixtures); the simulator must send at least these.
DOCUMENTED = {
    "event_callback": {"token", "team_id", "api_app_id", "event", "type", "event_id", "event_time"},
    "message": {"type", "channel", "user", "text", "ts"},
    "message_changed": {"type", "subtype", "channel", "message", "previous_message", "ts"},
    "message_deleted": {"type", "subtype", "channel", "deleted_ts", "previous_message", "ts"},
    "reaction_added": {"type", "user", "reaction", "item", "item_user", "event_ts"},
    "slash_command": {
        "token", "team_id", "team_domain", "channel_id", "channel_name", "user_id",
        "user_name", "command", "text", "api_app_id", "response_url", "trigger_id",
    },
    "block_actions": {
        "type", "user", "api_app_id", "token", "container", "trigger_id", "team",
        "channel", "message", "response_url", "actions",
    },
    "message_action": {
        "type", "token", "action_ts", "team", "user", "channel", "callback_id",
        "trigger_id", "message_ts", "message", "response_url",
    },
    "view_submission": {"type", "team", "user", "api_app_id", "token", "trigger_id", "view"},
    "view": {
        "id", "team_id", "type", "blocks", "private_metadata", "callback_id", "state",
        "hash", "title", "previous_view_id", "root_view_id", "app_id", "bot_id",
    },
}  # fmt: skip

MODAL = {
    "type": "modal",
    "callback_id": "note",
    "title": {"type": "plain_text", "text": "A note"},
    "submit": {"type": "plain_text", "text": "Save"},
    "private_metadata": "round-7",
    "blocks": [
        {
            "type": "input",
            "block_id": "body",
            "label": {"type": "plain_text", "text": "What happened"},
            "element": {"type": "plain_text_input", "action_id": "text", "max_length": 3000},
        },
        {
            "type": "input",
            "block_id": "where",
            "optional": True,
            "label": {"type": "plain_text", "text": "Channel"},
            "element": {"type": "conversations_select", "action_id": "channel"},
        },
    ],
}


@pytest_asyncio.fixture
async def slack():
    async with SlackSim() as sim:
        yield sim


@pytest.fixture
def workspace(slack):
    ws = slack.create_workspace("Practice School")
    ws.amal = ws.add_user("amal", admin=True)
    ws.ada = ws.add_user("ada")
    ws.ben = ws.add_user("ben")
    ws.room = ws.create_channel("reflections", members=[ws.amal, ws.ada, ws.ben])
    return ws


def build_app(slack: SlackSim, ws, seen: list) -> AsyncApp:
    client = AsyncWebClient(
        token=ws.bot_token,
        base_url=slack.api_url,
        retry_handlers=[AsyncRateLimitErrorRetryHandler(max_retry_count=2)],
    )
    app = AsyncApp(client=client, signing_secret=slack.signing_secret)

    @app.command("/note")
    async def note(ack, body, client, respond):
        seen.append(("command", body))
        if body["text"] == "open":
            await ack()
            await client.views_open(trigger_id=body["trigger_id"], view=MODAL)
        else:
            await ack(f"you said {body['text']}")
            await respond("and again, later")

    @app.view("note")
    async def saved(ack, body, view):
        seen.append(("view", body))
        text = view["state"]["values"]["body"]["text"]["value"]
        if "forbidden" in text:
            await ack(response_action="errors", errors={"body": "Not that word."})
            return
        await ack()

    @app.event("message")
    async def message(event):
        seen.append(("message", event))

    @app.event("reaction_added")
    async def reaction(event):
        seen.append(("reaction", event))

    @app.action("go")
    async def go(ack, body, client):
        await ack()
        seen.append(("action", body))
        await client.chat_postEphemeral(
            channel=body["channel"]["id"], user=body["user"]["id"], text="clicked"
        )

    @app.shortcut("respond")
    async def shortcut(ack, body):
        await ack()
        seen.append(("shortcut", body))

    @app.event("app_home_opened")
    async def home(event, client):
        await client.views_publish(
            user_id=event["user"],
            view={
                "type": "home",
                "blocks": [{"type": "section", "text": {"type": "mrkdwn", "text": "Hi"}}],
            },
        )

    slack.connect(app)
    return app


def _keys(kind: str, payload: dict) -> None:
    missing = DOCUMENTED[kind] - set(payload)
    assert not missing, f"{kind} lacks {sorted(missing)}"


async def test_a_slash_command_is_signed_acknowledged_and_answered(slack, workspace):
    seen: list = []
    build_app(slack, workspace, seen)
    outcome = await workspace.ada.command("/note", "hello", channel=workspace.room)
    assert outcome.status == 200
    # The acknowledgement and the later respond() race, in Slack as here: both are shown.
    assert sorted(e.text for e in outcome.ephemerals) == ["and again, later", "you said hello"]
    _, body = seen[0]
    _keys("slash_command", body)
    assert body["channel_id"] == workspace.room.id and body["user_id"] == workspace.ada.id
    assert slack.calls_to("auth.test"), "Bolt checks its token through the simulated API"


async def test_a_forged_signature_is_refused_by_bolt(slack, workspace):
    seen: list = []
    build_app(slack, workspace, seen)
    slack.signing_secret = "not-the-app-secret"
    outcome = await workspace.ada.command("/note", "hello", channel=workspace.room)
    assert outcome.status == 401 and not seen


async def test_a_modal_opens_within_its_trigger_and_submits_with_typed_values(slack, workspace):
    seen: list = []
    build_app(slack, workspace, seen)
    opened = await workspace.ada.command("/note", "open", channel=workspace.room)
    view = opened.view
    assert view is not None and view.open and view.body["callback_id"] == "note"

    refused = await workspace.ada.submit(view, {"text": "a forbidden word"})
    assert refused.errors == {"body": "Not that word."} and view.open

    done = await workspace.ada.submit(view, {"text": "fine", "channel": workspace.room.id})
    assert not view.open and done.status == 200
    body = seen[-1][1]
    _keys("view_submission", body)
    _keys("view", body["view"])
    assert body["view"]["private_metadata"] == "round-7"
    state = body["view"]["state"]["values"]
    assert state["where"]["channel"] == {
        "type": "conversations_select",
        "selected_conversation": workspace.room.id,
    }
    with pytest.raises(SimError, match="required"):
        await workspace.ada.submit(view.__class__(**{**view.__dict__, "open": True}), {})


async def test_a_trigger_is_single_use(slack, workspace):
    build_app(slack, workspace, [])
    trigger = slack.new_trigger(workspace.ada.id)
    client = AsyncWebClient(token=workspace.bot_token, base_url=slack.api_url)
    await client.views_open(trigger_id=trigger, view=MODAL)
    with pytest.raises(SlackApiError) as again:
        await client.views_open(trigger_id=trigger, view=MODAL)
    assert again.value.response["error"] == "invalid_trigger_id"
    too_big = {**MODAL, "blocks": MODAL["blocks"] * 51}
    with pytest.raises(SlackApiError) as big:
        await client.views_open(trigger_id=slack.new_trigger(workspace.ada.id), view=too_big)
    assert big.value.response["error"] == "invalid_arguments"


async def test_messages_edits_deletions_and_reactions_arrive_as_slack_sends_them(slack, workspace):
    seen: list = []
    build_app(slack, workspace, seen)
    client = AsyncWebClient(token=workspace.bot_token, base_url=slack.api_url)
    prompt = await client.chat_postMessage(
        channel=workspace.room.id,
        text="Round 1",
        metadata={"event_type": "praxis_round", "event_payload": {"round_id": 7}},
    )
    parent = workspace.room.find(prompt["ts"])
    reply = await workspace.ada.reply(parent, "My reflection")
    await workspace.ada.edit(reply, "My reflection, edited")
    await workspace.ada.react(reply, "white_check_mark")
    await workspace.ada.delete(reply)

    kinds = [(k, e.get("subtype")) for k, e in seen]
    assert kinds == [
        ("message", None),
        ("message", "message_changed"),
        ("reaction", None),
        ("message", "message_deleted"),
    ]
    created, changed, reacted, deleted = (e for _, e in seen)
    _keys("message", created)
    assert created["thread_ts"] == prompt["ts"] and created["channel_type"] == "channel"
    _keys("message_changed", changed)
    assert changed["message"]["text"] == "My reflection, edited"
    assert changed["message"]["ts"] == reply.ts and changed["message"]["edited"]
    _keys("reaction_added", reacted)
    assert reacted["item"] == {"type": "message", "channel": workspace.room.id, "ts": reply.ts}
    _keys("message_deleted", deleted)
    assert deleted["deleted_ts"] == reply.ts


async def test_history_and_replies_page_with_cursors_and_carry_metadata(slack, workspace):
    build_app(slack, workspace, [])
    client = AsyncWebClient(token=workspace.bot_token, base_url=slack.api_url)
    posted = await client.chat_postMessage(
        channel=workspace.room.id,
        text="Round 2",
        metadata={"event_type": "praxis_round", "event_payload": {"round_id": 8}},
    )
    parent = workspace.room.find(posted["ts"])
    for i in range(25):
        await (workspace.ada if i % 2 else workspace.ben).reply(parent, f"reply {i}")

    texts, cursor = [], None
    while True:
        page = await client.conversations_replies(
            channel=workspace.room.id, ts=posted["ts"], limit=10, cursor=cursor
        )
        texts += [m["text"] for m in page["messages"]]
        cursor = page["response_metadata"]["next_cursor"]
        if not cursor:
            break
    assert texts == ["Round 2"] + [f"reply {i}" for i in range(25)]

    plain = await client.conversations_history(channel=workspace.room.id, limit=5)
    assert [m["text"] for m in plain["messages"]] == ["Round 2"]
    assert "metadata" not in plain["messages"][0]
    assert plain["messages"][0]["reply_count"] == 25
    rich = await client.conversations_history(channel=workspace.room.id, include_all_metadata=True)
    assert rich["messages"][0]["metadata"]["event_payload"] == {"round_id": 8}
    later = await client.conversations_replies(
        channel=workspace.room.id, ts=posted["ts"], oldest=texts and parent.ts
    )
    assert len(later["messages"]) == 25


async def test_rate_limits_are_retried_by_the_sdk_and_server_errors_raise(slack, workspace):
    build_app(slack, workspace, [])
    client = AsyncWebClient(
        token=workspace.bot_token,
        base_url=slack.api_url,
        retry_handlers=[AsyncRateLimitErrorRetryHandler(max_retry_count=2)],
    )
    slack.inject_error("chat.postMessage", error="ratelimited", retry_after=0, times=1)
    sent = await client.chat_postMessage(channel=workspace.room.id, text="once")
    assert sent["ok"]
    statuses = [c.status for c in slack.calls_to("chat.postMessage")]
    assert statuses == [429, 200]
    assert [m.text for m in workspace.messages(workspace.room)] == ["once"]

    slack.inject_error("chat.postMessage", status=500)
    with pytest.raises(SlackApiError) as failed:
        await client.chat_postMessage(channel=workspace.room.id, text="twice")
    assert failed.value.response.status_code == 500

    slack.inject_error("chat.postMessage", error="channel_not_found")
    with pytest.raises(SlackApiError) as missing:
        await client.chat_postMessage(channel=workspace.room.id, text="thrice")
    assert missing.value.response["error"] == "channel_not_found"


async def test_the_app_outside_a_channel_or_a_person_it_cannot_write_to(slack, workspace):
    build_app(slack, workspace, [])
    client = AsyncWebClient(token=workspace.bot_token, base_url=slack.api_url)
    workspace.remove_app(workspace.room)
    with pytest.raises(SlackApiError) as outside:
        await client.chat_postMessage(channel=workspace.room.id, text="hello")
    assert outside.value.response["error"] == "not_in_channel"
    workspace.add_app(workspace.room)  # invited back (/invite @Praxis)
    await client.chat_postMessage(channel=workspace.room.id, text="back")

    dm = await client.conversations_open(users=workspace.ada.id)
    again = await client.conversations_open(users=workspace.ada.id)
    assert dm["channel"]["id"] == again["channel"]["id"] and again["already_open"]
    await client.chat_postMessage(channel=dm["channel"]["id"], text="a nudge")
    assert [m.text for m in workspace.ada.dms()] == ["a nudge"]

    workspace.ada.refuse_dms()
    with pytest.raises(SlackApiError) as refused:
        await client.chat_postMessage(channel=dm["channel"]["id"], text="another")
    assert refused.value.response["error"] == "restricted_action"
    workspace.ben.deactivate()
    with pytest.raises(SlackApiError) as gone:
        await client.conversations_open(users=workspace.ben.id)
    assert gone.value.response["error"] == "user_disabled"
    workspace.revoke_token()
    with pytest.raises(SlackApiError) as revoked:
        await client.auth_test()
    assert revoked.value.response["error"] == "token_revoked"


async def test_limits_on_message_text(slack, workspace):
    build_app(slack, workspace, [])
    client = AsyncWebClient(token=workspace.bot_token, base_url=slack.api_url)
    with pytest.raises(SlackApiError) as long:
        await client.chat_postMessage(channel=workspace.room.id, text="x" * 40_001)
    assert long.value.response["error"] == "msg_too_long"
    await client.chat_postMessage(channel=workspace.room.id, text="x" * 40_000)


async def test_buttons_shortcuts_and_ephemeral_replies(slack, workspace):
    seen: list = []
    build_app(slack, workspace, seen)
    client = AsyncWebClient(token=workspace.bot_token, base_url=slack.api_url)
    posted = await client.chat_postMessage(
        channel=workspace.room.id,
        text="Round 3",
        blocks=[
            {"type": "section", "text": {"type": "mrkdwn", "text": "Round 3"}},
            {
                "type": "actions",
                "block_id": "tools",
                "elements": [
                    {
                        "type": "button",
                        "action_id": "go",
                        "value": "round-9",
                        "text": {"type": "plain_text", "text": "Write reflection"},
                    }
                ],
            },
        ],
    )
    message = workspace.room.find(posted["ts"])
    outcome = await workspace.ada.click(message, "go")
    assert outcome.text == "clicked"
    assert [e.text for e in workspace.ada.private_messages()] == ["clicked"]
    assert workspace.ben.private_messages() == []
    action = seen[-1][1]
    _keys("block_actions", action)
    assert action["actions"][0]["value"] == "round-9"
    assert action["container"]["message_ts"] == posted["ts"]

    reply = await workspace.ben.reply(message, "Ben's reflection")
    await workspace.ada.shortcut(reply, "respond")
    shortcut = seen[-1][1]
    _keys("message_action", shortcut)
    assert shortcut["message"]["user"] == workspace.ben.id
    assert shortcut["message"]["thread_ts"] == posted["ts"]
    with pytest.raises(SimError):
        await workspace.ada.click(message, "no-such-button")


async def test_a_button_in_an_ephemeral_message_is_clicked_by_its_viewer_only(slack, workspace):
    seen: list = []
    build_app(slack, workspace, seen)
    client = AsyncWebClient(token=workspace.bot_token, base_url=slack.api_url)
    button = {"type": "button", "action_id": "go", "value": "forget",
              "text": {"type": "plain_text", "text": "Delete my data"}}  # fmt: skip
    await client.chat_postEphemeral(
        channel=workspace.room.id,
        user=workspace.ada.id,
        text="Sure?",
        blocks=[{"type": "actions", "elements": [button]}],
    )
    (shown,) = workspace.ada.private_messages()
    with pytest.raises(SimError):
        await workspace.ben.click(shown, "go")
    outcome = await workspace.ada.click(shown, "go")
    assert outcome.text == "clicked"
    action = seen[-1][1]
    _keys("block_actions", {**action, "message": None})  # Slack sends no message for these
    assert "message" not in action and action["container"]["is_ephemeral"] is True
    assert action["channel"]["id"] == workspace.room.id and action["response_url"]


async def test_home_tab_and_file_uploads(slack, workspace):
    build_app(slack, workspace, [])
    view = await workspace.ada.open_home()
    assert view is not None and view.type == "home"
    client = AsyncWebClient(token=workspace.bot_token, base_url=slack.api_url)
    dm = await client.conversations_open(users=workspace.amal.id)
    await client.files_upload_v2(
        channel=dm["channel"]["id"], filename="report.csv", content="a,b\n1,2\n", title="Report"
    )
    (upload,) = slack.files.values()
    assert upload.content == b"a,b\n1,2\n" and upload.shared_to == [dm["channel"]["id"]]
    assert workspace.amal.dms()[-1].files[0]["name"] == "report.csv"


async def test_the_clock_gives_increasing_slack_timestamps(slack, workspace):
    slack.set_time(datetime(2026, 3, 29, 0, 59, 59, tzinfo=UTC))
    first, second = slack.next_ts(), slack.next_ts()
    assert first == "1774745999.000000" and second == "1774745999.000001"
    slack.advance_time(timedelta(hours=1))
    assert slack.now() == datetime(2026, 3, 29, 1, 59, 59, tzinfo=UTC)
    assert float(slack.next_ts()) > float(second)
    assert json.loads(json.dumps(first)) == first  # a string end to end, never a float


async def test_a_pushed_view_closes_back_to_the_form_as_it_was_typed(slack, workspace):
    """Slack's view stack: a submission answered with ``push`` keeps the form beneath, and
    closing the pushed view shows the form again with what the person typed in it."""
    seen: list = []
    app = build_app(slack, workspace, seen)
    confirm = {
        "type": "modal",
        "callback_id": "sure",
        "notify_on_close": True,
        "title": {"type": "plain_text", "text": "Sure?"},
        "submit": {"type": "plain_text", "text": "Post anyway"},
        "close": {"type": "plain_text", "text": "Edit"},
        "blocks": [{"type": "section", "text": {"type": "mrkdwn", "text": "Really?"}}],
    }

    @app.view("checked")
    async def check(ack, view):
        text = view["state"]["values"]["body"]["text"]["value"]
        seen.append(("typed", text))
        if "phone" in text:
            await ack(response_action="push", view=confirm)
        else:
            await ack()

    @app.view_closed("sure")
    async def closed(ack, body):
        await ack()
        seen.append(("closed", body["is_cleared"]))

    client = AsyncWebClient(token=workspace.bot_token, base_url=slack.api_url)
    trigger = slack.new_trigger(workspace.ada.id)
    opened = await client.views_open(trigger_id=trigger, view={**MODAL, "callback_id": "checked"})
    form = slack.views[opened["view"]["id"]]
    pushed = (await workspace.ada.submit(form, {"text": "my phone"})).view
    assert pushed.previous_view_id == form.id and pushed.root_view_id == form.id
    assert [v.id for v in workspace.ada.open_views()] == [form.id, pushed.id]
    with pytest.raises(SimError, match="under another"):
        await workspace.ada.submit(form, {"text": "no"})

    await workspace.ada.close(pushed)
    assert seen[-1] == ("closed", False)
    assert [v.id for v in workspace.ada.open_views()] == [form.id]
    again = (await workspace.ada.submit(form)).view  # the client sends what is still there
    assert seen[-1] == ("typed", "my phone") and form.open and again.open
    await workspace.ada.close(again)
    await workspace.ada.submit(form, {"text": "fine"})
    assert not form.open and seen[-1] == ("typed", "fine")

    root = await client.views_open(trigger_id=slack.new_trigger(workspace.ada.id), view=MODAL)
    for _ in range(2):
        await client.views_push(trigger_id=slack.new_trigger(workspace.ada.id), view=confirm)
    with pytest.raises(SlackApiError) as full:
        await client.views_push(trigger_id=slack.new_trigger(workspace.ada.id), view=confirm)
    assert full.value.response["error"] == "push_limit_reached"
    assert len(slack.stack(slack.views[root["view"]["id"]])) == 3


async def test_an_app_can_post_under_a_members_name_and_picture(slack, workspace):
    client = AsyncWebClient(token=workspace.bot_token, base_url=slack.api_url)
    info = (await client.users_info(user=workspace.ada.id))["user"]["profile"]
    sent = await client.chat_postMessage(
        channel=workspace.room.id, text="on ada's behalf", username="ada",
        icon_url=info["image_192"],
    )  # fmt: skip
    message = workspace.room.find(sent["ts"])
    assert message.bot_id == workspace.bot_id and message.username == "ada"
    assert sent["message"]["username"] == "ada"
    assert sent["message"]["icons"] == {"image_48": info["image_192"]}
    assert info["image_192"] == workspace.ada.user.avatar(192)
