"""``praxis demo``: a whole term of Praxis on a simulated Discord or Slack, in seconds, with
no token.

Why it exists: someone deciding whether to run Praxis (or reviewing a change to it) can
watch a term happen — prompts posted, reflections and peer feedback, reminders, digests,
reports — without creating a Discord application or a Slack app. The real, unmodified bot
runs against SimCord's in-memory Discord or slacksim's Slack; a facilitator and learners act
through the same commands, buttons, forms and thread replies people use. Nothing is faked
inside the bot.

What a term *is* lives here (:class:`Term`): learners with seeded habits, each week's plan
of reflections (one private), feedback (the form answers the cohort's feedback guide, and
is anonymous), an excuse, the writers' helpfulness ratings and the ticks, the transcript,
the CSV and PNG, and one learner's CPD portfolio page. How a
platform is *driven* lives in a :class:`Platform` per platform (``bot.demo_discord``,
``bot.demo_slack``): its people, its commands and where the bot's answers show up.

How: APScheduler is off (it reads the wall clock, not the simulator's), so the demo moves
the simulated clock forward and calls ``bot.tick(now)`` at each moment something is due,
exactly as the tests do. Every choice learners make comes from one ``random.Random(seed)``,
and the simulators' ids and timestamps come from their frozen clocks, so a seed always gives
the same transcript and a byte-identical CSV, PNG and portfolio.

The texts are invented for this demo: short, generic sentences with no names or client
details, mixed by the seeded generator.
"""

from __future__ import annotations

import csv
import io
import random
import tempfile
import textwrap
from collections.abc import Awaitable, Callable, Hashable
from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from importlib import import_module
from pathlib import Path
from typing import Any, Protocol

MEMBER_RANGE = (2, 50)
WEEK_RANGE = (1, 12)
COHORT = "Practice Circle"
FACILITATOR = "Ruth"
MIN_WORDS, FEEDBACK_MIN_WORDS, FEEDBACK_REQUIRED = 30, 8, 2
REFLECT_HOURS, FEEDBACK_HOURS, NUDGE_HOURS = 72, 144, 24
WEEK = timedelta(days=7)
WRAP = 100
#: The cohort's settings, as the facilitator gives them (option names as in /cohort create).
SETTINGS = {
    "min_words": MIN_WORDS,
    "feedback_min_words": FEEDBACK_MIN_WORDS,
    "feedback_required": FEEDBACK_REQUIRED,
    "reflect_hours": REFLECT_HOURS,
    "feedback_hours": FEEDBACK_HOURS,
    "reflect_nudge_hours": NUDGE_HOURS,
    "feedback_nudge_hours": NUDGE_HOURS,
}
#: Feedback given through the Give feedback form is posted as "Peer 1", "Peer 2"…
ANONYMOUS_FEEDBACK = True

# Made-up names for the learners (never the facilitator's).
NAMES = (
    "Amara", "Bea", "Cyrus", "Dalia", "Emeka", "Farah", "Gio", "Hana", "Idris", "Jonas",
    "Kaia", "Leon", "Mira", "Nico", "Odile", "Priya", "Quinn", "Rafa", "Saoirse", "Tomas",
    "Uma", "Vik", "Wren", "Xavi", "Yara", "Zeke", "Ayo", "Bruno", "Chiara", "Dev",
    "Elif", "Finn", "Greta", "Hugo", "Ines", "Jules", "Kenji", "Lina", "Malik", "Nadia",
    "Oren", "Pia", "Sami", "Tove", "Ugo", "Vera", "Willa", "Yusuf", "Zara", "Bodhi",
)  # fmt: skip

# Original sentences in a learner's voice; no names, places or client details.
REFLECTION_SENTENCES = (
    "I noticed I was already planning my answer while the person was still talking.",
    "When I let the silence sit a little longer, they added the part that mattered most.",
    "My instinct was to reassure straight away, and I can see now that it closed things down.",
    "I asked one open question instead of three closed ones, and the whole session slowed.",
    "Afterwards I felt tired in a way that told me I had been carrying their worry for them.",
    "Supervision helped me separate what belonged to the young person from what was mine.",
    "I was nervous about naming the difficulty, but saying it plainly seemed to bring relief.",
    "I realised I had set the goal for the session before I had even walked into the room.",
    "Reading my notes back, I saw how often I wrote about problems and how rarely about strengths.",
    "The family meeting was loud, and I had to work hard to keep the quietest voice in view.",
    "Next time I want to ask what the person hopes to get from our time before I offer anything.",
    "I underestimated how much a late start would unsettle someone who had travelled far to come.",
    "It struck me that my careful plan mattered far less than simply being consistent.",
    "I felt a strong pull to solve the practical problem myself, though it was not my decision.",
    "Looking back, the most useful thing I did was admit that I did not know the answer.",
    "I want to practise summarising before moving on, because it caught a misunderstanding today.",
    "When they challenged me I felt defensive at first, then curious about what sat underneath.",
    "A colleague showed me a gentle way to end a session on time, and I want to borrow it.",
    "I am learning that a pause is not a failure, even when it feels long to me.",
    "The person knew far more about their own situation than my assessment form allowed for.",
    "I will take this to supervision, because I am still unsure where the boundary should sit.",
    "Writing this down, I can see my frustration was about my own timetable rather than theirs.",
    "Small things helped, like offering water, sitting at an angle and checking the pace.",
    "I tried to hold hope for them without promising an outcome I could not guarantee.",
    "My plan is to ask more about what has worked before, not only about what went wrong.",
    "I noticed my tone changed when I felt out of my depth, and I think they noticed too.",
    "It took me a while to see that their caution was a reasonable response to past services.",
    "I am glad I stayed with the discomfort instead of rushing to change the subject.",
)
SHORT_REFLECTIONS = (
    "Still gathering my thoughts on this one, more to follow.",
    "A busy week, so just a quick note: I listened more than I talked.",
    "Placeholder for now; it was a hard session to put into words.",
)
FEEDBACK_SENTENCES = (
    "Your point about letting the silence sit really landed for me; I rush to fill gaps too.",
    "I wonder what might have changed if you had named the pressure you were feeling out loud.",
    "Thank you for being so honest about wanting to fix things; it made me look at my own habits.",
    "I liked how you caught your own tone shifting, which is hard to notice in the moment.",
    "Have you thought about asking what helped last time? It might take some weight off you.",
    "This reminded me of a session of my own where slowing down made all the difference.",
    "Your plan for next week sounds realistic, and I would love to hear how it goes.",
    "You seem quite hard on yourself here; it sounds like you handled a tricky moment with care.",
    "Separating their goals from your own timetable is something I want to try as well.",
    "I really value that you took this to supervision instead of carrying it on your own.",
)
SHORT_FEEDBACK = ("Lovely, thank you for sharing.", "So relatable!", "Great reflection.")

#: A round report's status, as the participation table marks it.
MARKS = {"on time": "✓", "late": "L", "too short": "s", "missing": "–", "excused": "E"}
LEGEND = "✓ on time · L late · s too short · – missing · E excused"


class DemoError(Exception):
    """The bot answered a demo step differently than a working Praxis would."""


@dataclass(frozen=True, slots=True)
class DemoOptions:
    members: int = 8
    weeks: int = 4
    seed: int = 1
    out: Path = Path("praxis-demo")
    platform: str = "discord"


@dataclass(frozen=True, slots=True)
class DemoResult:
    lines: list[str]
    csv_path: Path
    png_path: Path
    portfolio_path: Path


def option_problem(members: int, weeks: int) -> str | None:
    """One sentence saying what is wrong with the sizes, or ``None`` when they are usable."""
    for label, value, (low, high) in (
        ("--members", members, MEMBER_RANGE),
        ("--weeks", weeks, WEEK_RANGE),
    ):
        if not low <= value <= high:
            return f"{label} must be between {low} and {high}, not {value}."
    return None


# ------------------------------------------------------------------------- the platform


@dataclass(frozen=True, slots=True)
class Created:
    """The facilitator's cohort set-up: what they did, what Praxis said, the first round."""

    said: str  # the command (and form) as the transcript shows it
    reply: str  # Praxis's answer, as plain text
    first_slot: datetime


class Platform(Protocol):
    """How a term is driven on one simulated platform: its people, its commands, and where
    the bot's answers show up. A learner's ``key`` is their id on the platform; a "post" is
    whatever the platform needs to answer a reflection (a message)."""

    label: str  # "a simulated Discord (SimCord)", for the first line
    nudges_off_command: str  # what a learner runs to turn reminders off
    reports_said: str  # the reports the facilitator runs, for the transcript
    export_command: str
    chart_command: str
    portfolio_command: str  # what a learner runs for their CPD portfolio
    reflection_form: bool  # learners can write a reflection in a form
    feedback_form: bool  # ...and give feedback through one

    def now(self) -> datetime: ...
    async def advance(self, seconds: float) -> None: ...
    async def tick(self, moment: datetime) -> Any: ...
    async def learner_key(self, member_id: int) -> Hashable: ...
    def add_learner(self, name: str) -> Any: ...
    async def create_cohort(self) -> Created: ...
    async def nudges_off(self, actor: Any) -> None: ...
    async def open_round(self, number: int) -> str: ...
    async def reflect(self, actor: Any, text: str) -> Any: ...
    async def reflect_in_form(self, actor: Any, fill: Callable[[list[str]], dict]) -> Any: ...
    async def feedback(self, actor: Any, post: Any, peer: Hashable, text: str) -> None: ...
    async def feedback_in_form(
        self, actor: Any, post: Any, peer: Hashable, fill: Callable[[list[str]], dict]
    ) -> None: ...
    def pairs(self) -> dict[Hashable, list[Hashable]]: ...
    async def excuse(self, actor: Any) -> None: ...
    async def digest(self, number: int) -> str: ...
    async def round_rows(self, number: int) -> list[tuple[str, str, int, int]]: ...
    async def export_csv(self) -> bytes: ...
    async def chart_png(self) -> bytes: ...
    async def reflect_privately(self, actor: Any, text: str) -> None: ...
    async def rate(self, actor: Any, helpful: Callable[[], bool]) -> list[bool]: ...
    async def portfolio_html(self, actor: Any) -> bytes: ...


def platform_for(name: str, database: Path) -> AbstractAsyncContextManager[Platform]:
    """The platform's simulator, with Praxis started on it over ``database``."""
    return import_module(f"bot.demo_{name}").driven(database)


# --------------------------------------------------------------------------- the people


@dataclass(slots=True)
class Learner:
    """A simulated learner: their actor on the platform and the habits the seed gave them."""

    actor: Any
    name: str
    diligence: float  # how likely they are to reflect, and on time
    likes_form: bool  # writes reflections in the form rather than in the thread

    @property
    def id(self) -> Hashable:
        return self.actor.id


@dataclass(slots=True)
class WeekLog:
    """What happened in one round, for the transcript."""

    number: int
    title: str = ""
    reflections: dict[Hashable, str] = field(default_factory=dict)  # id → "form", "late", ...
    feedback: dict[Hashable, int] = field(default_factory=dict)  # id → replies given
    short_feedback: int = 0
    via_menu: int = 0
    excused: list[Hashable] = field(default_factory=list)
    ratings: dict[Hashable, list[bool]] = field(default_factory=dict)  # id → helpful or not
    nudges: dict[str, list[Hashable]] = field(default_factory=dict)  # kind → ids
    pairs_posted: bool = False
    digest: str = ""


# -------------------------------------------------------------------------- the demo


async def run_demo(options: DemoOptions) -> DemoResult:
    """Run the term on the chosen platform with a throwaway database; write the CSV and PNG
    to ``out``."""
    options.out.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="praxis-demo-") as tmp:
        async with platform_for(options.platform, Path(tmp) / "demo.db") as platform:
            return await Term(platform, options).play()


class Term:
    """One cohort's term, driven week by week through the real commands and ticks."""

    def __init__(self, platform: Platform, options: DemoOptions) -> None:
        self.platform, self.options = platform, options
        self.rng = random.Random(options.seed)
        self.lines: list[str] = []
        self.learners: list[Learner] = []
        self.names: dict[Hashable, str] = {}

    def say(self, text: str, indent: int = 0) -> None:
        """Add to the transcript, wrapped so long lists of names stay readable."""
        pad = " " * indent
        if not text:
            self.lines.append("")
        self.lines.extend(
            textwrap.wrap(
                text,
                WRAP,
                initial_indent=pad,
                subsequent_indent=pad + "  ",
                break_on_hyphens=False,
                break_long_words=False,
            )
        )

    async def play(self) -> DemoResult:
        opts = self.options
        weeks = f"{opts.weeks} week{'s' if opts.weeks > 1 else ''}"
        self.say(
            f"Praxis demo · seed {opts.seed} · {opts.members} learners · {weeks} · "
            f"the real bot on {self.platform.label}"
        )
        first_slot = await self.set_up()
        for number in range(1, opts.weeks + 1):
            await self.play_week(number, first_slot + (number - 1) * WEEK)
        return await self.report()

    # ---------------------------------------------------------------------- set-up

    async def set_up(self) -> datetime:
        """Seed the learners, create the cohort as the facilitator, and one opt-out."""
        for name in sorted(self.rng.sample(NAMES, self.options.members)):
            actor = self.platform.add_learner(name)
            learner = Learner(actor, name, self.rng.uniform(0.7, 0.98), self.rng.random() < 0.4)
            self.learners.append(learner)
            self.names[actor.id] = name
        created = await self.platform.create_cohort()
        self.say(created.said)
        self.say(
            f"Praxis: {created.reply} First round {created.first_slot:%a %d %b %H:%M} UTC; "
            f"reflections due {REFLECT_HOURS} h later, feedback {FEEDBACK_HOURS} h.",
            2,
        )
        self.say(
            "Anonymous feedback is on: Give feedback posts as “Peer 1”, “Peer 2”…; "
            "thread replies keep the giver's name.",
            2,
        )
        await self.opt_out()
        return created.first_slot

    async def opt_out(self) -> None:
        """One learner turns private reminders off, so the transcript shows they are skipped."""
        learner = self.rng.choice(self.learners)
        await self.platform.nudges_off(learner.actor)
        self.quiet = learner.id
        self.say(
            f"Learners: {', '.join(x.name for x in self.learners)}. {learner.name} "
            f"ran {self.platform.nudges_off_command}."
        )

    # ------------------------------------------------------------------------ a week

    async def play_week(self, number: int, slot: datetime) -> None:
        """Post the round, play the week's events in time order, then summarise it."""
        log = WeekLog(number)
        await self.tick(slot, log)
        log.title = await self.platform.open_round(number)
        self.posted: dict[Hashable, Any] = {}  # learner id → their reflection's first post
        self.answered: dict[Hashable, set[Hashable]] = {}  # learner id → peers responded to
        self.known_pairs: dict[Hashable, list[Hashable]] | None = None
        events = self.plan_week(number, slot, log)
        for moment, _, action in sorted(events, key=lambda e: (e[0], e[1])):
            await self.advance_to(moment)
            await action()
        self.summarise(log, slot)

    def plan_week(self, number: int, slot: datetime, log: WeekLog) -> list:
        """Every learner's choices for the week, as timed actions; ticks at the due moments."""
        events: list[tuple[datetime, int, Callable[[], Awaitable[None]]]] = []
        excused = self.pick_excused(number)
        private_week = number == self.options.weeks
        if excused is not None:
            events.append((slot + timedelta(hours=1), 0, lambda: self.excuse(excused, log)))
        for learner in self.learners:
            if learner is excused:
                continue
            choice = self.reflect_choice(learner)
            if private_week and choice in ("early", "reminded"):
                choice, private_week = "private", False  # one, in the last week
            windows = {"early": (1, 47), "private": (1, 47), "short": (1, 47),
                       "reminded": (49, 71), "late": (73, 100)}  # fmt: skip
            if choice in windows:
                at = self.between(slot, *windows[choice])
                events.append((at, 1, self.reflect_action(learner, choice, log)))
            for _ in range(self.feedback_count(learner, choice)):
                early = self.rng.random() < learner.diligence
                at = self.between(slot, *((73, 119) if early else (121, 143)))
                events.append((at, 2, self.feedback_action(learner, log)))
        due = slot + timedelta(hours=REFLECT_HOURS)
        for offset in (-NUDGE_HOURS, 0):
            events.append((due + timedelta(hours=offset), 0, self.tick_action(due, offset, log)))
        closes = slot + timedelta(hours=FEEDBACK_HOURS)
        events.append((closes - timedelta(hours=NUDGE_HOURS), 0, lambda: self.tick_now(log)))
        events.append((closes, 0, lambda: self.close(log)))
        return events

    def between(self, slot: datetime, first_hour: int, last_hour: int) -> datetime:
        """A whole minute in ``[slot + first_hour, slot + last_hour)``, from the seed."""
        return slot + timedelta(minutes=self.rng.randrange(first_hour * 60, last_hour * 60))

    def pick_excused(self, number: int) -> Learner | None:
        """In the second week (the first if there is only one) a learner is excused."""
        if number != min(2, self.options.weeks):
            return None
        others = [x for x in self.learners if x.id != self.quiet]
        return self.rng.choice(others)

    def reflect_choice(self, learner: Learner) -> str:
        """early, reminded (after the reminder), late, short or skip, weighted by diligence."""
        roll, d = self.rng.random(), learner.diligence
        if roll < 0.06:
            return "short"
        if roll < d * 0.65:
            return "early"
        if roll < d * 0.88:
            return "reminded"
        return "late" if roll < d else "skip"

    def feedback_count(self, learner: Learner, choice: str) -> int:
        """Diligent reflectors respond to both peers asked of them; others to fewer, or none."""
        if choice == "skip":
            return 1 if self.rng.random() < 0.2 else 0
        roll = self.rng.random()
        return 2 if roll < learner.diligence - 0.25 else (1 if roll < 0.92 else 0)

    # --------------------------------------------------------------------- actions

    async def advance_to(self, moment: datetime) -> None:
        """Move the simulated clock: messages are stamped with it, and deadlines compare to it."""
        seconds = (moment - self.platform.now()).total_seconds()
        if seconds > 0:
            await self.platform.advance(seconds)

    async def tick(self, moment: datetime, log: WeekLog) -> None:
        """Run everything due now, as the scheduler would, and note nudges and pairs."""
        report = await self.platform.tick(moment)
        for member_id, kind in report.nudges.by_dm:
            key = await self.platform.learner_key(member_id)
            log.nudges.setdefault(kind, []).append(key)
        for member_id, kind in report.nudges.in_thread:  # only if their DMs were closed
            key = await self.platform.learner_key(member_id)
            log.nudges.setdefault(f"{kind} in the thread", []).append(key)
        log.pairs_posted = log.pairs_posted or bool(report.assigned)
        self.known_pairs = None  # a tick may have posted the pairs
        if report.failed_steps:
            raise DemoError(f"A tick failed at {moment:%a %H:%M}: {report.failed_steps}")

    def tick_action(self, due: datetime, offset: int, log: WeekLog):
        return lambda: self.tick(due + timedelta(hours=offset), log)

    async def tick_now(self, log: WeekLog) -> None:
        await self.tick(self.platform.now(), log)

    async def excuse(self, learner: Learner, log: WeekLog) -> None:
        """The facilitator excuses a learner from this round."""
        await self.platform.excuse(learner.actor)
        log.excused.append(learner.id)

    def reflect_action(self, learner: Learner, choice: str, log: WeekLog):
        async def act() -> None:
            self.known_pairs = None  # a reflection after the deadline adds pairs
            in_form = learner.likes_form and self.platform.reflection_form
            if choice == "private":  # to the facilitators only: nobody answers it
                await self.platform.reflect_privately(learner.actor, self.compose(4))
            elif choice == "short":
                text = self.rng.choice(SHORT_REFLECTIONS)
                self.posted[learner.id] = await self.platform.reflect(learner.actor, text)
            elif in_form:
                post = await self.platform.reflect_in_form(learner.actor, self.fill_form)
                self.posted[learner.id] = post
            else:
                self.posted[learner.id] = await self.platform.reflect(
                    learner.actor, self.compose(4)
                )
            how = {"early": "", "reminded": "after reminder", "late": "late", "short": "short",
                   "private": "private, to the facilitators only"}  # fmt: skip
            form = "form" if in_form and choice != "short" else ""
            log.reflections[learner.id] = ", ".join(filter(None, (form, how[choice])))

        return act

    def fill_form(self, fields: list[str]) -> dict[str, str]:
        """The reflection form's answers: two sentences first, a sentence in one or two more."""
        values = {fields[0]: self.compose(2)}
        for extra in fields[1 : self.rng.randint(2, 3)]:
            values[extra] = self.compose(1)
        return values

    def compose(self, sentences: int) -> str:
        return " ".join(self.rng.sample(REFLECTION_SENTENCES, sentences))

    def feedback_action(self, learner: Learner, log: WeekLog):
        async def act() -> None:
            target = self.feedback_target(learner)
            if target is None:
                return  # nobody's reflection is up yet that they haven't answered
            short = self.rng.random() < 0.06
            text = self.rng.choice(SHORT_FEEDBACK if short else FEEDBACK_SENTENCES)
            post = self.posted[target]
            if self.rng.random() < 0.15 and self.platform.feedback_form:
                fill = self.feedback_answers(text)
                await self.platform.feedback_in_form(learner.actor, post, target, fill)
                log.via_menu += 1
            else:
                await self.platform.feedback(learner.actor, post, target, text)
            log.feedback[learner.id] = log.feedback.get(learner.id, 0) + 1
            log.short_feedback += short
            self.answered.setdefault(learner.id, set()).add(target)

        return act

    def feedback_answers(self, text: str) -> Callable[[list[str]], dict[str, str]]:
        """The Give feedback form asks the cohort's feedback guide, one field a question:
        ``text`` answers the first, another seeded sentence each of the rest."""

        def fill(fields: list[str]) -> dict[str, str]:
            others = self.rng.sample([s for s in FEEDBACK_SENTENCES if s != text], len(fields) - 1)
            return dict(zip(fields, [text, *others], strict=True))

        return fill

    def feedback_target(self, learner: Learner) -> Hashable | None:
        """A peer Praxis paired them with, if one has reflected; otherwise any peer who has."""
        done = self.answered.get(learner.id, set())
        open_ = sorted(
            (i for i in self.posted if i != learner.id and i not in done), key=self.names.get
        )
        if not open_:
            return None
        if self.known_pairs is None:
            self.known_pairs = self.platform.pairs()
        paired = [i for i in self.known_pairs.get(learner.id, []) if i in open_]
        return self.rng.choice(paired or open_)

    async def close(self, log: WeekLog) -> None:
        """Feedback closes: the round ends and its digest reaches the facilitator."""
        await self.rate(log)
        await self.tick_now(log)
        log.digest = await self.platform.digest(log.number)

    async def rate(self, log: WeekLog) -> None:
        """Some writers answer the DMs asking whether each feedback helped (Helpful / Not
        yet); the seed picks who, and how."""
        for learner in self.learners:
            if learner.id in log.reflections and self.rng.random() < 0.6:
                given = await self.platform.rate(learner.actor, lambda: self.rng.random() < 0.75)
                if given:
                    log.ratings[learner.id] = given

    # -------------------------------------------------------------------- transcript

    def who(self, ids) -> str:
        return ", ".join(self.names[i] for i in sorted(ids, key=self.names.get)) or "nobody"

    def summarise(self, log: WeekLog, slot: datetime) -> None:
        """A few lines per week: what was posted, who did what, who was nudged, the digest."""
        self.say("")
        self.say(f"Week {log.number} · {slot:%a %d %b %H:%M} · round posted: {log.title}")
        done = [
            f"{self.names[i]}{f' ({how})' if how else ''}"
            for i, how in sorted(log.reflections.items(), key=lambda x: self.names[x[0]])
        ]
        skipped = [
            x.id for x in self.learners if x.id not in log.reflections and x.id not in log.excused
        ]
        none = f" · none from {self.who(skipped)}" if skipped else ""
        excused = f" · excused by {FACILITATOR}: {self.who(log.excused)}" if log.excused else ""
        self.say(f"reflections ({len(done)}): {', '.join(done) or 'none'}{none}{excused}", 2)
        self.say(f"nudged (DM): {self.nudge_text(log.nudges)}", 2)
        given = sum(log.feedback.values())
        detail = ", ".join(
            f"{self.names[i]} {n}"
            for i, n in sorted(log.feedback.items(), key=lambda x: self.names[x[0]])
        )
        notes = [f"{log.via_menu} via Give feedback"] if log.via_menu else []
        notes += [f"{log.short_feedback} too short"] if log.short_feedback else []
        paired = "pairs posted at the deadline; " if log.pairs_posted else ""
        more = f" ({'; '.join(notes)})" if notes else ""
        self.say(f"feedback ({given}): {paired}{detail or 'none'}{more}", 2)
        if log.ratings:
            self.say(f"rated by DM: {self.ratings_text(log.ratings)}", 2)
        self.say(f"digest to {FACILITATOR}: {log.digest}", 2)

    def ratings_text(self, ratings: dict[Hashable, list[bool]]) -> str:
        parts = []
        for member_id in sorted(ratings, key=self.names.get):
            helpful, not_yet = ratings[member_id].count(True), ratings[member_id].count(False)
            counts = [f"{helpful} helpful"] * bool(helpful) + [f"{not_yet} not yet"] * bool(not_yet)
            parts.append(f"{self.names[member_id]} {', '.join(counts)}")
        return " · ".join(parts)

    def nudge_text(self, nudges: dict[str, list[int]]) -> str:
        labels = (
            ("reflect_reminder", "reminder"),
            ("reflect_last_call", "last call"),
            ("feedback_reminder", "feedback reminder"),
            ("short_reflection", "short-reflection note"),
            ("short_feedback", "short-feedback note"),
        )
        parts = [
            f"{label}{where} → {self.who(nudges[kind + where])}"
            for kind, label in labels
            for where in ("", " in the thread")
            if kind + where in nudges
        ]
        return " · ".join(parts) or "nobody"

    # ----------------------------------------------------------------------- reports

    async def report(self) -> DemoResult:
        """The facilitator's reports: each round's table, then the CSV and the chart."""
        by_name = {x.name: x.id for x in self.learners}
        table = {x.id: [] for x in self.learners}
        totals: dict[Hashable, list[int]] = {x.id: [0, 0, 0] for x in self.learners}
        for number in range(1, self.options.weeks + 1):
            rows = [r for r in await self.platform.round_rows(number) if r[0] in by_name]
            if len(rows) != len(self.learners):
                raise DemoError(f"Round {number}'s report listed {len(rows)} of "
                                f"{len(self.learners)} learners.")  # fmt: skip
            for name, mark, gave, got in rows:
                member_id = by_name[name]
                table[member_id].append(mark)
                totals[member_id][0] += mark in "✓L"
                totals[member_id][1] += gave
                totals[member_id][2] += got
        self.say("")
        self.say(self.platform.reports_said)
        self.say(f"Participation ({LEGEND}; gave/got = feedback that counted):", 2)
        rounds = " ".join(f"R{n:<2}" for n in range(1, self.options.weeks + 1))
        self.lines.append(f"    {'Learner':<9} {rounds} counted  gave  got")
        for learner in self.learners:
            marks = " ".join(f"{m:<3}" for m in table[learner.id])
            counted, gave, got = totals[learner.id]
            self.lines.append(f"    {learner.name:<9} {marks} {counted:>7}  {gave:>4}  {got:>3}")
        return await self.save_files()

    async def save_files(self) -> DemoResult:
        """Ask for the CSV and the chart as a facilitator would, and save the files."""
        out = self.options.out
        csv_bytes = await self.platform.export_csv()
        png_bytes = await self.platform.chart_png()
        csv_path, png_path = out / "participation.csv", out / "participation.png"
        csv_path.write_bytes(csv_bytes)
        png_path.write_bytes(png_bytes)
        rows = list(csv.DictReader(io.StringIO(csv_bytes.decode("utf-8-sig"))))
        kinds = [r["kind"] for r in rows]
        width, height = int.from_bytes(png_bytes[16:20]), int.from_bytes(png_bytes[20:24])
        export, chart = self.platform.export_command, self.platform.chart_command
        pad = max(len(export), len(chart))
        self.lines.append(
            f"  {export:<{pad}} → {csv_path} ({len(rows)} rows: "
            f"{kinds.count('reflection')} reflections, "
            f"{kinds.count('feedback')} feedback)"
        )
        self.lines.append(f"  {chart:<{pad}} → {png_path} ({width}×{height} px)")
        return DemoResult(self.lines, csv_path, png_path, await self.save_portfolio())

    async def save_portfolio(self) -> Path:
        """The most diligent learner asks for their CPD portfolio, a printable HTML page."""
        learner = max(self.learners, key=lambda x: x.diligence)
        data = await self.platform.portfolio_html(learner.actor)
        path = self.options.out / f"portfolio-{learner.name.lower()}.html"
        path.write_bytes(data)
        self.say("")
        self.say(
            f"{learner.name} ran {self.platform.portfolio_command} → {path} "
            f"(their CPD portfolio, {len(data):,} bytes of HTML to print or save as a PDF)"
        )
        return path


def plain(text: str) -> str:
    """Chat markup out of a sentence, for the transcript."""
    return text.replace("**", "")
