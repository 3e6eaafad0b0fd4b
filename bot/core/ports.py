"""What the core needs from a chat platform, without naming one.

The Discord adapter implements :class:`Chat`; a Slack adapter would implement the
same methods. Failures come back as :class:`DeliveryError`, which says whether trying
again later can help (a 500 or 429) or not without a person's help (a deleted channel,
a missing permission).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Protocol


class DeliveryError(Exception):
    def __init__(self, reason: str, *, permanent: bool, status: int | None = None) -> None:
        super().__init__(reason)
        self.reason = reason
        self.permanent = permanent
        self.status = status


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

    @property
    def thread_name(self) -> str:
        return f"Round {self.number} · {self.title}"[:100]


class Chat(Protocol):
    async def find_round_message(
        self, channel_id: int, round_id: int, since: datetime
    ) -> int | None:
        """The id of a prompt message already posted for ``round_id``, if there is one."""

    async def post_round(self, channel_id: int, post: RoundPost) -> int:
        """Post the prompt; returns the new message's id."""

    async def open_round_thread(self, channel_id: int, message_id: int, post: RoundPost) -> int:
        """Start (or find) the round's thread on its prompt message; returns the thread id."""
