"""Praxis's one embed style: a coloured bar by tone, a title, and a quiet footer."""

from __future__ import annotations

from datetime import datetime
from enum import Enum
from zoneinfo import ZoneInfo

import discord

from bot.core.clock import unix
from bot.core.text import without_mentions


class Tone(Enum):
    INFO = discord.Colour.from_rgb(88, 101, 242)
    SUCCESS = discord.Colour.from_rgb(67, 160, 71)
    WARNING = discord.Colour.from_rgb(245, 166, 35)
    ERROR = discord.Colour.from_rgb(211, 47, 47)
    PROMPT = discord.Colour.from_rgb(94, 53, 177)


def embed(
    title: str, description: str | None = None, *, tone: Tone = Tone.INFO, footer: str | None = None
) -> discord.Embed:
    """Titles and footers carry cohort names and prompt titles, so they mention no one."""
    card = discord.Embed(
        title=without_mentions(title)[:256], description=description, colour=tone.value
    )
    if footer:
        card.set_footer(text=without_mentions(footer)[:2048])
    return card


def timestamp(moment: datetime, style: str = "F") -> str:
    """A Discord timestamp: each reader sees it in their own timezone."""
    return f"<t:{unix(moment)}:{style}>"


def when(moment: datetime) -> str:
    """Full date and time plus a relative hint, e.g. "Monday 2 March 09:00 (in 3 days)"."""
    return f"{timestamp(moment, 'F')} ({timestamp(moment, 'R')})"


def local_when(moment: datetime, timezone: str) -> str:
    """A moment on a cohort's own clock, e.g. "Monday 12 January 2026 at 10:00 (Europe/London),
    in 7 days": ``when`` shows each reader their own timezone, which may not be the cohort's."""
    local = moment.astimezone(ZoneInfo(timezone))
    day = f"{local:%A} {local.day} {local:%B %Y} at {local:%H:%M}"
    return f"{day} ({timezone}), {timestamp(moment, 'R')}"
