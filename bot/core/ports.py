"""What the core needs from a chat platform, without naming one.

The Discord adapter implements :class:`Chat`; a Slack adapter would implement the
same methods. Failures come back as :class:`DeliveryError`, which says whether trying
again later can help (a 500 or 429) or not without a person's help (a deleted channel,
a missing permission).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import Enum
from typing import Protocol

from bot.core.text import without_mentions

#: Words every "Discord refused a permission" reason contains, so the core can tell a
#: round held up by permissions from one held up by an outage.
MISSING_PERMISSION = "missing permission"


class Delay(Enum):
    """Why a round went out late; the prompt says so, so nobody blames the wrong thing."""

    OFFLINE = "offline"  # Praxis wasn't running when the round was due
    PUT_BACK = "put_back"  # /cohort unskip after the round's opening time
    PERMISSIONS = "permissions"  # Discord refused a permission Praxis needs
    NO_PROMPTS = "no_prompts"  # the prompt bank was empty
    DISCORD = "discord"  # Discord errors, a lost connection or a vanished channel


class DeliveryError(Exception):
    def __init__(
        self,
        reason: str,
        *,
        permanent: bool,
        status: int | None = None,
        dms_closed: bool = False,
    ) -> None:
        super().__init__(reason)
        self.reason = reason
        self.permanent = permanent
        self.status = status
        self.dms_closed = dms_closed  # the member doesn't accept direct messages from us


@dataclass(frozen=True, slots=True)
class Person:
    """A member as the core needs them: an id and the name others know them by."""

    id: int
    name: str


@dataclass(frozen=True, slots=True)
class Posted:
    """One message of a list that may need several: its id and how many entries it carried.

    A platform limits what one message may hold (Discord: 2,000 characters, 100 people
    notified), so ``announce_pairs`` and ``nudge_in_thread`` each post one message with
    as many entries as fit, from the start, and the core calls again with the rest. The
    core records each part as it is posted, so a retry posts only what is missing.
    """

    message_id: int
    count: int  # the first ``count`` entries given, at least one


@dataclass(frozen=True, slots=True)
class NudgeMessage:
    """A reminder's content; the platform decides how it looks."""

    kind: str
    member: Person
    cohort_name: str
    round_id: int
    round_number: int
    round_title: str
    thread_id: int | None
    due: datetime
    feedback_given: int
    feedback_required: int
    peers: tuple[str, ...]
    words: int = 0  # short-post notes: what they wrote so far
    words_needed: int = 0  # ...and what counts


@dataclass(frozen=True, slots=True)
class RoundPost:
    """Everything a platform needs to render a round's prompt."""

    round_id: int
    cohort_name: str
    number: int
    title: str
    text: str
    structure: tuple[str, ...]
    opens_at: datetime
    reflect_due: datetime
    feedback_due: datetime
    late: bool
    delay: Delay = Delay.OFFLINE  # why, when late

    @property
    def thread_name(self) -> str:
        """A facilitator's title, made inert, then cut to Discord's 100-character limit."""
        return without_mentions(f"Round {self.number} · {self.title}")[:100]


class Chat(Protocol):
    async def find_round_message(
        self, channel_id: int, round_id: int, since: datetime
    ) -> int | None:
        """The id of a prompt message already posted for ``round_id``, if there is one."""

    async def post_round(self, channel_id: int, post: RoundPost) -> int:
        """Post the prompt; returns the new message's id."""

    async def open_round_thread(self, channel_id: int, message_id: int, post: RoundPost) -> int:
        """Start (or find) the round's thread on its prompt message; returns the thread id."""

    async def roster(self, cohort: object) -> list[Person] | None:
        """The cohort's members (its member role, facilitators left out); None if unknown now."""

    async def send_nudge(
        self, user_id: int, dm_channel_id: int | None, message: NudgeMessage
    ) -> int:
        """Send privately; returns the direct-message channel used (to remember it)."""

    async def nudge_in_thread(self, thread_id: int, messages: list[NudgeMessage]) -> Posted:
        """One message in the round's thread for members who can't be messaged privately,
        carrying as many of ``messages`` (from the first) as fit; see :class:`Posted`."""

    async def send_digest(self, cohort: object, summary: object, chart_png: bytes) -> None:
        """Give a closed round's summary and chart to the cohort's facilitators."""

    async def tell_facilitators(self, cohort: object, title: str, text: str) -> None:
        """A short message for the cohort's facilitators only (digest channel or DM)."""

    async def announce_pairs(
        self, thread_id: int, plan: dict[int, tuple[int, ...]], *, late: bool, continued: bool
    ) -> Posted:
        """One message of the round's feedback pairs (or a latecomer's), carrying as many
        reviewers of ``plan`` (in its order) as fit; ``continued`` when earlier parts of
        the same list are already posted. See :class:`Posted`."""
