"""A member's CPD portfolio: their year of practice as one printable HTML page.

Continuing professional development asks helping professionals to keep a record of their
reflective practice. This gathers, for one member in one server or workspace, every posted
round of the cohorts they are in (and any other cohort they wrote in): the prompt, their own
reflection, its dates and word count, and the feedback peers gave them. Never another
member's reflection: the page goes to the member alone.

The page is rendered by Jinja2 from a packaged template with autoescaping on, so whatever
anyone wrote (``<script>``, ampersands, any script or language) stays text. Platform-neutral:
the platform decides which cohorts the member is in and how to hand them the bytes.
"""

from __future__ import annotations

import asyncio
import re
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime
from zoneinfo import ZoneInfo

from jinja2 import Environment, PackageLoader, StrictUndefined
from markupsafe import Markup, escape

from bot.core.clock import from_db, from_db_optional
from bot.core.text import giver_shown
from bot.storage import privacy as store
from bot.storage.db import Database

FILENAME = "praxis-portfolio.html"

# A platform's mention token: Discord's <@123>/<@!123>/<@&123>, Slack's <@U0123ABC>.
_MENTION = re.compile(r"<@[!&]?[A-Z0-9]+>")
_ADDRESSING = re.compile(r"^(?:\s*<@[!&]?[A-Z0-9]+>[\s,:]*)+")


@dataclass(frozen=True, slots=True)
class Written:
    """One message: a part of the member's reflection, or one piece of feedback to them."""

    text: str | None  # None: removed (see ``removed``)
    removed: str  # why the text is gone, in words; "" while it is there
    posted: str  # local date and time, in words
    late: bool
    words: int
    edited: bool
    by: str = ""  # the giver's display name, for feedback
    private: bool = False  # a reflection sent to the facilitators only


@dataclass(slots=True)
class Page:
    """One round: its prompt, the member's reflection and the feedback they received."""

    anchor: str
    cohort: str
    number: int
    title: str
    prompt: str
    opened_at: datetime
    opened: str
    reflection_due: str
    reflection: list[Written] = field(default_factory=list)
    feedback: list[Written] = field(default_factory=list)

    @property
    def words(self) -> int:
        return sum(part.words for part in self.reflection)

    @property
    def late(self) -> bool:
        return any(part.late for part in self.reflection)


async def portfolio(
    db: Database,
    guild_id: int,
    user_id: int,
    cohort_ids: list[int],
    *,
    member_name: str,
    place: str,
    now: datetime,
) -> bytes:
    """The member's portfolio as UTF-8 HTML. ``cohort_ids``: the cohorts the platform says
    they belong to here; cohorts they wrote in are added, so leaving one keeps its record."""
    pages = await gather(db, guild_id, user_id, cohort_ids)
    # Rendering a long year is CPU work: keep it off the event loop.
    return await asyncio.to_thread(render, pages, member_name=member_name, place=place, now=now)


async def gather(db: Database, guild_id: int, user_id: int, cohort_ids: list[int]) -> list[Page]:
    """One :class:`Page` per posted round, oldest first within each cohort."""
    authored = [
        row for row in await store.authored(db, guild_id, user_id) if row["kind"] == "reflection"
    ]
    received = await store.received(db, guild_id, user_id)
    wanted = {*cohort_ids, *(row["cohort_id"] for row in (*authored, *received))}
    rounds = await store.portfolio_rounds(db, guild_id, sorted(wanted))
    zones = {row["id"]: ZoneInfo(row["timezone"]) for row in rounds}
    pages = {row["id"]: _page(row, zones[row["id"]]) for row in rounds}
    for row in authored:
        if row["round_id"] in pages:
            pages[row["round_id"]].reflection.append(_written(row, zones[row["round_id"]]))
    for row in received:
        if row["round_id"] in pages:
            feedback = _written(row, zones[row["round_id"]], by=giver_shown(row))
            pages[row["round_id"]].feedback.append(feedback)
    return list(pages.values())


def _page(row, zone: ZoneInfo) -> Page:
    return Page(
        anchor=f"c{row['cohort_id']}-r{row['number']}",
        cohort=row["cohort"],
        number=row["number"],
        title=row["title"] or f"Round {row['number']}",
        prompt=row["text"] or "",
        opened_at=from_db(row["posted_at"]),
        opened=_when(row["posted_at"], zone),
        reflection_due=_when(row["reflect_due"], zone),
    )


def _written(row, zone: ZoneInfo, *, by: str = "") -> Written:
    if row["text"] is not None:
        removed = ""
    elif row["deleted_at"] is not None:
        removed = "Removed: the message was deleted."
    else:
        removed = "Removed: the text is no longer kept (the cohort's retention period)."
    return Written(
        text=_readable(row["text"]),
        removed=removed,
        posted=_when(row["posted_at"], zone),
        late=bool(row["late"]),
        words=row["word_count"],
        edited=row["edited_at"] is not None,
        by=by,
        private=bool(row["private"]),
    )


def _readable(text: str | None) -> str | None:
    """Mention tokens mean nothing on paper: the one addressing the member goes, and any
    other becomes "@member" (the page names only the people it must)."""
    if text is None:
        return None
    return _MENTION.sub("@member", _ADDRESSING.sub("", text))


def _when(stored: str | None, zone: ZoneInfo) -> str:
    moment = from_db_optional(stored)
    if moment is None:
        return ""
    local = moment.astimezone(zone)
    return f"{local:%a} {local.day} {local:%b %Y, %H:%M} ({zone.key})"


_ENV = Environment(
    loader=PackageLoader("bot.core", "templates"),
    autoescape=True,  # every text in the page is someone's writing
    undefined=StrictUndefined,
    trim_blocks=True,
    lstrip_blocks=True,
)
_HEADING_LINE = re.compile(r"^\*\*(.+)\*\*$")


def _with_headings(text: str) -> Markup:
    """A form post's heading lines (``**What happened**``, which Praxis added) shown bold,
    without the asterisks; every line escaped first, so what people wrote stays text."""
    lines = []
    for line in text.split("\n"):
        found = _HEADING_LINE.match(line.strip())
        lines.append(
            Markup("<strong>{}</strong>").format(found.group(1)) if found else escape(line)
        )
    return Markup("\n").join(lines)


_ENV.filters["with_headings"] = _with_headings


def render(pages: list[Page], *, member_name: str, place: str, now: datetime) -> bytes:
    """The HTML page for these rounds (pure: the same pages give the same bytes)."""
    template = _ENV.get_template("portfolio.html.j2")
    cohorts = list(dict.fromkeys(page.cohort for page in pages))
    by_cohort: dict[str, list[Page]] = defaultdict(list)
    for page in pages:
        by_cohort[page.cohort].append(page)
    html = template.render(
        member_name=member_name,
        place=place,
        made=f"{now.day} {now:%B %Y}",
        cohorts=cohorts,
        by_cohort=by_cohort,
        pages=pages,
        reflections=sum(1 for page in pages if page.words),  # a deleted one counts 0 words
        words=sum(page.words for page in pages),
        feedback=sum(len(page.feedback) for page in pages),
        period=_period(pages),
    )
    return html.encode("utf-8")


def _period(pages: list[Page]) -> str:
    """First and last round dates, e.g. "5 January 2026 – 23 March 2026"."""
    if not pages:
        return ""
    first, last = (
        f"{moment.day} {moment:%B %Y}"
        for moment in (min(p.opened_at for p in pages), max(p.opened_at for p in pages))
    )
    return first if first == last else f"{first} – {last}"
