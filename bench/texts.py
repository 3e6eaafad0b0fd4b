"""Invented reflections shaped like the real thing, for the ingest bench and the detector tests.

A reflection in the helping professions talks about a client by first name, their age,
the date of a session, places and agencies, times and numbers: exactly the digits, capitals
and cue words ("my client", "the young person", "called") that wake the identifier
detector. A bench of one repeated word never reaches it. Every sentence here is assembled
from small invented parts; nothing is copied from real reflections.

``reflection(rng, identifier=...)`` gives one text of 60 to 400 words; ``planted`` says
which identifier (if any) it carries, so a caller can count what the detector should catch.
Identifiers use reserved ranges (example.org, Ofcom's 07700 900xxx drama numbers, the
unallocated ZZ postcode area), as ``tests/privacy_cases.py`` does.
"""

from __future__ import annotations

import random

FIRST_NAMES = (
    "Priya", "Tom", "Amara", "Jonah", "Leah", "Kwame", "Sofia", "Dmitri", "Ellie", "Yusuf",
    "Grace", "Mateo", "Hana", "Callum", "Zainab", "Oliver", "Niamh", "Tariq", "Rosa", "Ben",
)  # fmt: skip
SURNAMES = ("Okafor", "Lindqvist", "Hartley", "Moreau", "Castell", "Bramwell", "Adeyemi")
PLACES = (
    "Leeds", "Hollins Park", "the library", "Bradford", "the day centre", "Kirkgate",
    "the community hub", "Manchester", "the hostel", "Ashworth", "the drop-in", "Sheffield",
)  # fmt: skip
AGENCIES = (
    "Citizens Advice", "CAMHS", "the job centre", "the housing office", "Women's Aid",
    "the GP", "Probation", "the school nurse", "adult social care", "the food bank",
    "the Youth Offending Team", "a debt charity", "the careers service",
)  # fmt: skip
MONTHS = ("January", "March", "April", "June", "September", "October", "November")
WEEKDAYS = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday")
FEELINGS = (
    "anxious", "relieved", "out of my depth", "protective", "impatient", "moved", "tired",
    "curious", "defensive", "hopeful", "unsure", "stuck",
)  # fmt: skip
SKILLS = (
    "silence", "open questions", "summarising", "naming the feeling", "pacing",
    "checking understanding", "boundaries", "reflecting back", "agenda setting",
)  # fmt: skip

# Each part is a template; {name} is a client's first name, {they} a pronoun.
SITUATION = (
    "I met {name} on {weekday} at {place}, our {nth} session out of {total}.",
    "{name} is {age} and has been waiting {weeks} weeks for a reply from {agency}.",
    "On {day} {month} my client arrived {minutes} minutes late and said very little at first.",
    "The young person I work with, who is {age}, asked if we could meet at {place} instead.",
    "We had agreed to start at {hour}:{quarter}, and {name} came in at {hour}:{late}.",
    "{name} told me {they} had moved back to {place} after {weeks} weeks on a friend's sofa.",
    "My client was referred by {agency} in {month}, and this was our {nth} meeting.",
    "The student is {age} and wanted to talk about leaving the course before {month}.",
    "Session {nth} of {total} took place in Room {room} on {day}/{monthnum}.",
    "{name} had brought a letter from {agency} and asked me to read it aloud.",
)
FEELING = (
    "I noticed I felt {feeling} when {name} said {they} was thinking of giving up.",
    "Part of me wanted to fix it straight away, and I felt {feeling} about that urge.",
    "Looking back, I was {feeling} for most of the hour, and I think it showed.",
    "When the client went quiet I felt {feeling}, and I filled the silence too quickly.",
    "I was surprised by how {feeling} I felt after {name} left.",
    "My supervisor asked what I felt in the room, and the honest answer was {feeling}.",
)
PRACTICE = (
    "I tried {skill}, and {name} said more in the next five minutes than in the first {minutes}.",
    "Next time I want to use {skill} earlier, before I reach for advice.",
    "We spent about {minutes} minutes on the form for {agency}, which left little room for "
    "anything else.",
    "I kept my questions open and let {name} set the pace, which was harder than it sounds.",
    "I asked the student what a good outcome would look like by {month}, and we wrote it down.",
    "The service user said the last worker had promised a lot, so I was careful to promise "
    "nothing I could not do.",
    "We agreed {they} would call {agency} before our next meeting, and I would check in on "
    "{weekday}.",
    "I summarised what I had heard and {name} corrected me twice, which felt like progress.",
)
LEARNING = (
    "What I take from this is that {skill} matters more than any resource I can hand over.",
    "I am learning that my pace is not the client's pace.",
    "I want to bring this to supervision on {day} {month}, especially the moment I felt {feeling}.",
    "It reminded me of a placement {years} years ago and the worker who never rushed anyone.",
    "I think the relationship held, even though the plan did not.",
    "Next session I will start by asking what has changed since {weekday}, not what went wrong.",
    "I am still unsure whether I should have mentioned {agency} at all.",
    "About {percent} per cent of the hour was me talking, and I would like that to be less.",
)
FEEDBACK = (
    "Thank you for this, {writer}; the part about {skill} stayed with me.",
    "I recognised myself in the moment you felt {feeling}.",
    "Have you thought about asking what the client wants from {agency} first?",
    "I liked how you named your own reaction instead of hiding it.",
    "I had a similar session in {month} and found that slowing down helped.",
)

PLAIN = (
    "today I noticed the group settle differently after we tried a slower opening and I "
    "wonder whether my questions left enough room for the quieter members to speak next "
    "time I want to pause longer check understanding and name what I saw"
)
PLAIN_WORDS = tuple(PLAIN.split())

# (kind, template): the one identifier a planted text carries, as the detector sees it.
IDENTIFIERS = (
    ("name", "My client {name} {surname} asked me not to write any of this down."),
    ("email", "{name} wrote to me from {lower}.{surname_lower}@example.org over the weekend."),
    ("phone", "{they_cap} left a mobile number, 07700 900{digits}, on the sign-in sheet."),
    ("address", "We met at {house} Larkspur Close, where {they} lives with {their} nan."),
    ("date_of_birth", "The referral form gives the date of birth as {day}/{monthnum}/19{yy}."),
    ("date_of_birth", "{they_cap} was born on {day} {month} 20{yy2}, and mentioned it twice."),
    ("address", "{their_cap} postcode is ZZ{room_digit} {room_digit}ZZ, in the new estate."),
    ("name", "Mr {surname} rang afterwards to ask how his son had been."),
)


def _slots(rng: random.Random, writer: str) -> dict[str, str]:
    name = rng.choice(FIRST_NAMES)
    surname = rng.choice(SURNAMES)
    they, their = rng.choice((("she", "her"), ("he", "his"), ("they", "their")))
    hour = rng.randint(9, 16)
    return {
        "name": name,
        "surname": surname,
        "lower": name.lower(),
        "surname_lower": surname.lower(),
        "they": they,
        "they_cap": they.capitalize(),
        "their": their,
        "their_cap": their.capitalize(),
        "writer": writer,
        "age": str(rng.randint(14, 78)),
        "weeks": str(rng.randint(2, 12)),
        "minutes": str(rng.choice((5, 10, 15, 20, 40))),
        "place": rng.choice(PLACES),
        "agency": rng.choice(AGENCIES),
        "weekday": rng.choice(WEEKDAYS),
        "day": str(rng.randint(1, 28)),
        "month": rng.choice(MONTHS),
        "monthnum": f"{rng.randint(1, 12):02d}",
        "nth": rng.choice(("first", "second", "third", "fourth", "fifth", "sixth")),
        "total": str(rng.randint(6, 12)),
        "hour": str(hour),
        "quarter": rng.choice(("00", "15", "30", "45")),
        "late": str(rng.randint(20, 55)),
        "room": str(rng.randint(1, 40)),
        "room_digit": str(rng.randint(1, 9)),
        "feeling": rng.choice(FEELINGS),
        "skill": rng.choice(SKILLS),
        "years": str(rng.randint(2, 15)),
        "percent": str(rng.choice((30, 40, 50, 60, 70))),
        "house": str(rng.randint(2, 120)),
        "digits": f"{rng.randint(0, 999):03d}",
        "yy": f"{rng.randint(60, 99)}",
        "yy2": f"{rng.randint(0, 9):02d}",
    }


def reflection(
    rng: random.Random, *, identifier: bool = False, low: int = 60, high: int = 400
) -> tuple[str, str | None]:
    """(text, planted kind or None): a reflection of ``low`` to ``high`` words.

    Lengths lean short (most reflections are a paragraph or two) with a tail to ``high``.
    """
    target = min(high, max(low, int(rng.triangular(low, high, low + (high - low) // 4))))
    writer = rng.choice(FIRST_NAMES)
    slots = _slots(rng, writer)
    parts = [rng.choice(SITUATION), rng.choice(FEELING)]
    pools = (PRACTICE, FEELING, LEARNING, SITUATION, PRACTICE, LEARNING)
    while sum(len(p.split()) for p in parts) < target:
        parts.append(rng.choice(pools[len(parts) % len(pools)]))
    # New slot values now and then, so a long text meets more than one name and date.
    sentences = [
        part.format(**(slots if i % 3 else _slots(rng, writer) | {"name": slots["name"]}))
        for i, part in enumerate(parts)
    ]
    room = high - 15 if identifier else high  # an identifier sentence is under 15 words
    while len(" ".join(sentences).split()) > room and len(sentences) > 2:
        sentences.pop()
    planted = None
    if identifier:
        planted, template = rng.choice(IDENTIFIERS)
        sentences.insert(rng.randint(1, len(sentences) - 1), template.format(**slots))
    text = " ".join(sentences)
    return text, planted


def feedback(rng: random.Random, writer: str) -> str:
    """A short reply to a peer's reflection (15 to 80 words)."""
    slots = _slots(rng, writer)
    parts = [rng.choice(FEEDBACK) for _ in range(rng.randint(2, 5))]
    return " ".join(p.format(**slots) for p in parts)


def plain(rng: random.Random, low: int = 60, high: int = 220) -> str:
    """Ordinary prose with no digits, names or cue words: the detector's cheapest case."""
    return " ".join(rng.choices(PLAIN_WORDS, k=rng.randint(low, high)))
