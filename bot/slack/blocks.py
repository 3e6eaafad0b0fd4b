"""Praxis's messages as Slack Block Kit, and the markup Slack's ``mrkdwn`` uses.

Text a facilitator or member wrote is escaped (``&``, ``<``, ``>``), so it can never
become a mention (``<!channel>``, ``<@U…>``, ``<!subteam^…>``) or a link in Slack.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime
from typing import Any

from bot.core.clock import unix
from bot.core.ports import NudgeMessage, RoundPost
from bot.core.wording import NUDGE_TITLES, Markup, nudge_text

SECTION_LIMIT = 3000  # characters in one section block's text
HEADER_LIMIT = 150
DEIDENTIFY_NOTE = "Change names and details so no client can be recognised."
ROUND_EVENT = "praxis_round"  # message metadata marking a round's prompt
REFLECT_ACTION = "praxis_reflect"  # the prompt's "Write reflection" button (value: round id)


def escape(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def date(moment: datetime, style: str = "{date_long_pretty} at {time}") -> str:
    """A date each reader sees in their own timezone, with a UTC fallback."""
    fallback = moment.strftime("%d %b %Y %H:%M UTC")
    return f"<!date^{unix(moment)}^{style}|{fallback}>"


#: Slack's mrkdwn for the core's sentences (see :mod:`bot.core.wording`).
MARKUP = Markup(
    bold=lambda text: f"*{text}*", when=date, thread=lambda _: "the round's thread", plain=escape
)


def section(text: str) -> dict[str, Any]:
    return {"type": "section", "text": {"type": "mrkdwn", "text": text[:SECTION_LIMIT]}}


def sections(text: str) -> list[dict[str, Any]]:
    """Long text as several sections, split at line or word ends, nothing dropped."""
    out, rest = [], text
    while len(rest) > SECTION_LIMIT:
        cut = rest.rfind("\n", 0, SECTION_LIMIT)
        if cut < SECTION_LIMIT // 2:
            cut = rest.rfind(" ", 0, SECTION_LIMIT)
        if cut < SECTION_LIMIT // 2:
            cut = SECTION_LIMIT
        out.append(section(rest[:cut]))
        rest = rest[cut:].lstrip("\n")
    if rest:
        out.append(section(rest))
    return out


def context(text: str) -> dict[str, Any]:
    return {"type": "context", "elements": [{"type": "mrkdwn", "text": text}]}


def header(text: str) -> dict[str, Any]:
    return {"type": "header", "text": {"type": "plain_text", "text": text[:HEADER_LIMIT]}}


def round_message(post: RoundPost, late_reason: str | None = None) -> dict[str, Any]:
    """The prompt: ``text`` (notifications), ``blocks`` and the metadata that marks it."""
    blocks: list[dict[str, Any]] = [header(f"Round {post.number} · {post.title}")]
    blocks += sections(escape(post.text))
    if post.structure:
        headings = "\n".join(f"*{i}.* {escape(h)}" for i, h in enumerate(post.structure, 1))
        blocks.append(section(f"_Write your reflection under these headings_\n{headings}"))
    blocks.append(context(f"_{DEIDENTIFY_NOTE}_"))
    blocks.append(
        section(
            f"*Reflections due* {date(post.reflect_due)}\n*Feedback due* {date(post.feedback_due)}"
        )
    )
    if post.late:
        blocks.append(
            context(
                f":alarm_clock: _{late_reason or 'Posted late.'} The deadlines are as planned._"
            )
        )
    blocks.append(reflect_button(post.round_id))
    blocks.append(
        context(
            f"{escape(post.cohort_name)} · reply in this thread with your reflection, or use "
            "*Write reflection*; to give feedback, reply in the thread and @mention the peer "
            "you're responding to, or pick *Give feedback* in their reflection's ⋮ menu."
        )
    )
    return {
        "text": f"Round {post.number} · {escape(post.title)}",
        "blocks": blocks,
        "metadata": {"event_type": ROUND_EVENT, "event_payload": {"round_id": post.round_id}},
    }


def reflect_button(round_id: int) -> dict[str, Any]:
    """Opens the reflection form (``bot.slack.reflect``); the round id makes it work for
    as long as the prompt stands, restarts included."""
    button = {"type": "button", "action_id": REFLECT_ACTION, "value": str(round_id),
              "style": "primary",
              "text": {"type": "plain_text", "text": "Write reflection"}}  # fmt: skip
    return {"type": "actions", "block_id": "praxis_reflect", "elements": [button]}


def nudge_message(message: NudgeMessage, thread_link: str | None) -> dict[str, Any]:
    style = MARKUP if thread_link is None else replace(MARKUP, thread=lambda _: thread_link)
    text = nudge_text(message, style)
    title = NUDGE_TITLES[message.kind]
    return {
        "text": f"{title}: {text}",
        "blocks": [
            section(f"*{title}*\n{text}"),
            context("Praxis · turn reminders off with `/praxis me nudges off`"),
        ],
    }


def notice(title: str, text: str) -> dict[str, Any]:
    text = from_core(text)
    return {"text": f"{title}: {text}", "blocks": [section(f"*{escape(title)}*\n{text}")]}


def from_core(text: str) -> str:
    """The core writes **bold** (Discord's markdown); Slack's mrkdwn bolds with one star."""
    return text.replace("**", "*")
