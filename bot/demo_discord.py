"""The demo's term on SimCord: Discord actors, slash commands, buttons and threads.

:mod:`bot.demo` says what a term is; this says how it is played on Discord. Learners
reflect in the round's thread or through its *Write reflection* form, answer a peer by
replying to their reflection or with the *Give feedback* message command, and the
facilitator runs ``/cohort create``, ``/cohort excuse`` and ``/report``. SimCord's ids and
timestamps come from its virtual clock, which only the demo moves.
"""

from __future__ import annotations

import re
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import discord

from bot.demo import ANONYMOUS_FEEDBACK, COHORT, FACILITATOR, SETTINGS, Created, DemoError, plain

PAIR_LINE = re.compile(r"<@(\d+)> → (.+)")
MENTION = re.compile(r"<@(\d+)>")
DISCORD_TIME = re.compile(r"<t:(\d+):")
STATUS = {"✅ on time": "✓", "🕒 late": "L", "✏️ too short": "s", "— missing": "–", "excused": "E"}


@asynccontextmanager
async def driven(database: Path) -> AsyncIterator[SimCordPlatform]:
    """Praxis on SimCord over ``database``, its school's server built."""
    import simcord  # lazy: only the Discord demo needs SimCord

    from bot.app import create_bot
    from bot.config import Settings

    bot = create_bot(Settings(database_path=database, scheduler_enabled=False))
    try:
        async with simcord.run(bot) as env:
            yield SimCordPlatform(env)
    finally:
        if bot._db is not None:  # SimCord never calls bot.close()
            await bot._db.close()
            bot._db = None


class SimCordPlatform:
    """A school's Discord server: roles for learners and facilitators, one channel."""

    label = "a simulated Discord (SimCord)"
    nudges_off_command = "/me nudges off"
    reports_said = (
        f"Reports {FACILITATOR} ran: /report round (each round), /report export, /report chart"
    )
    export_command = "/report export"
    chart_command = "/report chart"
    portfolio_command = "/me portfolio"
    reflection_form = True
    feedback_form = True

    def __init__(self, env: Any) -> None:
        self.env = env
        self.rated: set[int] = set()  # rating questions already answered
        guild = env.create_guild("Helping Professions School")
        self.channel = guild.create_text_channel("reflections")
        self.learners_role = guild.create_role("Learners")
        self.facilitators = guild.create_role("Facilitators")
        staff = guild.create_role("Staff", permissions=discord.Permissions(manage_guild=True))
        self.guild = guild
        self.names: dict[int, str] = {}
        self.ruth = guild.add_member(
            env.create_user(FACILITATOR.lower(), global_name=FACILITATOR),
            roles=[staff, self.facilitators],
        )

    def now(self) -> datetime:
        return self.env.now()

    async def advance(self, seconds: float) -> None:
        await self.env.advance_time(seconds)

    async def tick(self, moment: datetime) -> Any:
        return await self.env.bot.tick(moment)

    async def learner_key(self, member_id: int) -> int:
        return member_id  # the core keeps Discord's own ids

    def add_learner(self, name: str) -> Any:
        user = self.env.create_user(name.lower(), global_name=name)
        actor = self.guild.add_member(user, roles=[self.learners_role])
        self.names[actor.id] = name
        return actor

    async def create_cohort(self) -> Created:
        created = await self.ruth.slash(
            self.channel,
            "cohort create",
            name=COHORT,
            channel=self.channel,
            members=self.learners_role,
            facilitators=self.facilitators,
            anonymous_feedback=ANONYMOUS_FEEDBACK,
            **SETTINGS,
        )
        reply = created.response.content if created.response else _reply_text(created)
        if not reply.startswith("Created"):
            raise DemoError(f"/cohort create was refused: {reply}")
        said = (
            f"{FACILITATOR} (facilitator): /cohort create name:{COHORT} "
            f"channel:#reflections members:@Learners facilitators:@Facilitators "
            f"min_words:{SETTINGS['min_words']} "
            f"feedback_min_words:{SETTINGS['feedback_min_words']} "
            f"feedback_required:{SETTINGS['feedback_required']} "
            f"anonymous_feedback:{ANONYMOUS_FEEDBACK}"
        )
        first_slot = _first_time(created.response.embeds[0], "Next round")
        return Created(said, plain(reply), first_slot)

    async def nudges_off(self, actor: Any) -> None:
        result = await actor.slash(self.channel, "me nudges", setting="off")
        if "off" not in _reply_text(result):
            raise DemoError(f"/me nudges off was refused: {_reply_text(result)}")

    async def open_round(self, number: int) -> str:
        """The round's prompt message in the channel, and its thread (same id): its title."""
        me = self.env.bot.user.id
        prompts = [
            m
            for m in self.channel.history()
            if m.author.id == me and m.embeds and m.embeds[0].title.startswith(f"Round {number} · ")
        ]
        if not prompts:
            raise DemoError(f"Round {number} was not posted when it was due.")
        self.prompt = prompts[-1]
        self.thread = next(t for t in self.channel.threads if t.id == self.prompt.id)
        return self.prompt.embeds[0].title.split(" · ", 1)[1]

    async def reflect(self, actor: Any, text: str) -> Any:
        return await actor.send(self.thread, text)

    async def reflect_in_form(self, actor: Any, fill: Callable[[list[str]], dict]) -> Any:
        """Write reflection → the round's headings as a form → the bot posts it in the thread."""
        shown = await actor.click(self.prompt, label="Write reflection")
        fields = _in_order(_custom_ids(shown.modal or {}, "section_"))
        if not fields:
            raise DemoError(f"Write reflection showed no form: {_reply_text(shown)}")
        done = await actor.submit_modal(shown, fill(fields))
        if "Your reflection is posted" not in _reply_text(done):
            raise DemoError(f"The reflection form was refused: {_reply_text(done)}")
        me, name = self.env.bot.user.id, self.names[actor.id]
        return next(
            m
            for m in self.thread.history()
            if m.author.id == me
            and m.embeds
            and m.embeds[0].author.name == name
            and m.embeds[0].title == "Reflection"
        )

    async def reflect_privately(self, actor: Any, text: str) -> None:
        """``/reflect private:True``: the form, sent to the facilitators only."""
        shown = await actor.slash(self.channel, "reflect", private=True)
        done = await actor.submit_modal(shown, {"section_0": text})
        if "private reflection" not in _reply_text(done):
            raise DemoError(f"The private reflection was refused: {_reply_text(done)}")

    async def rate(self, actor: Any, helpful: Callable[[], bool]) -> list[bool]:
        """Press Helpful or Not yet under each new rating question in the writer's DMs."""
        dm = actor.user.dm_channel
        asked = [
            m for m in (dm.history() if dm else []) if "responded to your reflection" in m.content
        ]
        given = []
        for question in asked:
            if question.id in self.rated:
                continue
            self.rated.add(question.id)
            given.append(helpful())
            done = await actor.user.click(question, label="Helpful" if given[-1] else "Not yet")
            if "helpful" not in _reply_text(done).lower():
                raise DemoError(f"The rating was refused: {_reply_text(done)}")
        return given

    async def feedback(self, actor: Any, post: Any, peer: int, text: str) -> None:
        await actor.send(self.thread, text, reply_to=post)

    async def feedback_in_form(
        self, actor: Any, post: Any, peer: int, fill: Callable[[list[str]], dict]
    ) -> None:
        """The "Give feedback" message command: a field per question of the cohort's feedback
        guide; the bot posts the answers as a reply."""
        shown = await actor.context_menu(self.thread, "Give feedback", post)
        fields = _in_order(_custom_ids(shown.modal or {}, "feedback_"))
        if not fields:
            raise DemoError(f"Give feedback showed no form: {_reply_text(shown)}")
        done = await actor.submit_modal(shown, fill(fields))
        if "Your feedback is posted" not in _reply_text(done):
            raise DemoError(f"Give feedback was refused: {_reply_text(done)}")

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

    async def excuse(self, actor: Any) -> None:
        result = await self.ruth.slash(self.channel, "cohort excuse", name=COHORT, member=actor)
        if "excused" not in _reply_text(result):
            raise DemoError(f"/cohort excuse was refused: {_reply_text(result)}")

    async def digest(self, number: int) -> str:
        """The round's digest in the facilitator's DMs, as one line of figures."""
        digests = [
            m
            for m in self.ruth.user.dm_channel.history()
            if m.embeds and m.embeds[0].title.startswith(f"Digest · {COHORT} · round {number}:")
        ]
        if not digests:
            raise DemoError(f"No digest reached {FACILITATOR} for round {number}.")
        fields = {f.name.split(" (")[0]: f.value for f in digests[-1].embeds[0].fields}
        return (
            f"{fields['Reflections']} · {fields['Feedback']} · nudges sent: {fields['Nudges sent']}"
        )

    async def round_rows(self, number: int) -> list[tuple[str, str, int, int]]:
        """``/report round``'s per-member lines (inline, or attached when too long)."""
        result = await self.ruth.slash(self.channel, "report round", cohort=COHORT, round=number)
        card = result.response.embeds[0]
        text = card.description or ""
        if result.response.attachments:
            text = (await result.response.attachments[0].read()).decode("utf-8")
        rows = []
        for line in text.splitlines():
            name, _, rest = line.partition(": ")
            status, _, figures = rest.partition(" · ")
            numbers = [int(n) for n in re.findall(r"\d+", figures)]
            if status in STATUS and len(numbers) == 3:
                rows.append((name, STATUS[status], numbers[1], numbers[2]))
        return rows

    async def export_csv(self) -> bytes:
        return await self._attachment("report export", ".csv")

    async def chart_png(self) -> bytes:
        return await self._attachment("report chart", ".png")

    async def portfolio_html(self, actor: Any) -> bytes:
        result = await actor.slash(self.channel, "me portfolio")
        return await _file_in(result, ".html", "me portfolio")

    async def _attachment(self, command: str, suffix: str) -> bytes:
        """The first file with ``suffix`` in the command's reply or its follow-ups."""
        result = await self.ruth.slash(self.channel, command, cohort=COHORT)
        return await _file_in(result, suffix, command)


async def _file_in(result: Any, suffix: str, command: str) -> bytes:
    """The first file with ``suffix`` in an interaction's reply or its follow-ups."""
    replies = [r for r in [result.response, *result.followups] if r is not None]
    for reply in replies:
        for attachment in reply.attachments:
            if attachment.filename.endswith(suffix):
                return await attachment.read()
    raise DemoError(f"/{command} sent no {suffix} file: {_reply_text(result)}")


def _reply_text(result: Any) -> str:
    """Everything the bot said back to an interaction, as one string."""
    parts = []
    for reply in [result.response, *result.followups]:
        if reply is None:
            continue
        parts.append(reply.content or "")
        parts.extend(e.description or "" for e in reply.embeds)
    return " ".join(p for p in parts if p)


def _first_time(card: Any, field_name: str) -> datetime:
    """The instant in a field's Discord timestamp (``<t:unix:F>``)."""
    value = next(f.value for f in card.fields if f.name == field_name)
    return datetime.fromtimestamp(int(DISCORD_TIME.search(value)[1]), tz=UTC)


def _custom_ids(node: Any, prefix: str) -> list[str]:
    """The text-input ids (``section_0``…, ``feedback_0``…) anywhere in a modal payload."""
    if isinstance(node, dict):
        found = [node["custom_id"]] if str(node.get("custom_id", "")).startswith(prefix) else []
        return found + [i for value in node.values() for i in _custom_ids(value, prefix)]
    if isinstance(node, list):
        return [i for value in node for i in _custom_ids(value, prefix)]
    return []


def _in_order(ids: list[str]) -> list[str]:
    """``field_0``, ``field_1``… by number (``field_10`` after ``field_9``)."""
    return sorted(ids, key=lambda i: int(i.rsplit("_", 1)[1]))
