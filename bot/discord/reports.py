"""Rendering reports for Discord: one round-summary embed for /report round and digests."""

from __future__ import annotations

import io

import discord

from bot.core.reports import MemberSummary, RoundSummary
from bot.discord.embeds import Tone, embed, timestamp

STATUS_WORDS = {
    "on_time": "✅ on time",
    "late": "🕒 late",
    "short": "✏️ too short",
    "missing": "— missing",
    "not_yet": "⏳ not yet",
    "excused": "excused",
}
TABLE_LIMIT = 3800  # characters of per-member lines that fit in an embed description


def names(people) -> str:
    listed = ", ".join(p.name for p in people[:15])
    return listed + (f" and {len(people) - 15} more" if len(people) > 15 else "") or "nobody"


def round_embed(summary: RoundSummary) -> tuple[discord.Embed, discord.File | None]:
    """The summary; the per-member table inline when it fits, else attached as a text file."""
    round_ = summary.round
    card = embed(
        f"{summary.cohort_name} · round {round_.number}: {round_.title}",
        tone=Tone.INFO,
        footer=f"Reflections due {round_.reflect_due:%d %b %H:%M} UTC · "
        f"feedback due {round_.feedback_due:%d %b %H:%M} UTC",
    )
    card.add_field(
        name="Reflections",
        value=f"{summary.counted} of {summary.members} counted · {summary.on_time} on time · "
        f"{summary.late} late{summary.private_words}",
        inline=False,
    )
    waiting, label = (
        (summary.not_yet, "Not yet")
        if summary.reflections_open
        else (summary.missing, "Still missing")
    )
    card.add_field(name=f"{label} ({len(waiting)})", value=names(waiting)[:1024], inline=False)
    card.add_field(
        name=f"Too short ({len(summary.short)})", value=names(summary.short)[:1024], inline=False
    )
    if summary.excused:
        card.add_field(
            name=f"Excused ({len(summary.excused)})", value=names(summary.excused)[:1024]
        )
    card.add_field(
        name="Feedback",
        value=f"{sum(s.feedback_given for _, s in summary.rows)} counted responses · "
        f"{summary.short_feedback} under the minimum{summary.rating_words}",
    )
    card.add_field(name="Nudges sent", value=str(summary.nudges_sent))
    lines = [
        f"{person.name}: {STATUS_WORDS[s.status]} · {s.words} words · gave {s.feedback_given} · "
        f"received {s.feedback_received}"
        for person, s in summary.rows
    ]
    table = "\n".join(lines)
    if len(table) <= TABLE_LIMIT:
        card.description = table or "No members yet."
        return card, None
    card.description = "The per-member table is attached (too long for one message)."
    data = io.BytesIO(table.encode("utf-8"))
    return card, discord.File(data, filename=f"round-{round_.number}-members.txt")


def member_embed(cohort_name: str, summary: MemberSummary) -> discord.Embed:
    average = summary.average_words
    card = embed(f"{summary.person.name} · {cohort_name}", tone=Tone.INFO)
    card.add_field(
        name="Reflections",
        value=f"{summary.count('on_time')} on time · {summary.count('late')} late · "
        f"{summary.count('short')} too short · {summary.count('missing')} missing · "
        f"{summary.count('excused')} excused"
        + (f" · {summary.count('not_yet')} not yet" if summary.count("not_yet") else ""),
        inline=False,
    )
    card.add_field(name="Feedback given", value=str(summary.feedback_given))
    card.add_field(name="Feedback received", value=str(summary.feedback_received))
    card.add_field(name="Average words", value="—" if average is None else f"{average:.0f}")
    card.add_field(name="Current streak", value=f"{summary.streak} round(s)")
    history = "\n".join(
        f"R{round_.number} ({timestamp(round_.slot_at, 'd')}): {STATUS_WORDS[s.status]}, "
        f"{s.words} words, gave {s.feedback_given}, received {s.feedback_received}"
        for round_, s in summary.per_round[-20:]
    )
    card.description = history or "No rounds yet."
    return card
