"""Round and member summaries as Slack mrkdwn: the digest and ``/praxis report`` (facilitators
only), one renderer for both, as ``bot/discord/reports.py`` is on Discord."""

from __future__ import annotations

from bot.core.reports import MemberSummary, RoundSummary
from bot.slack.blocks import date, escape

STATUS_WORDS = {
    "on_time": "on time",
    "late": "late",
    "short": "too short",
    "missing": "missing",
    "excused": "excused",
    "not_yet": "not yet",
}
TABLE_ROWS = 200  # members listed one per line; beyond that, the export has them all


def _names(people) -> str:
    listed = ", ".join(escape(p.name) for p in people[:15])
    more = f" and {len(people) - 15} more" if len(people) > 15 else ""
    return (listed + more) or "nobody"


def round_summary_text(summary: RoundSummary, heading: str = "Digest") -> str:
    round_ = summary.round
    waiting, label = (
        (summary.not_yet, "Not yet")
        if summary.reflections_open
        else (summary.missing, "Still missing")
    )
    lines = [
        f"*{heading} · {escape(summary.cohort_name)} · round {round_.number}: "
        f"{escape(round_.title)}*",
        f"Reflections: {summary.counted} of {summary.members} counted · {summary.on_time} on "
        f"time · {summary.late} late{summary.private_words}",
        f"{label} ({len(waiting)}): {_names(waiting)}",
        f"Too short ({len(summary.short)}): {_names(summary.short)}",
    ]
    if summary.excused:
        lines.append(f"Excused ({len(summary.excused)}): {_names(summary.excused)}")
    due = "are due" if summary.reflections_open else "were due"
    lines += [
        f"Feedback: {sum(s.feedback_given for _, s in summary.rows)} counted responses · "
        f"{summary.short_feedback} under the minimum{summary.rating_words} · "
        f"nudges sent: {summary.nudges_sent}",
        f"Reflections {due} {date(round_.reflect_due)}; feedback {date(round_.feedback_due)}.",
    ]
    lines += [
        f"• {escape(person.name)}: {STATUS_WORDS.get(s.status, s.status)} · {s.words} words · "
        f"gave {s.feedback_given} · received {s.feedback_received}"
        for person, s in summary.rows[:TABLE_ROWS]
    ]
    if len(summary.rows) > TABLE_ROWS:
        lines.append(f"…and {len(summary.rows) - TABLE_ROWS} more: the export lists everyone.")
    return "\n".join(lines)


def member_summary_text(cohort_name: str, summary: MemberSummary) -> str:
    """One member across the cohort's rounds, as Discord's ``/report member`` card."""
    average = summary.average_words
    counts = (
        f"{summary.count('on_time')} on time · {summary.count('late')} late · "
        f"{summary.count('short')} too short · {summary.count('missing')} missing · "
        f"{summary.count('excused')} excused"
    )
    if summary.count("not_yet"):
        counts += f" · {summary.count('not_yet')} not yet"
    lines = [
        f"*{escape(summary.person.name)} · {escape(cohort_name)}*",
        f"Reflections: {counts}",
        f"Feedback given: {summary.feedback_given} · received: {summary.feedback_received} · "
        f"average words: {'—' if average is None else f'{average:.0f}'} · "
        f"current streak: {summary.streak} round(s)",
    ]
    lines += [
        f"• R{round_.number} ({date(round_.slot_at, '{date_short}')}): "
        f"{STATUS_WORDS[s.status]}, {s.words} words, gave {s.feedback_given}, "
        f"received {s.feedback_received}"
        for round_, s in summary.per_round[-20:]
    ] or ["No rounds yet."]
    return "\n".join(lines)
