"""The one error handler on Slack: known errors become a kind, private sentence.

A :class:`PraxisError` carries its own sentence for the person who caused it. A Slack
refusal gets a fixed sentence by its error code. Anything else is a bug: logged with
the command and the workspace, never with what anyone wrote, and the person gets a
private apology.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass

from slack_sdk.errors import SlackApiError

from bot.core.errors import PraxisError
from bot.slack.blocks import from_core
from bot.slack.chat import TOKEN_REFUSED

log = logging.getLogger(__name__)

APOLOGY = "Something went wrong on my side, and nothing was changed. Please try again in a moment."
SLACK_SENTENCES = {
    "channel_not_found": "I can't see that channel. If it's private, invite me to it first.",
    "not_in_channel": "I'm not in that channel: type `/invite @Praxis` there, then try again.",
    "is_archived": "That channel is archived.",
    "ratelimited": "Slack asked me to slow down. Please try again in a minute.",
    "expired_trigger_id": "That took too long for Slack. Please run the command again.",
}
REVOKED = (
    "Slack no longer accepts Praxis's access to this workspace (its token was revoked), so "
    "it can't do anything here. A workspace admin needs to reinstall Praxis."
)
SLACK_SENTENCES |= dict.fromkeys(TOKEN_REFUSED, REVOKED)


@dataclass
class Answer:
    """What went wrong, if anything: ``text`` is the sentence to show privately."""

    text: str | None = None


@asynccontextmanager
async def kind_errors(action: str, team: str | None) -> AsyncIterator[Answer]:
    answer = Answer()
    try:
        yield answer
    except PraxisError as error:
        answer.text = from_core(str(error))
    except SlackApiError as error:
        code = str(error.response.get("error", "")) if error.response else ""
        answer.text = SLACK_SENTENCES.get(code, f"Slack refused that ({code or 'no reason'}).")
        log.info("Slack refused %s in %s: %s", action, team, code)
    except Exception:
        log.exception("Unexpected error in %s (workspace %s)", action, team)
        answer.text = APOLOGY
