r"""Text as a reader sees it: what counts as a word, and when two names are the same name.

A word needs at least one letter or digit a reader can see; emoji, punctuation and symbols
are not words. Invisible characters neither make words nor split them: format characters
(category Cf: zero-width spaces and joiners, direction marks, tags), combining marks
(category M: accents, vowel signs, harakat, which belong to the letter before them) and
the Hangul jamo fillers U+115F/U+1160 are taken out before counting. So a decomposed
"café", "नमस्ते" and a word sprinkled with zero-width spaces are one word each, and a
message of fillers or lone marks is none. The blank-looking characters (U+3164 HANGUL
FILLER and U+FFA0, category Lo, which ``\w`` takes for letters; U+2800 BRAILLE BLANK)
show as a gap, so they part words as a space does.

It also lays long posts out in parts, packs member lists into messages, and makes
mentions inert in names and titles.
"""

from __future__ import annotations

import itertools
import re
import unicodedata
from collections.abc import Callable, Sequence
from dataclasses import dataclass

_MENTION_TOKEN = re.compile(r"<([@#][!&]?)(\d+)>")
_MENTION_AT = re.compile(r"@(?=everyone|here|[!&]?\d)", re.IGNORECASE)
ZERO_WIDTH_SPACE = "\u200b"

#: Letters (category Lo, so ``\w`` takes them) or symbols that show only a blank gap.
_BLANK_CHARS = "\u3164\uffa0\u2800"
#: Jamo fillers: invisible alone, a placeholder inside an old-style Hangul syllable.
_JAMO_FILLERS = "\u115f\u1160"
#: Zero-width joiners that shape Persian, Indic scripts and emoji: kept in display names.
_SHAPING_JOINERS = "\u200c\u200d"
#: Marks Unicode calls default-ignorable (grapheme joiner, Khmer inherent vowels, Mongolian
#: and other variation selectors): kept in display names, left out of name keys.
_IGNORABLE_MARKS = frozenset(
    map(chr, (0x34F, 0x17B4, 0x17B5, *range(0x180B, 0x1810), *range(0xFE00, 0xFE10),
              *range(0xE0100, 0xE01F0)))
)  # fmt: skip


def _class_of(codes: list[int]) -> str:
    """A regex character class for the code points ``codes``, written as ranges."""
    spans: list[list[int]] = []
    for code in sorted(codes):
        if spans and spans[-1][1] == code - 1:
            spans[-1][1] = code
        else:
            spans.append([code, code])
    body = "".join(
        re.escape(chr(a)) if a == b else f"{re.escape(chr(a))}-{re.escape(chr(b))}"
        for a, b in spans
    )
    return f"[{body}]"


def _invisible_by_category() -> tuple[set[str], set[str]]:
    """Every format character (Cf) and every mark (M), per this Python's unicodedata.

    They live only in planes 0, 1 and 14; one scan of those at import takes about 30 ms
    and keeps the sets right when Python's Unicode version moves on.
    """
    formats: set[str] = set()
    marks: set[str] = set()
    category = unicodedata.category
    for char in map(chr, itertools.chain(range(0x20000), range(0xE0000, 0xE1000))):
        kind = category(char)
        if kind == "Cf":
            formats.add(char)
        elif kind[0] == "M":
            marks.add(char)
    return formats, marks


_ASTRAL = re.compile("[\U00010000-\U0010ffff]")


def _remover(chars: set[str]) -> Callable[[str], str]:
    """A fast ``text -> text without chars``.

    One regex class holding both planes would be ten times slower: ``re`` checks the
    hundred-odd ranges above U+FFFF one by one for every character. So the Basic
    Multilingual Plane goes through a class ``re`` turns into a bitmap, and the characters
    above it (emoji mostly, which stay) are looked up in a set.
    """
    basic = re.compile(_class_of([ord(c) for c in chars if c <= "\uffff"]))
    astral = frozenset(c for c in chars if c > "\uffff")

    def keep(match: re.Match[str]) -> str:
        return "" if match.group() in astral else match.group()

    def remove(text: str) -> str:
        text = basic.sub("", text)
        if astral.isdisjoint(_ASTRAL.findall(text)):
            return text
        return _ASTRAL.sub(keep, text)

    return remove


_FORMAT, _MARKS = _invisible_by_category()
#: Before counting words: they neither make a word nor split one.
_strip_uncounted = _remover(_FORMAT | _MARKS | set(_JAMO_FILLERS))
#: Out of names: everything invisible, except the joiners that shape scripts and emoji.
_strip_hidden = _remover((_FORMAT - set(_SHAPING_JOINERS)) | set(_JAMO_FILLERS))
#: Out of name keys: everything invisible.
_strip_invisible = _remover(_FORMAT | set(_JAMO_FILLERS) | _IGNORABLE_MARKS)
_BLANK = re.compile(f"[{_BLANK_CHARS}]")
_LETTERS = rf"[^\W_{_BLANK_CHARS}]+"
_WORD = re.compile(rf"{_LETTERS}(?:['’\-]{_LETTERS})*")


def count_words(text: str | None) -> int:
    """Words a reader would count (see the module docstring); fast for plain ASCII."""
    if not text:
        return 0
    if text.isascii():
        return _count_ascii_words(text.encode("ascii"))
    return len(_WORD.findall(_strip_uncounted(text)))


# In ASCII, ``_WORD`` is runs of letters and digits joined by single apostrophes or hyphens.
_WORD_CLASSES = (
    bytes(0x61 if chr(b).isalnum() else 0x6A if chr(b) in "'-" else 0x20 for b in range(128))
    + b" " * 128
)


def _count_ascii_words(text: bytes) -> int:
    """``len(_WORD.findall(text))`` at C speed (a reflection is ~1,300 characters): letters
    and digits become "a", joiners "j", the rest spaces. Where no two joiners touch, a
    joiner either joins two letters or stands beside a space, so dropping every joiner
    leaves one run of "a" per word; otherwise joined runs are merged first."""
    runs = text.translate(_WORD_CLASSES)
    if b"jj" not in runs:
        runs = runs.translate(None, b"j")
        return runs.count(b" a") + (runs[:1] == b"a")
    while b"aja" in runs:  # twice at most: "a-b-c" leaves one join after the first pass
        runs = runs.replace(b"aja", b"aa")
    return (b" " + runs).count(b" a") + runs.count(b"ja")


def tidy_line(text: str) -> str:
    """One line as it should be stored and shown: composed (NFC), invisible characters out
    (the zero-width joiners that shape scripts and emoji stay), blank-looking letters as
    spaces, runs of whitespace as one space and none at either end."""
    text = unicodedata.normalize("NFC", _strip_hidden(text))
    return " ".join(_BLANK.sub(" ", text).split())


def name_key(text: str) -> str:
    """What makes two names one name: invisible characters, spacing, compatibility forms
    ("ＡＵＴＵＭＮ") and case set aside. Invisible characters go first: left in, a zero-width
    joiner would keep an accent from composing with its letter."""
    text = _strip_invisible(_BLANK.sub(" ", text))
    text = unicodedata.normalize("NFKC", unicodedata.normalize("NFKC", text).casefold())
    return " ".join(text.split())


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
    blocks = [_headed(heading, body) for heading, body in sections]
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


def _headed(heading: str, body: str) -> str:
    return f"**{heading}**\n{body}" if heading else body


def headed_text(sections: list[tuple[str, str]]) -> str:
    """Headed sections as one text, headings marked the way :func:`count_body_words` knows."""
    return "\n\n".join(_headed(heading, body) for heading, body in sections)


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


def peer_label(number: int) -> str:
    """The name anonymous form feedback is posted under: one number per giver per round."""
    return f"Peer {number}"


def giver_shown(post) -> str:
    """Who a member is told gave feedback: its label if it was posted anonymously (a row
    with ``peer_number``), else the giver's name."""
    number = post["peer_number"]
    return peer_label(number) if number is not None else post["author_name"]
