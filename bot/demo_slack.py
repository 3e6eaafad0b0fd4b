"""The demo's term on slacksim: Slack people, ``/praxis`` commands, forms and threads.

:mod:`bot.demo` says what a term is; this says how it is played on Slack. The facilitator
is a workspace admin in the cohort's facilitator user group; she sets the cohort up with
``/praxis create`` and its form, excuses with ``/praxis excuse`` and asks for
``/praxis report``, whose files arrive in her direct messages. Learners reflect by
replying in the round's thread or with its *Write reflection* button, and give feedback
by a reply that @mentions the peer or with the *Give feedback* message shortcut.

slacksim's clock is frozen at the start and moved only by the demo, so message
timestamps, and with them every id Praxis stores, are the same for the same seed.
"""

from __future__ import annotations

import html
import re
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from bot.core.cohorts import OPTIONS
from bot.demo import ANONYMOUS_FEEDBACK, COHORT, FACILITATOR, SETTINGS, Created, DemoError
from bot.slack.blocks import REFLECT_ACTION
from bot.slack.ratings import HELPFUL, NOT_YET
from bot.slack.reflect import FEEDBACK_SHORTCUT

#: SimCord's clock starts here too, so both platforms play the same calendar.
START = datetime(2026, 1, 1, tzinfo=UTC)
PAIR_LINE = re.compile(r"<@([UW][A-Z0-9]+)> → (.+)")
MENTION = re.compile(r"<@([UW][A-Z0-9]+)>")
SLACK_DATE = re.compile(r"<!date\^(\d+)\^[^|>]*\|([^>]*)>")
ROW = re.compile(r"^• (.+): ([a-z ]+) · \d+ words · gave (\d+) · received (\d+)$")
MARKS = {"on time": "✓", "late": "L", "too short": "s", "missing": "–", "excused": "E"}


@asynccontextmanager
async def driven(database: Path) -> AsyncIterator[SlackSimPlatform]:
    """Praxis on slacksim over ``database``, its school's workspace built."""
    from bot.app import create_bot
    from bot.config import Settings
    from slacksim import SlackSim  # lazy: only the Slack demo needs the simulator

    async with SlackSim() as slack:
        slack.set_time(START)
        workspace = slack.create_workspace("Helping Professions School")
        platform = SlackSimPlatform(slack, workspace)
        bot = create_bot(
            Settings(
                database_path=database,
                scheduler_enabled=False,
                slack_bot_token=workspace.bot_token,
                slack_signing_secret=slack.signing_secret,
                slack_api_url=slack.api_url,
            )
        )
        try:
            await bot.open_storage()
            bot.slack.clock = slack.now
            slack.connect(bot.slack.app)
            await bot.start_slack()
            platform.bot = bot
            yield platform
        finally:
            await bot.close()


class SlackSimPlatform:
    """A school's Slack workspace: a facilitators' user group and one cohort channel."""

    label = "a simulated Slack (slacksim)"
    nudges_off_command = "/praxis me nudges off"
    reports_said = (
        f"Reports {FACILITATOR} ran: /praxis report round (each round), /praxis report export, "
        "/praxis report chart (files in her DMs)"
    )
    export_command = "/praxis report export"
    chart_command = "/praxis report chart"
    portfolio_command = "/praxis me portfolio"
    reflection_form = True
    feedback_form = True

    def __init__(self, slack: Any, workspace: Any) -> None:
        self.slack, self.ws = slack, workspace
        self.rated: set[tuple[str, str]] = set()  # rating questions already answered
        self.bot: Any = None
        self.ruth = workspace.add_user(FACILITATOR, admin=True, tz="UTC")
        self.facilitators = workspace.create_usergroup("facilitators", users=[self.ruth])
        self.learners: list[Any] = []

    def now(self) -> datetime:
        return self.slack.now()

    async def advance(self, seconds: float) -> None:
        self.slack.advance_time(timedelta(seconds=seconds))

    async def tick(self, moment: datetime) -> Any:
        return await self.bot.tick(moment)

    async def learner_key(self, member_id: int) -> str:
        """The Slack user id behind the core's number for a member."""
        return await self.bot.slack.ids.text(member_id)

    def add_learner(self, name: str) -> Any:
        person = self.ws.add_user(name, tz="UTC")
        self.learners.append(person)
        return person

    async def create_cohort(self) -> Created:
        """``/praxis create`` in the new channel, then the form, filled in and sent."""
        self.room = self.ws.create_channel("reflections", members=[self.ruth, *self.learners])
        opened = await self.ruth.command("/praxis", "create", channel=self.room)
        if opened.view is None:
            raise DemoError(f"/praxis create was refused: {opened.text}")
        values = {"name": COHORT, "channel": self.room.id, "facilitators": self.facilitators.id,
                  "timezone": "UTC", **{k: str(v) for k, v in SETTINGS.items()},
                  "anonymous_feedback": ["on"] if ANONYMOUS_FEEDBACK else []}  # fmt: skip
        done = await self.ruth.submit(opened.view, values)
        reply = self.ruth.private_messages()[-1].text
        if done.errors or not reply.startswith("Created"):
            raise DemoError(f"The cohort form was refused: {done.errors or reply}")
        shown = [f"{OPTIONS[k].label.lower()} {SETTINGS[k]}"
                 for k in ("min_words", "feedback_min_words", "feedback_required")]  # fmt: skip
        said = (
            f"{FACILITATOR} (facilitator): /praxis create, then the form: name {COHORT} · "
            f"channel #reflections · facilitators @facilitators · {' · '.join(shown)}"
            f"{' · anonymous feedback ticked' if ANONYMOUS_FEEDBACK else ''}"
        )
        first_slot = datetime.fromtimestamp(int(SLACK_DATE.search(reply)[1]), tz=UTC)
        return Created(said, _plain(reply.split(" The next round")[0]), first_slot)

    async def nudges_off(self, actor: Any) -> None:
        said = (await actor.command("/praxis", "me nudges off", channel=self.room)).text
        if "off" not in said:
            raise DemoError(f"/praxis me nudges off was refused: {said}")

    async def open_round(self, number: int) -> str:
        """The round's prompt in the channel (its thread is its replies): its title."""
        found = [
            m
            for m in self.ws.messages(self.room)
            if m.metadata and m.text.startswith(f"Round {number} · ")
        ]
        if not found:
            raise DemoError(f"Round {number} was not posted when it was due.")
        self.prompt = found[-1]
        return html.unescape(self.prompt.text.split(" · ", 1)[1])

    async def reflect(self, actor: Any, text: str) -> Any:
        return await actor.reply(self.prompt, text)

    async def reflect_in_form(self, actor: Any, fill: Callable[[list[str]], dict]) -> Any:
        """Write reflection → a form of the round's headings → posted under their name."""
        opened = await actor.click(self.prompt, REFLECT_ACTION)
        fields = _inputs(opened.view, "section_")
        if not fields:
            raise DemoError(f"Write reflection showed no form: {opened.text}")
        done = await actor.submit(opened.view, fill(fields))
        if "Your reflection is posted" not in actor.private_messages()[-1].text or done.errors:
            raise DemoError(f"The reflection form was refused: {done.errors or done.text}")
        return next(
            m
            for m in reversed(self._thread())
            if m.bot_id and m.username == actor.user.name and m.text.startswith("Reflection")
        )

    async def reflect_privately(self, actor: Any, text: str) -> None:
        """The reflection form with its "facilitators only" box ticked."""
        opened = await actor.click(self.prompt, REFLECT_ACTION)
        if opened.view is None:
            raise DemoError(f"Write reflection showed no form: {opened.text}")
        done = await actor.submit(opened.view, {"section_0": text, "private": ["private"]})
        if "facilitators" not in actor.private_messages()[-1].text or done.errors:
            raise DemoError(f"The private reflection was refused: {done.errors or done.text}")

    async def rate(self, actor: Any, helpful: Callable[[], bool]) -> list[bool]:
        """Press Helpful or Not yet under each new rating question in the writer's DMs."""
        given = []
        for question in actor.dms():
            if "responded to your reflection" not in (question.text or ""):
                continue
            if (question.channel, question.ts) in self.rated:
                continue
            self.rated.add((question.channel, question.ts))
            given.append(helpful())
            done = await actor.click(question, HELPFUL if given[-1] else NOT_YET)
            if "helpful" not in (done.text or "").lower():
                raise DemoError(f"The rating was refused: {done.text}")
        return given

    async def feedback(self, actor: Any, post: Any, peer: str, text: str) -> None:
        """Slack's threads are flat: a reply that @mentions the peer is feedback to them."""
        await actor.reply(self.prompt, f"<@{peer}> {text}")

    async def feedback_in_form(
        self, actor: Any, post: Any, peer: str, fill: Callable[[list[str]], dict]
    ) -> None:
        """The Give feedback shortcut on the peer's reflection: a field per question of the
        cohort's feedback guide, posted as a reply."""
        opened = await actor.shortcut(post, FEEDBACK_SHORTCUT)
        fields = _inputs(opened.view, "feedback_")
        if not fields:
            raise DemoError(f"Give feedback was refused: {opened.text}")
        done = await actor.submit(opened.view, fill(fields))
        if "Your feedback" not in actor.private_messages()[-1].text or done.errors:
            raise DemoError(f"Give feedback was refused: {done.errors or done.text}")

    def pairs(self) -> dict[str, list[str]]:
        """Who was asked to respond to whom, read from the bot's replies in the thread."""
        found: dict[str, list[str]] = {}
        for message in self._thread():
            if not message.bot_id or "feedback pairs" not in message.text.lower():
                continue
            for line in message.text.splitlines():
                match = PAIR_LINE.match(line)
                if match:
                    found.setdefault(match[1], []).extend(MENTION.findall(match[2]))
        return found

    async def excuse(self, actor: Any) -> None:
        command = f'excuse "{COHORT}" <@{actor.id}>'
        said = (await self.ruth.command("/praxis", command, channel=self.room)).text
        if "excused" not in said:
            raise DemoError(f"/praxis excuse was refused: {said}")

    async def digest(self, number: int) -> str:
        """The round's digest in the facilitator's DMs (with its chart), as one line."""
        head = f"*Digest · {COHORT} · round {number}:"
        digests = [m for m in self.ruth.dms() if m.text.startswith(head)]
        if not digests:
            raise DemoError(f"No digest reached {FACILITATOR} for round {number}.")
        lines = dict(
            line.split(": ", 1) for line in digests[-1].text.splitlines()[1:] if ": " in line
        )
        return f"{lines['Reflections']} · {lines['Feedback']}"

    async def round_rows(self, number: int) -> list[tuple[str, str, int, int]]:
        """``/praxis report round``'s per-member lines."""
        said = await self.ruth.command(
            "/praxis", f'report round "{COHORT}" {number}', channel=self.room
        )
        rows = []
        for line in said.text.splitlines():
            match = ROW.match(line)
            if match and match[2] in MARKS:
                rows.append(
                    (html.unescape(match[1]), MARKS[match[2]], int(match[3]), int(match[4]))
                )
        return rows

    async def export_csv(self) -> bytes:
        return await self._file("export", ".csv")

    async def chart_png(self) -> bytes:
        return await self._file("chart", ".png")

    async def portfolio_html(self, actor: Any) -> bytes:
        return await self._file_to(actor, "me portfolio", ".html")

    async def _file(self, report: str, suffix: str) -> bytes:
        """``/praxis report REPORT``: the file it sent to the facilitator's DMs."""
        return await self._file_to(self.ruth, f'report {report} "{COHORT}"', suffix)

    async def _file_to(self, person: Any, command: str, suffix: str) -> bytes:
        """``/praxis COMMAND``: the file it sent to ``person``'s DMs."""
        before = set(self.slack.files)
        said = await person.command("/praxis", command, channel=self.room)
        dm = self.ws.im_with(person.id)
        for file_id, file in self.slack.files.items():
            if file_id not in before and file.filename.endswith(suffix) and dm.id in file.shared_to:
                return file.content
        raise DemoError(f"/praxis {command} sent no {suffix} file: {said.text}")

    def _thread(self) -> list[Any]:
        return self.ws.messages(self.room, thread_ts=self.prompt.ts)


def _inputs(view: Any, prefix: str) -> list[str]:
    """A form's text inputs (``section_0``…, ``feedback_0``…), in order."""
    blocks = view.body["blocks"] if view else []
    ids = [b["block_id"] for b in blocks if b["type"] == "input"]
    return sorted((i for i in ids if i.startswith(prefix)), key=lambda i: int(i.rsplit("_", 1)[1]))


def _plain(text: str) -> str:
    """Slack's mrkdwn out of a sentence: dates as their fallback text, no bold or code."""
    text = SLACK_DATE.sub(lambda m: m[2], text)
    return html.unescape(text.replace("*", "").replace("`", ""))
