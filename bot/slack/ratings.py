"""Helpfulness ratings on Slack: the same question as on Discord, by direct message, with
two Block Kit buttons whose value is the feedback's message number (see bot/core/ratings).

The buttons carry everything their handler needs, so they work after a restart; pressing
the other one later changes the rating. A refusal (someone else's button) stores nothing.
The questions wait in :class:`bot.core.ratings.Questions` and go out paced, as on Discord.
"""

from __future__ import annotations

import logging
from typing import Any

from slack_sdk.errors import SlackApiError

from bot.core import ratings
from bot.pacing import Pace
from bot.slack.blocks import escape, section
from bot.slack.errors import kind_errors

log = logging.getLogger(__name__)

HELPFUL = "praxis_rate_helpful"
NOT_YET = "praxis_rate_not_yet"
#: Each question opens a DM (``conversations.open``, Slack's Tier 3: about 50 a minute)
#: and posts in it: 0.8 a second stays under that with room for nudges. A burst of 20
#: goes at once, so a cohort's ordinary feedback is asked about as it arrives.
QUESTIONS_PER_SECOND = 0.8
QUESTIONS_BURST = 20


def question(giver: str, feedback_number: int) -> dict[str, Any]:
    text = (
        f"{escape(giver)} responded to your reflection. Was it helpful? Only you see this; "
        "facilitators see counts, never who rated."
    )
    value = str(feedback_number)
    buttons = [
        {"type": "button", "action_id": HELPFUL, "value": value, "style": "primary",
         "text": {"type": "plain_text", "text": "Helpful"}},
        {"type": "button", "action_id": NOT_YET, "value": value,
         "text": {"type": "plain_text", "text": "Not yet"}},
    ]  # fmt: skip
    return {"text": text, "blocks": [section(text), {"type": "actions", "elements": buttons}]}


class Ratings:
    def __init__(self, runtime) -> None:
        self.rt = runtime
        pace = Pace(QUESTIONS_PER_SECOND, QUESTIONS_BURST)
        self.questions = ratings.Questions(lambda: runtime.db, self._send, runtime.now, pace)

    def register(self, app) -> None:
        app.action(HELPFUL)(self.on_rate)
        app.action(NOT_YET)(self.on_rate)

    def ask(self, feedback_number: int) -> None:
        """Queue the question to the reflection's writer about this feedback (asked once:
        claimed just before it is sent)."""
        self.questions.put([feedback_number])

    async def _send(self, asked: ratings.Ask) -> None:
        try:
            user = await self.rt.ids.text(asked.rater_id)
            opened = await self.rt.client.conversations_open(users=user)
            await self.rt.client.chat_postMessage(
                channel=opened["channel"]["id"],
                **question(asked.giver_name, asked.feedback_message_id),
            )
        except (KeyError, SlackApiError) as error:  # forgotten, DMs refused: no question
            log.info("Could not ask for a rating by DM (%s)", type(error).__name__)

    async def on_rate(self, ack, body, respond) -> None:
        await ack()
        action = body["actions"][0]
        async with kind_errors("rating feedback", body.get("team", {}).get("id")) as answer:
            rater = await self.rt.ids.known("user", body["user"]["id"])
            answer.text = await ratings.rate(
                self.rt.db,
                -1 if rater is None else rater,
                int(action.get("value") or 0),
                action["action_id"] == HELPFUL,
                self.rt.now(),
            )
        await respond(text=answer.text, response_type="ephemeral", replace_original=False)
