"""Round summaries as Slack text, for the digest (facilitators only)."""

from __future__ import annotations

from bot.core.reports import RoundSummary
from bot.slack.blocks import date, escape

STATUS_WORDS = {
    "on_time": "on time",
    "late": "late",
    "short": "too short",
    "missing": "missing",
    "excused": "excused",
    "not_yet": "not yet",
}


def _names(people) -> str:
    listed = ", ".join(escape(p.name) for p in people[:15])
    more = f" and {len(people) - 15} more" if len(people) > 15 else ""
    return (listed + more) or "nobody"


def round_summary_text(summary: RoundSummary) -> str:
    round_ = summary.round
    lines = [
        f"*Digest · {escape(summary.cohort_name)} · round {round_.number}: {escape(round_.title)}*",
        f"Reflections: {summary.counted} of {summary.members} counted · {summary.on_time} on "
        f"time · {summary.late} late",
        f"Still missing ({len(summary.missing)}): {_names(summary.missing)}",
        f"Too short ({len(summary.short)}): {_names(summary.short)}",
        f"Feedback: {sum(s.feedback_given for _, s in summary.rows)} counted responses · "
        f"{summary.short_feedback} under the minimum · nudges sent: {summary.nudges_sent}",
        f"Reflections were due {date(round_.reflect_due)}; feedback {date(round_.feedback_due)}.",
    ]
    lines += [
        f"• {escape(person.name)}: {STATUS_WORDS.get(s.status, s.status)} · {s.words} words · "
        f"gave {s.feedback_given} · received {s.feedback_received}"
        for person, s in summary.rows[:200]
    ]
    return "\n".join(lines)
