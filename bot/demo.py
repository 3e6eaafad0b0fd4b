"""``praxis demo``: a whole term of Praxis on a simulated Discord, in seconds, with no token.

Why it exists: someone deciding whether to run Praxis (or reviewing a change to it) can
watch a term happen — prompts posted, reflections and peer feedback, reminders, digests,
reports — without creating a Discord application. The real, unmodified bot runs against
SimCord's in-memory Discord; a facilitator and learners act through the same slash
commands, buttons, forms and thread replies people use. Nothing is faked inside the bot.

How: APScheduler is off (it reads the wall clock, not SimCord's), so the demo moves
SimCord's virtual clock forward and calls ``bot.tick(now)`` at each moment something is
due, exactly as the tests do. Every choice learners make comes from one
``random.Random(seed)``, and SimCord's ids and timestamps come from its virtual clock, so
a seed always gives the same transcript and a byte-identical CSV and PNG.

The texts are invented for this demo: short, generic sentences with no names or client
details, mixed by the seeded generator.
"""

from __future__ import annotations

import csv
import io
import random
import re
import tempfile
import textwrap
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import discord

MEMBER_RANGE = (2, 50)
WEEK_RANGE = (1, 12)
COHORT = "Practice Circle"
FACILITATOR = "Ruth"
MIN_WORDS, FEEDBACK_MIN_WORDS, FEEDBACK_REQUIRED = 30, 8, 2
REFLECT_HOURS, FEEDBACK_HOURS, NUDGE_HOURS = 72, 144, 24
WEEK = timedelta(days=7)
WRAP = 100

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

STATUS_MARKS = {
    "✅ on time": "✓",
    "🕒 late": "L",
    "✏️ too short": "s",
    "— missing": "–",
    "excused": "E",
}
LEGEND = "✓ on time · L late · s too short · – missing · E excused"
PAIR_LINE = re.compile(r"<@(\d+)> → (.+)")
MENTION = re.compile(r"<@(\d+)>")
DISCORD_TIME = re.compile(r"<t:(\d+):")


class DemoError(Exception):
    """The bot answered a demo step differently than a working Praxis would."""


@dataclass(frozen=True, slots=True)
class DemoOptions:
    members: int = 8
    weeks: int = 4
    seed: int = 1
    out: Path = Path("praxis-demo")


@dataclass(frozen=True, slots=True)
class DemoResult:
    lines: list[str]
    csv_path: Path
    png_path: Path


def option_problem(members: int, weeks: int) -> str | None:
    """One sentence saying what is wrong with the sizes, or ``None`` when they are usable."""
    for label, value, (low, high) in (
        ("--members", members, MEMBER_RANGE),
        ("--weeks", weeks, WEEK_RANGE),
    ):
        if not low <= value <= high:
            return f"{label} must be between {low} and {high}, not {value}."
    return None


# --------------------------------------------------------------------------- the people


@dataclass(slots=True)
class Learner:
    """A simulated learner: their SimCord actor and the habits the seed gave them."""

    actor: Any
    name: str
    diligence: float  # how likely they are to reflect, and on time
    likes_form: bool  # writes reflections in the form rather than in the thread

    @property
    def id(self) -> int:
        return self.actor.id


@dataclass(slots=True)
class WeekLog:
    """What happened in one round, for the transcript."""

    number: int
    title: str = ""
    reflections: dict[int, str] = field(default_factory=dict)  # id → "form", "late", ...
    feedback: dict[int, int] = field(default_factory=dict)  # id → replies given
    short_feedback: int = 0
    via_menu: int = 0
    excused: list[int] = field(default_factory=list)
    nudges: dict[str, list[int]] = field(default_factory=dict)  # kind → ids
    pairs_posted: bool = False
    digest: str = ""


# -------------------------------------------------------------------------- the demo


async def run_demo(options: DemoOptions) -> DemoResult:
    """Run the term on SimCord with a throwaway database; write the CSV and PNG to ``out``."""
    import simcord  # lazy: only the demo needs SimCord

    from bot.app import create_bot
    from bot.config import Settings

    options.out.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="praxis-demo-") as tmp:
        settings = Settings(database_path=Path(tmp) / "demo.db", scheduler_enabled=False)
        bot = create_bot(settings)
        try:
            async with simcord.run(bot) as env:
                return await Term(env, options).play()
        finally:
            if bot._db is not None:  # SimCord never calls bot.close()
                await bot._db.close()
                bot._db = None


class Term:
    """One cohort's term, driven week by week through the real commands and ticks."""

    def __init__(self, env: Any, options: DemoOptions) -> None:
        self.env, self.options = env, options
        self.rng = random.Random(options.seed)
        self.lines: list[str] = []
        self.learners: list[Learner] = []
        self.names: dict[int, str] = {}

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
            "the real bot on a simulated Discord (SimCord)"
        )
        first_slot = await self.set_up()
        for number in range(1, opts.weeks + 1):
            await self.play_week(number, first_slot + (number - 1) * WEEK)
        return await self.report()

    # ---------------------------------------------------------------------- set-up

    async def set_up(self) -> datetime:
        """Build the server, create the cohort as the facilitator, and one opt-out."""
        env = self.env
        guild = env.create_guild("Helping Professions School")
        self.channel = guild.create_text_channel("reflections")
        learners_role = guild.create_role("Learners")
        facilitators = guild.create_role("Facilitators")
        staff = guild.create_role("Staff", permissions=discord.Permissions(manage_guild=True))
        self.ruth = guild.add_member(
            env.create_user(FACILITATOR.lower(), global_name=FACILITATOR),
            roles=[staff, facilitators],
        )
        for name in sorted(self.rng.sample(NAMES, self.options.members)):
            actor = guild.add_member(
                env.create_user(name.lower(), global_name=name), roles=[learners_role]
            )
            learner = Learner(actor, name, self.rng.uniform(0.7, 0.98), self.rng.random() < 0.4)
            self.learners.append(learner)
            self.names[actor.id] = name
        created = await self.ruth.slash(
            self.channel,
            "cohort create",
            name=COHORT,
            channel=self.channel,
            members=learners_role,
            facilitators=facilitators,
            min_words=MIN_WORDS,
            feedback_min_words=FEEDBACK_MIN_WORDS,
            feedback_required=FEEDBACK_REQUIRED,
            reflect_hours=REFLECT_HOURS,
            feedback_hours=FEEDBACK_HOURS,
            reflect_nudge_hours=NUDGE_HOURS,
            feedback_nudge_hours=NUDGE_HOURS,
        )
        reply = created.response.content if created.response else _reply_text(created)
        if not reply.startswith("Created"):
            raise DemoError(f"/cohort create was refused: {reply}")
        first_slot = _first_time(created.response.embeds[0], "Next round")
        self.say(
            f"{FACILITATOR} (facilitator): /cohort create name:{COHORT} "
            f"channel:#reflections members:@Learners facilitators:@Facilitators "
            f"min_words:{MIN_WORDS} feedback_min_words:{FEEDBACK_MIN_WORDS} "
            f"feedback_required:{FEEDBACK_REQUIRED}"
        )
        self.say(
            f"Praxis: {_plain(reply)} First round {first_slot:%a %d %b %H:%M} UTC; "
            f"reflections due {REFLECT_HOURS} h later, feedback {FEEDBACK_HOURS} h.",
            2,
        )
        await self.opt_out()
        return first_slot

    async def opt_out(self) -> None:
        """One learner turns private reminders off, so the transcript shows they are skipped."""
        learner = self.rng.choice(self.learners)
        result = await learner.actor.slash(self.channel, "me nudges", setting="off")
        if "off" not in _reply_text(result):
            raise DemoError(f"/me nudges off was refused: {_reply_text(result)}")
        self.quiet = learner.id
        self.say(
            f"Learners: {', '.join(x.name for x in self.learners)}. {learner.name} "
            "ran /me nudges off."
        )

    # ------------------------------------------------------------------------ a week

    async def play_week(self, number: int, slot: datetime) -> None:
        """Post the round, play the week's events in time order, then summarise it."""
        log = WeekLog(number)
        await self.tick(slot, log)
        self.prompt, self.thread = self.find_round(number)
        log.title = self.prompt.embeds[0].title.split(" · ", 1)[1]
        self.posted: dict[int, Any] = {}  # learner id → their reflection's first message
        self.answered: dict[int, set[int]] = {}  # learner id → peers they responded to
        self.known_pairs: dict[int, list[int]] | None = None
        events = self.plan_week(number, slot, log)
        for moment, _, action in sorted(events, key=lambda e: (e[0], e[1])):
            await self.advance_to(moment)
            await action()
        self.summarise(log, slot)

    def find_round(self, number: int) -> tuple[Any, Any]:
        """The round's prompt message in the channel, and its thread (same id)."""
        me = self.env.bot.user.id
        prompts = [
            m
            for m in self.channel.history()
            if m.author.id == me and m.embeds and m.embeds[0].title.startswith(f"Round {number} · ")
        ]
        if not prompts:
            raise DemoError(f"Round {number} was not posted when it was due.")
        thread = next(t for t in self.channel.threads if t.id == prompts[-1].id)
        return prompts[-1], thread

    def plan_week(self, number: int, slot: datetime, log: WeekLog) -> list:
        """Every learner's choices for the week, as timed actions; ticks at the due moments."""
        events: list[tuple[datetime, int, Callable[[], Awaitable[None]]]] = []
        excused = self.pick_excused(number)
        if excused is not None:
            events.append((slot + timedelta(hours=1), 0, lambda: self.excuse(excused, log)))
        for learner in self.learners:
            if learner is excused:
                continue
            choice = self.reflect_choice(learner)
            windows = {"early": (1, 47), "short": (1, 47), "reminded": (49, 71), "late": (73, 100)}
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
        """Move SimCord's clock: messages are stamped with it, and deadlines compare to it."""
        seconds = (moment - self.env.now()).total_seconds()
        if seconds > 0:
            await self.env.advance_time(seconds)

    async def tick(self, moment: datetime, log: WeekLog) -> None:
        """Run everything due now, as the scheduler would, and note nudges and pairs."""
        report = await self.env.bot.tick(moment)
        for member_id, kind in report.nudges.by_dm:
            log.nudges.setdefault(kind, []).append(member_id)
        for member_id, kind in report.nudges.in_thread:  # only if their DMs were closed
            log.nudges.setdefault(f"{kind} in the thread", []).append(member_id)
        log.pairs_posted = log.pairs_posted or bool(report.assigned)
        self.known_pairs = None  # a tick may have posted the pairs
        if report.failed_steps:
            raise DemoError(f"A tick failed at {moment:%a %H:%M}: {report.failed_steps}")

    def tick_action(self, due: datetime, offset: int, log: WeekLog):
        return lambda: self.tick(due + timedelta(hours=offset), log)

    async def tick_now(self, log: WeekLog) -> None:
        await self.tick(self.env.now(), log)

    async def excuse(self, learner: Learner, log: WeekLog) -> None:
        """The facilitator excuses a learner from this round through /cohort excuse."""
        result = await self.ruth.slash(
            self.channel, "cohort excuse", name=COHORT, member=learner.actor
        )
        if "excused" not in _reply_text(result):
            raise DemoError(f"/cohort excuse was refused: {_reply_text(result)}")
        log.excused.append(learner.id)

    def reflect_action(self, learner: Learner, choice: str, log: WeekLog):
        async def act() -> None:
            self.known_pairs = None  # a reflection after the deadline adds pairs
            if choice == "short":
                message = await learner.actor.send(self.thread, self.rng.choice(SHORT_REFLECTIONS))
                self.posted[learner.id] = message
            elif learner.likes_form:
                await self.reflect_in_form(learner)
            else:
                self.posted[learner.id] = await learner.actor.send(self.thread, self.compose(4))
            how = {"early": "", "reminded": "after reminder", "late": "late", "short": "short"}
            form = "form" if learner.likes_form and choice != "short" else ""
            log.reflections[learner.id] = ", ".join(filter(None, (form, how[choice])))

        return act

    async def reflect_in_form(self, learner: Learner) -> None:
        """Write reflection → the round's headings as a form → the bot posts it in the thread."""
        shown = await learner.actor.click(self.prompt, label="Write reflection")
        fields = sorted(_custom_ids(shown.modal or {}))
        if not fields:
            raise DemoError(f"Write reflection showed no form: {_reply_text(shown)}")
        values = {fields[0]: self.compose(2)}
        for extra in fields[1 : self.rng.randint(2, 3)]:
            values[extra] = self.compose(1)
        done = await learner.actor.submit_modal(shown, values)
        if "Your reflection is posted" not in _reply_text(done):
            raise DemoError(f"The reflection form was refused: {_reply_text(done)}")
        me = self.env.bot.user.id
        self.posted[learner.id] = next(
            m
            for m in self.thread.history()
            if m.author.id == me
            and m.embeds
            and m.embeds[0].author.name == learner.name
            and m.embeds[0].title == "Reflection"
        )

    def compose(self, sentences: int) -> str:
        return " ".join(self.rng.sample(REFLECTION_SENTENCES, sentences))

    def feedback_action(self, learner: Learner, log: WeekLog):
        async def act() -> None:
            target = self.feedback_target(learner)
            if target is None:
                return  # nobody's reflection is up yet that they haven't answered
            short = self.rng.random() < 0.06
            text = self.rng.choice(SHORT_FEEDBACK if short else FEEDBACK_SENTENCES)
            if self.rng.random() < 0.15:
                await self.feedback_in_form(learner, self.posted[target], text)
                log.via_menu += 1
            else:
                await learner.actor.send(self.thread, text, reply_to=self.posted[target])
            log.feedback[learner.id] = log.feedback.get(learner.id, 0) + 1
            log.short_feedback += short
            self.answered.setdefault(learner.id, set()).add(target)

        return act

    def feedback_target(self, learner: Learner) -> int | None:
        """A peer Praxis paired them with, if one has reflected; otherwise any peer who has."""
        done = self.answered.get(learner.id, set())
        open_ = sorted(i for i in self.posted if i != learner.id and i not in done)
        if not open_:
            return None
        if self.known_pairs is None:
            self.known_pairs = self.pairs()
        paired = [i for i in self.known_pairs.get(learner.id, []) if i in open_]
        return self.rng.choice(paired or open_)

    def pairs(self) -> dict[int, list[int]]:
        """Who was asked to respond to whom, read from the bot's posts in the thread."""
        found: dict[int, list[int]] = {}
        me = self.env.bot.user.id
        for message in self.thread.history():
            if message.author.id != me or "feedback pairs" not in message.content.lower():
                continue
            for line in message.content.splitlines():
                match = PAIR_LINE.match(line)
                if match:
                    authors = [int(i) for i in MENTION.findall(match[2])]
                    found.setdefault(int(match[1]), []).extend(authors)
        return found

    async def feedback_in_form(self, learner: Learner, target: Any, text: str) -> None:
        """The "Give feedback" message command: a form whose answer the bot posts as a reply."""
        shown = await learner.actor.context_menu(self.thread, "Give feedback", target)
        done = await learner.actor.submit_modal(shown, {"feedback": text})
        if "Your feedback is posted" not in _reply_text(done):
            raise DemoError(f"Give feedback was refused: {_reply_text(done)}")

    async def close(self, log: WeekLog) -> None:
        """Feedback closes: the round ends and its digest goes to the facilitator by DM."""
        await self.tick_now(log)
        digests = [
            m
            for m in self.ruth.user.dm_channel.history()
            if m.embeds and m.embeds[0].title.startswith(f"Digest · {COHORT} · round {log.number}:")
        ]
        if not digests:
            raise DemoError(f"No digest reached {FACILITATOR} for round {log.number}.")
        fields = {f.name.split(" (")[0]: f.value for f in digests[-1].embeds[0].fields}
        log.digest = (
            f"{fields['Reflections']} · {fields['Feedback']} · nudges sent: {fields['Nudges sent']}"
        )

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
        self.say(f"digest to {FACILITATOR}: {log.digest}", 2)

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
        table = {x.id: [] for x in self.learners}
        totals: dict[int, list[int]] = {x.id: [0, 0, 0] for x in self.learners}
        for number in range(1, self.options.weeks + 1):
            for member_id, mark, gave, got in await self.round_rows(number):
                table[member_id].append(mark)
                totals[member_id][0] += mark in "✓L"
                totals[member_id][1] += gave
                totals[member_id][2] += got
        self.say("")
        self.say(
            f"Reports {FACILITATOR} ran: /report round (each round), /report export, /report chart"
        )
        self.say(f"Participation ({LEGEND}; gave/got = feedback that counted):", 2)
        rounds = " ".join(f"R{n:<2}" for n in range(1, self.options.weeks + 1))
        self.lines.append(f"    {'Learner':<9} {rounds} counted  gave  got")
        for learner in self.learners:
            marks = " ".join(f"{m:<3}" for m in table[learner.id])
            counted, gave, got = totals[learner.id]
            self.lines.append(f"    {learner.name:<9} {marks} {counted:>7}  {gave:>4}  {got:>3}")
        return await self.save_files()

    async def round_rows(self, number: int) -> list[tuple[int, str, int, int]]:
        """Parse ``/report round``'s per-member lines (inline, or attached when too long)."""
        result = await self.ruth.slash(self.channel, "report round", cohort=COHORT, round=number)
        card = result.response.embeds[0]
        text = card.description or ""
        if result.response.attachments:
            text = (await result.response.attachments[0].read()).decode("utf-8")
        by_name = {x.name: x.id for x in self.learners}
        rows = []
        for line in text.splitlines():
            name, _, rest = line.partition(": ")
            status, _, figures = rest.partition(" · ")
            numbers = [int(n) for n in re.findall(r"\d+", figures)]
            if name in by_name and status in STATUS_MARKS and len(numbers) == 3:
                rows.append((by_name[name], STATUS_MARKS[status], numbers[1], numbers[2]))
        if len(rows) != len(self.learners):
            raise DemoError(f"/report round {number} listed {len(rows)} of {len(self.learners)}.")
        return rows

    async def save_files(self) -> DemoResult:
        """Ask for the CSV and the chart as a facilitator would, and save the attachments."""
        out = self.options.out
        csv_bytes = await self.attachment("report export", ".csv")
        png_bytes = await self.attachment("report chart", ".png")
        csv_path, png_path = out / "participation.csv", out / "participation.png"
        csv_path.write_bytes(csv_bytes)
        png_path.write_bytes(png_bytes)
        rows = list(csv.DictReader(io.StringIO(csv_bytes.decode("utf-8-sig"))))
        kinds = [r["kind"] for r in rows]
        width, height = int.from_bytes(png_bytes[16:20]), int.from_bytes(png_bytes[20:24])
        self.lines.append(
            f"  /report export → {csv_path} ({len(rows)} rows: "
            f"{kinds.count('reflection')} reflections, "
            f"{kinds.count('feedback')} feedback)"
        )
        self.lines.append(f"  /report chart  → {png_path} ({width}×{height} px)")
        return DemoResult(self.lines, csv_path, png_path)

    async def attachment(self, command: str, suffix: str) -> bytes:
        """The first file with ``suffix`` in the command's reply or its follow-ups."""
        result = await self.ruth.slash(self.channel, command, cohort=COHORT)
        replies = [r for r in [result.response, *result.followups] if r is not None]
        for reply in replies:
            for attachment in reply.attachments:
                if attachment.filename.endswith(suffix):
                    return await attachment.read()
        raise DemoError(f"/{command} sent no {suffix} file: {_reply_text(result)}")


# ---------------------------------------------------------------------------- helpers


def _reply_text(result: Any) -> str:
    """Everything the bot said back to an interaction, as one string."""
    parts = []
    for reply in [result.response, *result.followups]:
        if reply is None:
            continue
        parts.append(reply.content or "")
        parts.extend(e.description or "" for e in reply.embeds)
    return " ".join(p for p in parts if p)


def _plain(text: str) -> str:
    return text.replace("**", "")


def _first_time(card: Any, field_name: str) -> datetime:
    """The instant in a field's Discord timestamp (``<t:unix:F>``)."""
    value = next(f.value for f in card.fields if f.name == field_name)
    return datetime.fromtimestamp(int(DISCORD_TIME.search(value)[1]), tz=UTC)


def _custom_ids(node: Any) -> list[str]:
    """The text-input ids (``section_0``…) anywhere in a modal payload."""
    if isinstance(node, dict):
        found = [node["custom_id"]] if str(node.get("custom_id", "")).startswith("section_") else []
        return found + [i for value in node.values() for i in _custom_ids(value)]
    if isinstance(node, list):
        return [i for value in node for i in _custom_ids(value)]
    return []
