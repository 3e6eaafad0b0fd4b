"""Private answers on Slack: long text as Block Kit sections, files by direct message.

Reports and members' data name people, so they are never posted where others can read
them: text goes back through the command's ``response_url`` as an ephemeral message (it
works in any channel, even one Praxis isn't in), files into the asker's DM with Praxis.
"""

from __future__ import annotations

from typing import Any

from slack_bolt.context.respond.async_respond import AsyncRespond

from bot.slack.blocks import sections

#: Sections per message: 12 × 3,000 characters stays under Slack's 40,000 a message.
SECTIONS_PER_MESSAGE = 12


async def answer_privately(
    body: dict[str, Any], text: str, *, buttons: list[dict[str, Any]] | None = None
) -> None:
    """``text`` (mrkdwn) to the person who ran the command, in as many messages as needed;
    ``buttons`` go under the last part."""
    respond = AsyncRespond(response_url=body["response_url"])
    parts = sections(text)
    batches = [
        parts[start : start + SECTIONS_PER_MESSAGE]
        for start in range(0, len(parts), SECTIONS_PER_MESSAGE)
    ]
    if buttons:
        batches[-1] = [*batches[-1], {"type": "actions", "elements": buttons}]
    fallback = text.split("\n", 1)[0][:300]
    for blocks in batches:
        await respond(text=fallback, blocks=blocks, response_type="ephemeral")


def button(action_id: str, value: str, label: str, style: str | None = None) -> dict[str, Any]:
    found = {"type": "button", "action_id": action_id, "value": value,
             "text": {"type": "plain_text", "text": label}}  # fmt: skip
    if style:
        found["style"] = style
    return found


async def send_file_by_dm(
    runtime, user: str, data: bytes, *, filename: str, title: str, comment: str
) -> None:
    """Upload a file into ``user``'s direct messages with Praxis (never a channel)."""
    opened = await runtime.client.conversations_open(users=user)
    await runtime.client.files_upload_v2(
        channel=opened["channel"]["id"],
        content=data,
        filename=filename,
        title=title,
        initial_comment=comment,
    )
