"""Spotting likely client identifiers in a reflection before it is shared.

Reflections are about real clients, so they must be de-identified. This module looks
for the few things that most often give a person away: e-mail addresses, phone
numbers, street addresses and postcodes, dates of birth, and names that follow a cue
such as "my client" or "Mr". It is a prompt to the writer, not a guarantee: it leans
towards precision (an alarm that cries wolf gets ignored) and misses what a person
would need context to see.

Every pattern is small, anchored on something concrete (an "@", a cue word, a street
suffix), and never nests one open-ended repeat inside another, so no input can make
it backtrack catastrophically. Platform-neutral: plain strings in, plain findings out.
"""

from __future__ import annotations

import asyncio
import logging
import multiprocessing
import os
import re
import threading
import time
from bisect import bisect_left
from concurrent.futures import Future, ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass, field

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class Finding:
    kind: str  # "email" | "phone" | "address" | "date_of_birth" | "name"
    text: str  # the matched text, exactly as written
    start: int  # offset in the input
    end: int
    # The word that made a name look like a name ("client", "Mr"), for ``describe``.
    # Not part of equality: two findings of the same text at the same place are equal.
    cue: str = field(default="", compare=False)


# When two patterns claim overlapping text, the more specific one wins.
_PRIORITY = ("email", "phone", "address", "date_of_birth", "name")

# Horizontal space only: a cue and a name on different lines are not one phrase.
_SP = r"[^\S\r\n]+"

# --- e-mail -------------------------------------------------------------------------
# local@domain.tld. The local part may not start mid-word, and every repeat is capped
# (RFC limits), so a long run of letters without an "@" is rejected at once.
_EMAIL = re.compile(
    r"(?<![\w.+%-])"
    r"[A-Za-z0-9][A-Za-z0-9._%+-]{0,63}"
    r"@[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?"
    r"(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?){0,8}"
    r"\.[A-Za-z]{2,24}\b"
)

# --- phone numbers --------------------------------------------------------------------
# Three concrete shapes rather than "any run of digits", so years, times, word counts,
# money and dates never look like phones. A match must also hold 9 to 15 digits.
_PHONE = re.compile(
    r"(?<![\w+/.,-])"  # not the tail of another number, word or date
    r"(?:"
    # International: +44 7700 900123, +44 (0)20 7946 0123, +1 202-555-0186, 0044 ….
    r"(?:\+|00)\d{1,3}(?:[ .-]?\(0\))?(?:[ .-]?\(?\d{1,5}\)?){2,5}"
    # UK national, starting with 0: 07700 900123, 020 7946 0123, (0113) 496 0321.
    r"|\(?0\d{2,4}\)?(?:[ .-]?\d{3,4}){1,2}"
    # North American: (212) 555-0147, 212-555-0147, 415.555.0132, 1-212-555-0147.
    r"|(?:1[ .-])?\(?\d{3}\)?[ .-]?\d{3}[ .-]?\d{4}"
    r")"
    r"(?![\w/]|[.,:-]\d)"  # and not the head of one
)
_PHONE_DIGITS = range(9, 16)

# --- addresses -------------------------------------------------------------------------
# UK postcode: outward code (SW1A, M1, B33) + inward code (1AA). Inward letters never
# use C, I, K, M, O or V, which keeps codes like "GAD 7" or "Y10 2C" out.
_POSTCODE = r"(?:[A-Z]{1,2}\d[A-Z\d]?[^\S\r\n]?\d[ABD-HJLNP-UW-Z]{2})"
_STATES = (
    "AL|AK|AZ|AR|CA|CO|CT|DE|DC|FL|GA|HI|ID|IL|IN|IA|KS|KY|LA|ME|MD|MA|MI|MN|MS|MO|MT|"
    "NE|NV|NH|NJ|NM|NY|NC|ND|OH|OK|OR|PA|RI|SC|SD|TN|TX|UT|VT|VA|WA|WV|WI|WY"
)
# A US ZIP counts only beside a state abbreviation ("OR 97201"); alone it is a number.
_STATE_ZIP = rf"(?:(?:{_STATES}){_SP}\d{{5}}(?:-\d{{4}})?)"
_TOWN = r"(?:[A-Z][a-z]+(?:[^\S\r\n][A-Z][a-z]+)?)"

# Full street words may be written in lower case; abbreviations must be capitalised,
# or "12 Oak st" and "3 Good ave" type slips would match ordinary prose.
_SUFFIX = (
    r"(?:(?i:street|road|avenue|lane|drive|close|court|crescent|way|place|gardens|"
    r"terrace|grove|square|boulevard|mews|parade)"
    r"|(?:St|Rd|Ave|Ln|Dr|Ct|Cres|Pl|Gdns|Sq|Blvd)\b\.?)"
)
_STREET_ADDRESS = re.compile(
    r"(?<![\w:/.,£$€%-])"  # a house number, not a time, price, decimal or range
    r"\d{1,4}[A-Za-z]?"  # 12, 7b
    rf"{_SP}(?P<street>(?:[A-Z][\w'’-]*{_SP}){{1,3}})"  # one to three capitalised words
    rf"(?P<suffix>{_SUFFIX})(?![\w'’])"
    # An optional town and postcode or state + ZIP right after the street.
    rf"(?:,?{_SP}(?:{_TOWN},?{_SP})?(?:{_POSTCODE}|{_STATE_ZIP})\b)?"
)
# A postcode or "Town, ST 12345" on its own still pins down where someone lives.
_LONE_POSTCODE = re.compile(rf"\b{_POSTCODE}\b")
_LONE_ZIP = re.compile(rf"\b(?:{_TOWN},{_SP})?{_STATE_ZIP}\b")
# "10 Crown Court" is a hearing, not a home.
_NOT_STREETS = frozenset(
    {"crown", "magistrates", "magistrates'", "youth", "county", "family", "high", "supreme"}
)


def _word_set(words: str) -> frozenset[str]:
    """A stop-list written as plain words, compared case-insensitively."""
    return frozenset(word.casefold() for word in words.split())


# --- dates of birth -----------------------------------------------------------------------
# Only a date beside a birth cue counts; "on 3 March I met her" is just diary.
_MONTH = (
    r"(?i:jan(?:uary)?|feb(?:ruary)?|mar(?:ch)?|apr(?:il)?|may|june?|july?|aug(?:ust)?|"
    r"sep(?:t(?:ember)?)?|oct(?:ober)?|nov(?:ember)?|dec(?:ember)?)\.?"
)
_ORD = r"(?:st|nd|rd|th)?"
_DATE = (
    r"(?:\d{4}-\d{1,2}-\d{1,2}"  # 2004-07-15
    r"|\d{1,2}[/.-]\d{1,2}[/.-](?:\d{4}|\d{2})(?!\d)"  # 14/02/1998, 09.11.03
    r"|\d{1,2}/\d{1,2}(?![\d/])"  # 14/02: partial, but next to a birth cue it is one
    rf"|\d{{1,2}}{_ORD}(?:{_SP}of)?{_SP}{_MONTH}(?:,?{_SP}\d{{4}})?"  # 3rd of March 1990
    rf"|{_MONTH}{_SP}\d{{1,2}}{_ORD}(?:,?{_SP}\d{{4}})?)"  # March 3, 1990
    r"(?![\w/])"
)
_BIRTH_CUE = (
    r"(?i:\bborn\b|\bd\.?o\.?b\b\.?|\bdate[^\S\r\n]+of[^\S\r\n]+birth\b"
    r"|\bbirth[^\S\r\n]*(?:day|date)\b)"
)
# Up to three short words may sit between cue and date ("born in Leeds on ..."), but
# not a conjunction, which would start a new clause about something else.
_GAP_WORD = r"(?!(?i:and|but|so|then|when|after|before|until|since|while)\b)[^\W\d_]+[\s,:]+"
_DOB_AFTER_CUE = re.compile(rf"{_BIRTH_CUE}[\s:,(–-]*(?:{_GAP_WORD}){{0,3}}(?P<value>{_DATE})")
# "12/06/2002 (DOB)" — the cue written after the date.
_DOB_BEFORE_CUE = re.compile(
    rf"(?<![\w/.-])(?P<value>{_DATE})[^\S\r\n]*[(,:–-]?[^\S\r\n]*"
    r"(?i:d\.?o\.?b\b\.?|date[^\S\r\n]+of[^\S\r\n]+birth\b)"
)

# --- names -----------------------------------------------------------------------------------
# A name is only looked for straight after a cue; capitalised words elsewhere are left
# alone (sentence starts, places, programmes). Titles are case-sensitive ("Miss Jones",
# not "I miss Jones"); role words are not ("Client Hannah Reid arrived").
_NAME_WORD = r"[^\W\d_]+(?:['’-][^\W\d_]+){0,3}"
_NAME_AFTER = rf"(?={_SP}(?P<first>{_NAME_WORD})(?:{_SP}(?P<second>{_NAME_WORD}))?)"
_TITLE_CUE = re.compile(rf"(?<![\w.])(?P<cue>Mrs|Mr|Ms|Miss|Mx|Dr)\.?{_NAME_AFTER}")
_ROLE_CUE = re.compile(
    r"(?<![\w'’-])(?P<cue>(?i:client|patient|service[^\S\r\n]+user|student|pupil|"
    r"young[^\S\r\n]+person))"
    # An optional comma or colon allows apposition and notes: "the patient, Daniel
    # Okafor, refused"; "Client: Tom Baker".
    rf"[,:]?{_NAME_AFTER}"
)
# "called"/"named" introduce names only after a person noun: "a girl called Poppy",
# never "I called Social Services" or "the group was called Moving On".
_NAMING_CUE = re.compile(
    r"(?<![\w'’-])(?P<noun>[^\W\d_]+)"
    rf"{_SP}(?P<cue>(?i:called|named)){_NAME_AFTER}"
)
_PERSON_NOUNS = _word_set(
    """
    client patient student pupil person someone somebody man woman girl boy lad lady
    guy child kid baby son daughter brother sister mum mother mom dad father partner
    husband wife boyfriend girlfriend friend friends cousin uncle aunt nephew niece
    neighbour neighbor colleague teacher tutor worker carer mentor officer nurse
    doctor counsellor counselor resident tenant learner user
    """
)
# The writer describing themself: "I'm a student called Alex", "As a student, I".
_FIRST_PERSON = re.compile(
    r"(?i:\b(?:(?:i\s+am|i['’]m|i\s+was)\s+(?:(?:a|an|the)\s+)?|as\s+an?\s+)"
    r"(?:[^\W\d_]+\s+)?)$"
)

# A capital inside a word, after a lower-case letter, marks a brand ("FaceTimed"), except
# after the name prefixes Mc, Mac, De, Di, La, Le and Fitz (McAllister, DeShawn, LaToya).
_CAMEL_CASE = re.compile(r"^(?!Mc|Mac|De|Di|La|Le|Fitz)[^\W\d_]*[^\W\d_A-Z][A-Z]")

# Capitalised words that follow a cue without being anyone's name.
_STOP_WORDS = _word_set(
    """
    I I'm I’m I've I’ve I'd I’d I'll I’ll Me My Mine We Our Us You Your He Him His She
    Her Hers It Its They Them Their This That These Those Who Whom Whose What Which Why
    How When Where Then There Here Now Today Yesterday Tomorrow Later Soon Still Also
    Again Just Even Only Not No Yes Ok Okay And But Or So If As At In On Of For With
    From To By Into About After Before Because While Although Though Since Until The
    A An Some Any All Every Each Both Either Neither Next Last First Second Third
    Monday Tuesday Wednesday Thursday Friday Saturday Sunday
    January February March April May June July August September October November
    December
    Mr Mrs Ms Miss Mx Dr Doctor Sir Madam Client Clients Patient Patients Student
    Students Pupil Pupils Person People User Users Teacher Tutor Worker Manager
    Supervisor Mentor Employee Learner
    Services Service Union Finance Loan Loans Support Advice Liaison Team Teams Record
    Records Notes Plan Centre Center Council Portal Hub Voice Forum Experience Journey
    Charter Care Safety Handbook Guidance Assessment Review Feedback Group Groups
    Office Welfare Wellbeing Health Leader Rep Representative Ambassador
    Centred Centered Focused Led Satisfaction Survey Contract Agreement File Files
    Involvement Participation Engagement Outcomes Data Information Consent Profile
    Portfolio Placement Placements Transport Zero
    Social Children's Children Family Families Police Ambulance Emergency Childline
    ChildLine Samaritans Mind Shelter Citizens Crisis Housing Court Council
    Mum Mom Dad Nan Nana Gran Granny Grandma Grandad Grandpa Auntie Uncle God
    English British Christmas Easter Ramadan Eid Diwali Hanukkah
    Men Man Right Wrong Who Nobody Nice Perfect Fixit Bean Blobby Martens Pepper
    Google Word Excel Zoom
    """
)


# Cheap gates, checked first because every thread message passes through here: e-mails,
# phones, addresses and dates all need a digit or an "@"; names need one of the cues.
_DIGIT_OR_AT = re.compile(r"[\d@]")
_TITLE_CUES = ("Mr", "Ms", "Mx", "Dr", "Miss")  # "Mrs" contains "Mr"
_WORD_CUES = ("client", "patient", "service", "student", "pupil", "young", "called", "named")


def _may_name(text: str) -> bool:
    """Plain substring checks: far cheaper than scanning with the name patterns."""
    if any(cue in text for cue in _TITLE_CUES):
        return True
    folded = text.casefold()
    return any(cue in folded for cue in _WORD_CUES)


def find_identifiers(text: str) -> list[Finding]:
    r"""Likely client identifiers in ``text``, sorted by start and non-overlapping.

    The same findings as :func:`find_identifiers_everywhere`, found cheaply: a real
    reflection mentions clients, ages, dates and times, so nearly every one has a digit and
    a cue word, and scanning all of it with every pattern cost ~1 ms (most of ingest). Here
    byte-level searches (C speed) find the few places a pattern could start, and each
    pattern is tried only there (``pattern.match(text, position)`` sees the whole text, so
    look-behinds and look-aheads behave as in a scan). A text with a character that the
    patterns' ``\d`` or case-insensitive letters treat as ASCII (a non-ASCII digit, the
    Kelvin sign, long s, dotted or dotless i) goes the slow way.
    """
    view = _ascii_view(text)
    if view is None:
        return find_identifiers_everywhere(text)
    low = view.lower()
    candidates: list[Finding] = []
    if b"@" in view:
        candidates += _emails(text)
    classes = view.translate(_CLASSES)  # digits "0", capitals "A", anything else "x"
    if b"0" in classes:
        candidates += _numbers(text, view, low, classes)
    candidates += _names_at(text, view, low)
    return _resolve(candidates)


def find_identifiers_everywhere(text: str) -> list[Finding]:
    """Every pattern over the whole text: the definition :func:`find_identifiers` follows,
    and its path for texts whose characters the byte-level searches can't stand for."""
    candidates: list[Finding] = []
    if _DIGIT_OR_AT.search(text):
        candidates += [*_emails(text), *_phones(text), *_addresses(text)]
        candidates += _dates_of_birth(text)
    if _may_name(text):
        candidates += _names(text)
    return _resolve(candidates)


# --- the fast path's searches --------------------------------------------------------------

# Non-ASCII characters that the patterns match as if they were ASCII: ``\d`` takes every
# decimal digit, and case-insensitive letters take the Kelvin sign (k), long s (s) and the
# dotted and dotless i (tests/test_privacy.py checks this list against ``re`` itself).
_ASCII_FOLDS = frozenset("\u0130\u0131\u017f\u212a")
_CLASSES = bytes(
    0x30 if 0x30 <= b <= 0x39 else 0x41 if 0x41 <= b <= 0x5A else 0x78 for b in range(256)
)
_BIRTH_WORDS = (b"born", b"birth", b"dob", b"d.o", b"do.b")  # every birth cue holds one
_ROLE_WORDS = (b"client", b"patient", b"service", b"student", b"pupil", b"young")
_TITLE_WORDS = (b"Mr", b"Ms", b"Mx", b"Dr", b"Miss")  # "Mrs" starts with "Mr"
_PHONE_OPENERS = (b"+", b"(")


def _ascii_view(text: str) -> bytes | None:
    """``text`` as bytes, one per character (others become "?"), or None if some character
    could take part in a match as an ASCII one would."""
    if text.isascii():
        return text.encode("ascii")
    if any(not c.isascii() and (c.isdecimal() or c in _ASCII_FOLDS) for c in set(text)):
        return None
    return text.encode("ascii", "replace")


def _positions(haystack: bytes, needles: tuple[bytes, ...]) -> list[int]:
    """Every offset where one of ``needles`` starts, ascending, without repeats."""
    found = set()
    for needle in needles:
        at = haystack.find(needle)
        while at >= 0:
            found.add(at)
            at = haystack.find(needle, at + 1)
    return sorted(found)


def _run_starts(classes: bytes, before: bytes) -> list[int]:
    """Where each run of digits right after a character of class ``before`` begins."""
    return [at + 1 for at in _positions(classes, (before + b"0",))]


def _matches_at(pattern: re.Pattern[str], text: str, starts: list[int]) -> list[re.Match[str]]:
    """What ``pattern.finditer(text)`` yields, given every position a match can start at."""
    found, end = [], 0
    for start in starts:
        if start >= end:
            m = pattern.match(text, start)
            if m is not None:
                found.append(m)
                end = m.end()
    return found


def _numbers(text: str, view: bytes, low: bytes, classes: bytes) -> list[Finding]:
    """Phones, addresses and dates of birth: each needs a digit. A match that starts with a
    digit starts a run of digits (the look-behinds refuse a digit, and streets and phones a
    letter, before it); a postcode's run follows its one or two capitals."""
    runs = _run_starts(classes, b"x")
    if classes[0] == 0x30:
        runs.insert(0, 0)
    found = []
    if classes.count(b"0") >= min(_PHONE_DIGITS) and (b"+" in view or b"000" in classes):
        starts = sorted({*runs, *_positions(view, _PHONE_OPENERS)})
        found += _phone_findings(text, _matches_at(_PHONE, text, starts))
    codes = []
    for at in _run_starts(classes, b"A"):
        codes += (at - 2, at - 1) if at >= 2 and classes[at - 2] == 0x41 else (at - 1,)
    found += _address_findings(
        text,
        _matches_at(_STREET_ADDRESS, text, runs),
        _matches_at(_LONE_POSTCODE, text, codes),
        _LONE_ZIP.finditer(text) if b"00000" in classes else (),
    )
    if any(cue in low for cue in _BIRTH_WORDS):
        found += _dates_of_birth(text)
    return found


def _names_at(text: str, view: bytes, low: bytes) -> list[Finding]:
    titles = _matches_at(_TITLE_CUE, text, _positions(view, _TITLE_WORDS))
    roles = _matches_at(_ROLE_CUE, text, _positions(low, _ROLE_WORDS))
    naming = _NAMING_CUE.finditer(text) if b"called" in low or b"named" in low else ()
    return _name_findings(text, titles, roles, naming)


def _emails(text: str) -> list[Finding]:
    return [_finding("email", text, m.start(), m.end()) for m in _EMAIL.finditer(text)]


def _phones(text: str) -> list[Finding]:
    return _phone_findings(text, _PHONE.finditer(text))


def _phone_findings(text: str, matches) -> list[Finding]:
    found = []
    for m in matches:
        if sum(c.isdigit() for c in m.group()) in _PHONE_DIGITS:
            found.append(_finding("phone", text, m.start(), m.end()))
    return found


def _addresses(text: str) -> list[Finding]:
    return _address_findings(
        text, _STREET_ADDRESS.finditer(text), _LONE_POSTCODE.finditer(text),
        _LONE_ZIP.finditer(text),
    )  # fmt: skip


def _address_findings(text: str, streets, postcodes, zips) -> list[Finding]:
    found = []
    for m in streets:
        before_suffix = m.group("street").split()[-1].casefold()
        if before_suffix in _NOT_STREETS and m.group("suffix").casefold() == "court":
            continue
        found.append(_finding("address", text, m.start(), m.end()))
    for matches in (postcodes, zips):
        found += [_finding("address", text, m.start(), m.end()) for m in matches]
    return found


def _dates_of_birth(text: str) -> list[Finding]:
    found = []
    for pattern in (_DOB_AFTER_CUE, _DOB_BEFORE_CUE):
        for m in pattern.finditer(text):
            found.append(_finding("date_of_birth", text, m.start("value"), m.end("value")))
    return found


def _names(text: str) -> list[Finding]:
    return _name_findings(
        text, _TITLE_CUE.finditer(text), _ROLE_CUE.finditer(text), _NAMING_CUE.finditer(text)
    )


def _name_findings(text: str, titles, roles, naming) -> list[Finding]:
    found = []
    for m in titles:
        found += _name_after(text, m)
    for m in roles:
        if not _first_person(text, m):
            found += _name_after(text, m)
    for m in naming:
        if m.group("noun").casefold() in _PERSON_NOUNS and not _first_person(text, m):
            found += _name_after(text, m)
    return found


def _first_person(text: str, m: re.Match[str]) -> bool:
    """Whether the words just before the cue are the writer describing themself."""
    return _FIRST_PERSON.search(text, max(0, m.start() - 40), m.start()) is not None


def _name_after(text: str, m: re.Match[str]) -> list[Finding]:
    """The one or two name-like words captured after a cue, if the first looks like one."""
    first, second = _strip_possessive(m.group("first")), m.group("second")
    if not _looks_like_name(first):
        return []
    start = m.start("first")
    end = start + len(first)
    if first == m.group("first") and second is not None:
        second = _strip_possessive(second)
        if _looks_like_name(second):
            end = m.start("second") + len(second)
    return [_finding("name", text, start, end, cue=m.group("cue"))]


def _strip_possessive(word: str) -> str:
    return word[:-2] if word[-2:] in ("'s", "’s") else word


def _looks_like_name(word: str) -> bool:
    return (
        len(word) >= 2
        and word[0].isupper()
        and any(c.islower() for c in word[1:])  # not an acronym like NHS or CAMHS
        and not _CAMEL_CASE.search(word)  # not a brand or verb like FaceTimed, PowerPoint
        and word.casefold() not in _STOP_WORDS
    )


def _finding(kind: str, text: str, start: int, end: int, cue: str = "") -> Finding:
    return Finding(kind, text[start:end], start, end, cue)


def _resolve(candidates: list[Finding]) -> list[Finding]:
    """Keep non-overlapping findings: the most specific kind first, then the longest."""
    rank = {kind: i for i, kind in enumerate(_PRIORITY)}
    candidates.sort(key=lambda f: (rank[f.kind], -(f.end - f.start), f.start))
    kept: list[Finding] = []
    starts: list[int] = []
    for f in candidates:
        i = bisect_left(starts, f.start)
        if i > 0 and kept[i - 1].end > f.start:
            continue
        if i < len(kept) and kept[i].start < f.end:
            continue
        kept.insert(i, f)
        starts.insert(i, f.start)
    return kept


# --- many texts, off the event loop ---------------------------------------------------------

#: Texts up to this many characters in all are checked on the event loop (about a
#: millisecond's work); a bigger batch goes to the checker process. Thread messages
#: arrive in bursts of hundreds, and checking 500 of them held the loop ~30 ms.
INLINE_CHARS = 20_000
#: When the checker process is gone, a batch is checked on the loop this many texts at a
#: time, yielding in between.
FALLBACK_CHUNK = 16
#: After the checker fails twice in a row, big batches are checked on the loop for this
#: long before a new checker is tried, doubling on each failure up to the maximum. Each
#: try spawns an interpreter, so a checker that can't start (no memory or processes left)
#: must not be tried per batch: a 15,000-message burst made 31 tries and logged 31
#: warnings, spending 0.8-1.3 s of the other core's CPU on interpreters that died.
RETRY_AFTER = 30.0
RETRY_AFTER_MAX = 600.0
_checker: ProcessPoolExecutor | None = None
_checker_lock = threading.Lock()
_failures = 0  # in a row, since the checker last answered
_retry_at = 0.0  # on the monotonic clock


async def find_identifiers_in(texts: list[str]) -> list[list[Finding]]:
    """:func:`find_identifiers` of each text, in order, without stalling the event loop.

    A small batch is checked right here. A big one goes to a long-lived worker process
    (started on first use, a thread starting it; stopped by :func:`stop_checker`), which
    works on the other core while the loop goes on storing and acknowledging. If that
    process dies, the batch is checked here after all, a few texts per turn of the loop:
    every text is checked whatever happens. If it fails twice in a row, big batches are
    checked here for a while before a new one is tried (``RETRY_AFTER``).
    """
    if sum(map(len, texts)) <= INLINE_CHARS:
        return [find_identifiers(text) for text in texts]
    if _clock() < _retry_at:  # it failed again lately: check here until the wait is over
        return await _find_here(texts)
    handed = _submit_now(texts) or await asyncio.to_thread(_submit, texts)
    if handed is None:  # no checker: a failure is being waited out
        return await _find_here(texts)
    pool, future = handed
    try:
        found = await asyncio.wrap_future(future)
    except (BrokenProcessPool, OSError, RuntimeError) as error:
        _checker_failed(pool, error)
        return await _find_here(texts)
    _checker_answered()
    results: list[list[Finding]] = [[] for _ in texts]
    for index, findings in found:
        results[index] = findings
    return results


def stop_checker() -> None:
    """Stop the checker process, if one was started, and forget its failures; the bot
    calls this when it closes."""
    global _checker, _failures, _retry_at
    with _checker_lock:
        pool, _checker = _checker, None
        _failures, _retry_at = 0, 0.0
    if pool is not None:
        pool.shutdown(wait=False, cancel_futures=True)


Handed = tuple[ProcessPoolExecutor, Future]


def _submit_now(texts: list[str]) -> Handed | None:
    """Hand the batch to a running checker; None if none runs (starting one takes a few
    milliseconds, so :func:`_submit` does that in a thread)."""
    with _checker_lock:
        pool = _checker
    return None if pool is None else _hand_over(pool, texts)


def _submit(texts: list[str]) -> Handed | None:
    """Hand the batch to the checker, starting one if none runs; None if none may start
    yet (a failure is being waited out) or it failed to start."""
    global _checker
    with _checker_lock:
        if _checker is None:
            if _clock() < _retry_at:
                return None
            try:
                _checker = ProcessPoolExecutor(
                    max_workers=1,
                    mp_context=multiprocessing.get_context("spawn"),
                    initializer=_exit_with_parent,
                    initargs=(os.getpid(),),
                )
            except (OSError, RuntimeError) as error:  # no pipe or semaphore left
                _note_failure(error)
                return None
        pool = _checker
    return _hand_over(pool, texts)


def _hand_over(pool: ProcessPoolExecutor, texts: list[str]) -> Handed:
    """``pool`` and the future of the batch handed to it. A failure to hand over (no
    process could be spawned, the pool is broken) comes out of the future like a failure
    to check, so that it is counted against the pool it happened to."""
    try:
        return pool, pool.submit(_find_sparse, texts)
    except (BrokenProcessPool, OSError, RuntimeError) as error:
        failed: Future = Future()
        failed.set_exception(error)
        return pool, failed


def _checker_failed(pool: ProcessPoolExecutor, error: BaseException) -> None:
    """Stop and forget ``pool``, the checker a batch failed with, and note the failure,
    unless it was already noted: several batches may have been handed to one checker."""
    global _checker
    with _checker_lock:
        if pool is not _checker:
            return
        _checker = None
        _note_failure(error)
    pool.shutdown(wait=False, cancel_futures=True)


def _note_failure(error: BaseException) -> None:
    """With the lock held: count a failure in a row and set when a new checker may be
    tried. A first failure retries at once (a worker killed once, say by the OOM killer,
    is replaced by the next batch); a second in a row waits ``RETRY_AFTER``, doubling up
    to ``RETRY_AFTER_MAX``."""
    global _failures, _retry_at
    _failures += 1
    wait = 0.0 if _failures == 1 else min(RETRY_AFTER * 2 ** (_failures - 2), RETRY_AFTER_MAX)
    _retry_at = _clock() + wait
    log.warning(
        "The identifier checker stopped (%s); checking here%s",
        type(error).__name__,
        f", and for the next {wait:.0f} s" if wait else "",
    )


def _checker_answered() -> None:
    global _failures
    _failures = 0


def _clock() -> float:
    return time.monotonic()


def _find_sparse(texts: list[str]) -> list[tuple[int, list[Finding]]]:
    """In the checker process: (index, findings) of the texts with any. Most have none,
    so only those travel back."""
    found = []
    for index, text in enumerate(texts):
        findings = find_identifiers(text)
        if findings:
            found.append((index, findings))
    return found


async def _find_here(texts: list[str]) -> list[list[Finding]]:
    results = []
    for start in range(0, len(texts), FALLBACK_CHUNK):
        results += [find_identifiers(text) for text in texts[start : start + FALLBACK_CHUNK]]
        await asyncio.sleep(0)
    return results


def _exit_with_parent(parent: int) -> None:
    """In the checker process: leave once the bot's process is gone. It holds both ends
    of its work queue, so a bot killed outright (SIGKILL, the OOM killer) would otherwise
    leave it waiting for work forever."""

    def watch() -> None:
        while os.getppid() == parent:
            time.sleep(1.0)
        os._exit(0)

    threading.Thread(target=watch, name="praxis-parent-watch", daemon=True).start()


# --- telling the member ---------------------------------------------------------------------

_MAX_ITEMS = 5
_MAX_QUOTE = 40
_COUNT_WORDS = {2: "two", 3: "three", 4: "four", 5: "five"}


def describe(findings: list[Finding]) -> str:
    """A short, kind summary of what was found, e.g.

    'an e-mail address (“jo@example.org”) and a full name after “client” (“Maria Lopez”)'.
    Repeats are mentioned once, findings of one sort are grouped ('two phone numbers
    (“…” and “…”)'), and past five items the rest are counted, not listed.
    """
    unique: dict[tuple[str, str], tuple[str, str, str]] = {}
    for f in findings:
        singular, plural = _labels(f)
        unique.setdefault((f.kind, f.text), (singular, plural, _quote(f.text)))
    items = list(unique.values())
    shown, rest = items[:_MAX_ITEMS], len(items) - _MAX_ITEMS
    groups: dict[str, list[str]] = {}
    plurals: dict[str, str] = {}
    for singular, plural, quote in shown:
        groups.setdefault(singular, []).append(f"“{quote}”")
        plurals[singular] = plural
    parts = [
        f"{singular} ({quotes[0]})"
        if len(quotes) == 1
        else f"{_COUNT_WORDS[len(quotes)]} {plurals[singular]} ({_join(quotes)})"
        for singular, quotes in groups.items()
    ]
    if rest > 0:
        return ", ".join(parts) + f" and {rest} more"
    return _join(parts)


def _join(parts: list[str]) -> str:
    if len(parts) <= 1:
        return "".join(parts)
    return ", ".join(parts[:-1]) + " and " + parts[-1]


def _labels(f: Finding) -> tuple[str, str]:
    """How to name a finding to the member: (one of them, several of them)."""
    if f.kind == "email":
        return "an e-mail address", "e-mail addresses"
    if f.kind == "phone":
        return "a phone number", "phone numbers"
    if f.kind == "address":
        if _LONE_POSTCODE.fullmatch(f.text) or _LONE_ZIP.fullmatch(f.text):
            return "a postcode", "postcodes"
        return "a street address", "street addresses"
    if f.kind == "date_of_birth":
        return "a date of birth", "dates of birth"
    full = len(f.text.split()) > 1
    singular, plural = ("a full name", "full names") if full else ("a name", "names")
    after = f" after “{f.cue}”" if f.cue else ""
    return singular + after, plural + after


def _quote(text: str) -> str:
    text = " ".join(text.split())
    return text if len(text) <= _MAX_QUOTE else text[: _MAX_QUOTE - 1] + "…"
