"""slacksim: a simulated Slack for testing a real, unmodified slack-bolt app offline.

SimCord does this for discord.py; nothing like it exists for Slack (slackapi/bolt-python
issue 380), so Praxis carries its own. The real ``slack_sdk.web.async_client.AsyncWebClient``
talks HTTP on loopback to a stateful fake of Slack's Web API, and events and interactions
reach the real ``slack_bolt.async_app.AsyncApp`` as Slack sends them: signed requests
(``x-slack-signature``) through Bolt's own verification and ``app.async_dispatch``.

The contract (tests outside the project rely on it; keep these names stable)::

    from slacksim import SlackSim

    async with SlackSim() as slack:                      # a server on 127.0.0.1, random port
        ws = slack.create_workspace("Practice School")   # T… id, bot user, ws.bot_token
        admin = ws.add_user("amal", admin=True)          # a Person; owner=True, tz="…"
        ada = ws.add_user("ada")
        room = ws.create_channel("reflections", members=[admin, ada])  # the app is in it;
                                                         # private=True, with_app=False
        staff = ws.create_usergroup("facilitators", users=[admin])

        app = AsyncApp(
            client=AsyncWebClient(token=ws.bot_token, base_url=slack.api_url),
            signing_secret=slack.signing_secret,
        )
        slack.connect(app)

        outcome = await admin.command("/praxis", "help", channel=room)   # slash command
        outcome.text, outcome.view, outcome.body, outcome.messages, outcome.errors
        await admin.submit(outcome.view, {"action_id": "value", ...})     # view_submission
        post = await ada.post(room, "text")          # message event; ada.reply(post, "…")
        await ada.edit(post, "new")                  # message_changed
        await ada.delete(post)                       # message_deleted
        await ada.react(post, "white_check_mark")    # reaction_added; ada.unreact(...)
        await ada.click(message_or_view, "action_id", value=None)   # block_actions; also
                                                     # an ephemeral of hers (no "message" sent)
        await ada.shortcut(message, "callback_id")   # message_action (message shortcut)
        await ada.close(view)                        # view_closed, if notify_on_close; a
                                                     # pushed view goes back to the one beneath
        await ada.search(view, "action_id", "Lond")  # block_suggestion -> option values
        await ada.open_home()                        # app_home_opened; ada.home is the view
        ada.private_messages(), ada.dms(), ada.open_views()
        await ws.join(room, person); await ws.leave(room, person)   # member events
        await ws.set_usergroup_members(staff, [amal])  # subteam_members_changed
        ws.archive(room); ws.remove_app(room); ws.add_app(room); ws.revoke_token()
        ada.deactivate(); ada.refuse_dms()           # DMs then fail (user_disabled,
                                                     # restricted_action)
        ws.messages(room), ws.messages(room, thread_ts=post.ts)
        slack.inject_error("chat.postMessage", error="ratelimited", retry_after=0, times=1)
        slack.inject_error("chat.postMessage", status=500)          # or error="not_in_channel"
        slack.inject_error("chat.postMessage", status=500, effect=True)  # done, answer lost
        slack.disconnect()                           # the app is down: events are dropped
        slack.deliver_to("http://127.0.0.1:3000/slack/events")  # a real process, over HTTP
        slack.calls, slack.calls_to("chat.postMessage"), slack.posted, slack.ephemerals
        slack.now(), slack.set_time(moment), slack.advance_time(timedelta(hours=1))

Every action returns once the app has finished handling it, including work Bolt runs
after ``ack()`` (:meth:`SlackSim.settle`). ``Outcome.text`` gathers the private replies
(``ack`` text, ``respond()``, ``chat.postEphemeral``) the actor saw meanwhile.

Web API methods answered (shapes as Slack documents them): ``api.test``, ``auth.test``,
``team.info``, ``users.info``, ``users.list``, ``usergroups.list``,
``usergroups.users.list``, ``conversations.info/list/members/join/open/history/replies``
(cursor pagination), ``chat.postMessage/update/delete/postEphemeral/getPermalink`` (with
``thread_ts`` and message ``metadata``, returned with ``include_all_metadata``),
``reactions.add/remove/get``, ``views.open/push/update/publish`` and the file upload trio
(``files.getUploadURLExternal``, the upload URL, ``files.completeUploadExternal``) that
``files_upload_v2`` uses. Unknown methods answer ``unknown_method``.

Modals keep a view stack as Slack's client does: ``response_action: push`` (or
``views.push``) puts a view on top, at most 3 views a modal (``push_limit_reached``); only
the view on top can be submitted or closed (``slack.stack(view)`` lists the open ones);
closing it shows the one beneath with what the person had typed there still in it (a
refused submission keeps it too), and a later ``submit`` sends it again unless the test
passes new values. ``chat.postMessage`` takes ``username`` and ``icon_url`` (an app posting
under another name and picture, ``chat:write.customize``): the message keeps them as
``Message.username``/``icon_url`` and shows them as ``username`` and ``icons``. Users'
profiles carry ``image_24`` … ``image_512`` (``User.avatar(size)``).

Limits modelled: 40,000 characters of message text (``msg_too_long``), 50 blocks a
message, 100 blocks a modal, 3,000 characters a plain-text input, a ``trigger_id`` used
once within 3 s (``expired_trigger_id``), a 24-character modal title. Errors: the app not
in a channel (``not_in_channel``), an archived channel (``is_archived``), an unknown one
(``channel_not_found``), someone else's message (``cant_update_message``), a revoked
token (``token_revoked``), plus anything injected.

Gaps, on purpose: no Socket Mode websocket (events go through Bolt's HTTP dispatch, which
Socket Mode's handler also ends in); the app's own messages are not echoed back to it as
events (Bolt drops them anyway); rate limits are only what a test injects; no Enterprise
Grid, no shared channels, no rich-text parsing of user text (``text`` only).
"""

from slacksim.model import Conversation, Ephemeral, Message, UploadedFile, User, Usergroup, View
from slacksim.sim import ApiCall, Outcome, Person, SimError, SlackSim, Workspace

__all__ = [
    "ApiCall",
    "Conversation",
    "Ephemeral",
    "Message",
    "Outcome",
    "Person",
    "SimError",
    "SlackSim",
    "UploadedFile",
    "User",
    "Usergroup",
    "View",
    "Workspace",
]
