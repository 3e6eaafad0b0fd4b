"""What Praxis says to members, once, for every platform.

The sentences are the same on Discord and Slack; only the markup differs (bold, a
date each reader sees in their own timezone, a link to a thread, a mention). A platform
passes its :class:`Markup`; its adapter decides how the message looks around the text.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING

from bot.core.ports import NudgeMessage

if TYPE_CHECKING:
    from bot.core.reflections import Progress
    from bot.core.rounds import Round


def _as_is(text: str) -> str:
    return text


@dataclass(frozen=True, slots=True)
class Markup:
    bold: Callable[[str], str]
    when: Callable[[datetime], str]  # a date and time each reader sees in their own zone
    thread: Callable[[int], str]  # a link to a round's thread
    #: Text someone wrote (a title, a name) made inert: Slack escapes ``<``, ``>`` and ``&``.
    plain: Callable[[str], str] = _as_is


NUDGE_TITLES = {
    "short_reflection": "About your reflection",
    "short_feedback": "About your feedback",
    "reflect_reminder": "A gentle reminder",
    "reflect_last_call": "Reflections are due now",
    "feedback_reminder": "Your peers' reflections are waiting",
}
#: One member's line in a reminder posted where a private message couldn't go.
NUDGE_LINES = {
    "reflect_reminder": "your reflection is due",
    "reflect_last_call": "a late reflection is still welcome; they were due",
    "feedback_reminder": "responses to your peers are due",
}


def pairs_head(markup: Markup, *, late: bool, continued: bool) -> str:
    """The first line of a feedback-pairs message."""
    if late:
        more = markup.bold("More feedback pairs")
        return f"{more}, for a reflection that came in after the first list:"
    if continued:
        return markup.bold("Feedback pairs, continued:")
    return (
        f"{markup.bold('Feedback pairs for this round.')} Each of you is asked to respond to "
        "these peers' reflections, so that every reflection gets a reply. Responding to "
        "anyone else counts too."
    )


def nudge_text(message: NudgeMessage, markup: Markup, *, reply_hint: str = "") -> str:
    """The body of a private reminder or "doesn't count yet" note."""
    where = f" in {markup.thread(message.thread_id)}" if message.thread_id else ""
    round_name = (
        f"round {message.round_number} of {markup.bold(message.cohort_name)} "
        f"(“{message.round_title}”)"
    )
    name, due = message.member.name, markup.when(message.due)
    if message.kind == "short_reflection":
        return (
            f"Hi {name}, thank you for your reflection in {round_name}. So far it has "
            f"{message.words} words, and the cohort asks for at least {message.words_needed} "
            f"for it to count. You can add to it{where} (your messages join up) or edit what "
            "you wrote."
        )
    if message.kind == "short_feedback":
        return (
            f"Hi {name}, thank you for responding to a peer in {round_name}. Feedback counts "
            f"once it has at least {message.words_needed} words; yours has {message.words}. "
            "A few sentences on what struck you, and why, would make it count."
        )
    if message.kind == "reflect_reminder":
        return (
            f"Hi {name}, your reflection for {round_name} is due {due}. A few honest "
            f"paragraphs are plenty: reply{where}{reply_hint}."
        )
    if message.kind == "reflect_last_call":
        return (
            f"Hi {name}, reflections for {round_name} were due {due}. If you can still add "
            f"yours{where}, it will be recorded as late, and your peers will be glad to read it."
        )
    return (
        f"Hi {name}, you've responded to {message.feedback_given} of "
        f"{message.feedback_required} peers in {round_name}; feedback is due {due}. You could "
        f"respond to: {', '.join(message.peers)}. Reply to their reflection{where}."
    )


def progress_lines(round_: Round, progress: Progress, moment: datetime, markup: Markup) -> str:
    """A member's standing in the current round, as ``/me progress`` shows it."""
    plain = markup.plain
    if moment < round_.reflect_due:
        reflect_when = f"due {markup.when(round_.reflect_due)}"
    else:
        reflect_when = f"was due {markup.when(round_.reflect_due)}; a late one is still welcome"
    heading = markup.bold(f"Round {round_.number} · {plain(round_.title or '')}")
    where = f" in {markup.thread(round_.thread_id)}" if round_.thread_id else ""
    lines = [heading + where]
    if progress.reflected:
        late = " (after the deadline)" if progress.reflected_late else ""
        lines.append(f"✅ Reflection counted: {progress.reflection_words} words{late}.")
    elif progress.reflection_words:
        lines.append(
            f"✏️ Reflection started: {progress.reflection_words} of the "
            f"{progress.min_words} words it needs to count ({reflect_when})."
        )
    else:
        lines.append(f"📝 No reflection yet ({reflect_when}).")
    lines.append(
        f"💬 Feedback given to {progress.feedback_given} of {progress.feedback_required} peers."
    )
    if progress.feedback_owed and moment >= round_.feedback_due:
        lines.append("Feedback for this round has closed.")
    elif progress.feedback_owed:
        peers = ", ".join(plain(p.name) for p in progress.could_respond_to[:8])
        hint = f" You could respond to: {peers}." if peers else " Reflections will appear soon."
        lines.append(
            f"Still owed: {progress.feedback_owed}, due {markup.when(round_.feedback_due)}.{hint}"
        )
    return "\n".join(lines)
