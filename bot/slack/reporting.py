"""``/praxis report …``: round and member summaries, CSV exports and the participation
chart, for a cohort's facilitators (Discord's ``/report``, over the same core).

Reports name members and how each is doing: text answers are private (ephemeral), and
files go into the facilitator's direct messages with Praxis, never to a channel. The
chart and the participation CSV are built in a worker thread, so the event loop keeps
serving everyone else meanwhile.
"""

from __future__ import annotations

import asyncio

from bot.core import reports
from bot.core.cohorts import Cohort
from bot.core.errors import InvalidInput
from bot.core.ports import Person
from bot.slack.blocks import escape, sections
from bot.slack.commands import USER, Request
from bot.slack.replies import answer_privately, send_file_by_dm
from bot.slack.reports import member_summary_text, round_summary_text

USAGE = (
    "Try `/praxis report round COHORT [ROUND]`, `/praxis report member COHORT @member`, "
    "`/praxis report export COHORT [posts|participation] [text]` or "
    "`/praxis report chart COHORT`."
)
EXPORT_KINDS = ("posts", "participation")


class Reporting:
    def __init__(self, runtime) -> None:
        self.rt = runtime

    def register(self, commands) -> None:
        commands.add("report", self.report)

    async def report(self, request: Request) -> str | None:
        handler = {
            "round": self.round_,
            "member": self.member,
            "export": self.export,
            "chart": self.chart,
        }.get(request.words[0].lower() if request.words else "")
        if handler is None:
            raise InvalidInput(USAGE)
        return await handler(Request(request.body, request.words[1:]))

    async def _cohort(self, request: Request) -> Cohort:
        """The named cohort, if the caller facilitates it (the one check, in commands)."""
        return await self.rt.commands.cohort(request)

    async def _roster(self, cohort: Cohort) -> list[Person]:
        return await self.rt.chat.roster(cohort) or []

    async def round_(self, request: Request) -> None:
        cohort = await self._cohort(request)
        number = None
        if len(request.words) > 1:
            if not request.words[1].isdigit() or int(request.words[1]) < 1:
                raise InvalidInput("The round is a number, e.g. `/praxis report round Autumn 3`.")
            number = int(request.words[1])
        summary = await reports.round_summary(
            self.rt.db, cohort, await self._roster(cohort), number, now=self.rt.now()
        )
        await answer_privately(request.body, round_summary_text(summary, heading="Report"))

    async def member(self, request: Request) -> None:
        cohort = await self._cohort(request)
        found = USER.match(request.arg(1, "member (@mention them)"))
        if found is None:
            raise InvalidInput(
                "Name the member with an @mention, e.g. `/praxis report member Autumn @ada`."
            )
        who = await self.rt.people.person(found.group(1))
        person = Person(await self.rt.ids.number("user", who.id), who.name)
        summary = await reports.member_report(
            self.rt.db, cohort, await self._roster(cohort), person, self.rt.now()
        )
        await answer_privately(request.body, member_summary_text(cohort.name, summary))

    async def export(self, request: Request) -> str:
        cohort = await self._cohort(request)
        words = [w.lower() for w in request.words[1:]]
        kind = next((w for w in words if w in EXPORT_KINDS), "posts")
        include_text = "text" in words
        if set(words) - {*EXPORT_KINDS, "text"}:
            raise InvalidInput(USAGE)
        roster = await self._roster(cohort)
        slug = reports.file_slug(cohort.name)
        if kind == "participation":
            history = await reports.load_history(self.rt.db, cohort, roster, now=self.rt.now())
            data = await asyncio.to_thread(reports.participation_csv, history)
            filename = f"{slug}-participation.csv"
            note = " Text isn't part of this export." if include_text else ""
        else:
            names = {p.id: p.name for p in roster}
            with await reports.export_csv_file(
                self.rt.db, cohort, names, include_text=include_text
            ) as file:  # streamed from the database off the event loop, then uploaded
                data = await asyncio.to_thread(file.read)
            filename = f"{slug}-{'texts' if include_text else 'figures'}.csv"
            note = (
                " It contains members' own words: store it as carefully as case notes."
                if include_text
                else ""
            )
        await send_file_by_dm(
            self.rt,
            request.user,
            data,
            filename=filename,
            title=f"{cohort.name} · {kind}",
            comment=f"The {kind} export of *{escape(cohort.name)}*: UTF-8 CSV with times in the "
            f"cohort's timezone; ids start with # so spreadsheets keep every digit.{note}",
        )
        return f"I've sent the {kind} export of *{escape(cohort.name)}* to your direct messages."

    async def chart(self, request: Request) -> str:
        cohort = await self._cohort(request)
        return await self.send_chart(cohort, request.user)

    async def send_round_report(self, cohort: Cohort, user: str) -> str:
        """The latest round's summary by direct message (the Home tab's button)."""
        summary = await reports.round_summary(
            self.rt.db, cohort, await self._roster(cohort), None, now=self.rt.now()
        )
        text = round_summary_text(summary, heading="Report")
        for part in sections(text):
            await self.rt.client.chat_postMessage(
                channel=user, text=part["text"]["text"], blocks=[part]
            )
        return f"The latest round of *{escape(cohort.name)}* is in your direct messages."

    async def send_chart(self, cohort: Cohort, user: str) -> str:
        """The participation chart by direct message (the command and the Home tab button)."""
        png = await reports.participation_chart(
            self.rt.db, cohort, await self._roster(cohort), now=self.rt.now()
        )
        await send_file_by_dm(
            self.rt,
            user,
            png,
            filename=f"{reports.file_slug(cohort.name)}-participation.png",
            title=f"{cohort.name} · participation",
            comment=f"Participation in *{escape(cohort.name)}*, members × rounds.",
        )
        return (
            f"I've sent the participation chart of *{escape(cohort.name)}* to your direct messages."
        )
