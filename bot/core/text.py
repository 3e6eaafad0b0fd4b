"""Text as readers see it: counting words, laying out long posts, names that mention no one."""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

_INVISIBLE = re.compile("[\u200b-\u200f\u2060\ufeff]")
_WORD = re.compile(r"[^\W_]+(?:['’\-][^\W_]+)*")
_MENTION_TOKEN = re.compile(r"<([@#][!&]?)(\d+)>")
_MENTION_AT = re.compile(r"@(?=everyone|here|[!&]?\d)", re.IGNORECASE)
ZERO_WIDTH_SPACE = "\u200b"


def count_words(text: str | None) -> int:
    if not text:
        return 0
    return len(_WORD.findall(_INVISIBLE.sub("", text)))


def without_mentions(text: str) -> str:
    """``text`` still readable but mentioning no one, for names and titles a facilitator wrote.

    ``<@123>``, ``<@!123>``, ``<@&123>`` and ``<#123>`` lose their angle brackets, and a
    zero-width space after the ``@`` of ``@everyone``, ``@here`` and ``@123`` breaks them,
    as discord.py's ``escape_mentions`` does. Thread names and titles are shown to a whole
    cohort, so a prompt's title must not ping or name a role, a person or a channel.
    Unwrapping repeats, so ``<<#123>>`` cannot leave a working ``<#123>`` behind.
    """
    unwrapped, previous = text, None
    while unwrapped != previous:
        previous, unwrapped = unwrapped, _MENTION_TOKEN.sub(r"\1\2", unwrapped)
    return _MENTION_AT.sub("@" + ZERO_WIDTH_SPACE, unwrapped)


def chunk_sections(sections: list[tuple[str, str]], limit: int) -> list[str]:
    """Lay headed sections out as texts of at most ``limit`` characters each.

    Sections are kept whole where they fit and split at whitespace where they do not,
    so no word is cut and nothing the member wrote is dropped or altered.
    """
    blocks = [f"**{heading}**\n{body}" if heading else body for heading, body in sections]
    chunks: list[str] = []
    current = ""
    for block in blocks:
        candidate = f"{current}\n\n{block}" if current else block
        if len(candidate) <= limit:
            current = candidate
            continue
        if current:
            chunks.append(current)
        while len(block) > limit:
            cut = block.rfind(" ", 0, limit)
            cut = cut if cut > limit // 2 else limit
            chunks.append(block[:cut])
            block = block[cut:]
        current = block
    if current:
        chunks.append(current)
    return chunks


def count_body_words(text: str, headings: tuple[str, ...]) -> int:
    """Words in a form post, leaving out the heading lines Praxis added itself."""
    marks = {f"**{heading}**" for heading in headings}
    return count_words("\n".join(line for line in text.splitlines() if line not in marks))


@dataclass(frozen=True, slots=True)
class Line:
    """One line of a message that lists members, and the people it should notify."""

    text: str
    pings: tuple[int, ...] = ()


@dataclass(frozen=True, slots=True)
class Packed:
    """One message's worth: its text, whom it notifies, and how many lines it carries."""

    text: str
    pings: tuple[int, ...]
    count: int


def pack_lines(head: str, lines: Sequence[Line], *, max_chars: int, max_pings: int) -> list[Packed]:
    """Whole lines, in order, packed into as few messages as the platform's limits allow.

    Each message is ``head`` followed by lines, at most ``max_chars`` long and notifying
    at most ``max_pings`` distinct people. The limits are the caller's (the chat
    adapter knows its platform's), so this rule stays platform-neutral. Every message
    carries at least one line, so a caller posting them one by one always progresses;
    callers keep single lines short.
    """
    groups: list[list[Line]] = []
    size, pings = 0, set()
    for line in lines:
        new = set(line.pings) - pings
        if not groups or size + 1 + len(line.text) > max_chars or len(pings | new) > max_pings:
            groups.append([])
            size, pings, new = len(head), set(), set(line.pings)
        groups[-1].append(line)
        size, pings = size + 1 + len(line.text), pings | new
    return [
        Packed(
            "\n".join([head, *(line.text for line in group)]),
            tuple(dict.fromkeys(p for line in group for p in line.pings)),
            len(group),
        )
        for group in groups
    ]
