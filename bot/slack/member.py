"""``/praxis me …``: a member's own progress, and their data (Discord's ``/me``).

``export`` sends the same JSON file as Discord's ``/me export``, and ``portfolio`` the same
printable page as ``/me portfolio``, into the member's direct
messages. ``forget`` asks first (buttons only they see), then calls
``core.privacy_rights.forget`` for this workspace and deletes what Praxis posted for
them (their form posts); messages they typed themselves stay in Slack. The Slack ids of
the forgotten posts and of their DM with Praxis are deleted from ``platform_ids`` and
dropped from :class:`~bot.slack.ids.SlackIds`' cache, so nothing leads from Slack back to
the rows. Their user number stays: it is only their Slack id's alias (as a Discord id
is on Discord), no row carries it any more, a member still in the cohort's channel would
get one again at the next roster read anyway, and the same id may carry rows in another
workspace Praxis serves.
"""

from __future__ import annotations

import logging
from dataclasses import replace

from slack_sdk.errors import SlackApiError

from bot.core import cohorts, portfolio, privacy_rights, ratings, reflections, reports
from bot.core.cohorts import Cohort
from bot.core.errors import NotFound
from bot.core.ports import Person
from bot.core.wording import progress_lines
from bot.slack import access
from bot.slack.blocks import MARKUP, escape
from bot.slack.commands import Request
from bot.slack.errors import kind_errors
from bot.slack.replies import answer_privately, button, send_file_by_dm
from bot.slack.reports import STATUS_WORDS

log = logging.getLogger(__name__)

FORGET_CONFIRM, FORGET_KEEP = "praxis_forget_confirm", "praxis_forget_keep"
FORGET_WARNING = (
    "*Delete your data?* This deletes, for this workspace: the text of everything you wrote "
    "in rounds (reflections, feedback, comments), the reflections Praxis posted for you from "
    "a form, your settings and your feedback pairs, also from the database files on disk. "
    "Facilitators keep only anonymous counts (a round's totals, reminders sent, excusals), "
    "which no longer say who wrote what. Messages you typed yourself in threads stay in "
    "Slack: delete those there if you wish. This can't be undone."
)
STAYS = "Messages you typed yourself in threads stay in Slack: delete them there if you wish."


class Member:
    def __init__(self, runtime) -> None:
        self.rt = runtime

    def register(self, commands, app) -> None:
        commands.add_me("progress", self.progress)
        commands.add_me("export", self.export)
        commands.add_me("portfolio", self.portfolio)
        commands.add_me("forget", self.forget)
        app.action(FORGET_CONFIRM)(self.on_forget_confirm)
        app.action(FORGET_KEEP)(self.on_forget_keep)

    # ------------------------------------------------------------------ progress

    async def progress(self, request: Request) -> None:
        team = await self.rt.ids.number("team", request.team)
        person = await self.rt.people.person(request.user)
        if request.words:
            wanted = " ".join(request.words)
            try:
                named = await cohorts.get_cohort(self.rt.db, team, wanted)
            except NotFound:
                raise NotFound(f"There's no cohort called “{escape(wanted)}” here.") from None
            mine = [named] if await self._is_member(person, named) else []
            missing = f"You aren't a member of *{escape(named.name)}*."
        else:
            found = await cohorts.list_cohorts(self.rt.db, team)
            mine = [c for c in found if await self._is_member(person, c)]
            missing = "You aren't in a cohort in this workspace."
        me = Person(await self.rt.ids.number("user", request.user), person.name)
        sections = [await self._standing(cohort, me) for cohort in mine]
        await answer_privately(request.body, "\n\n".join(sections) or missing)

    async def _is_member(self, person, cohort: Cohort) -> bool:
        """In the cohort's channel and not one of its facilitators, as on Discord."""
        if cohort.platform != "slack":
            return False
        channel = await self.rt.ids.text(cohort.channel_id)
        if person.id not in await self.rt.people.members(channel):
            return False
        return not await access.is_facilitator(self.rt, person, cohort)

    async def _standing(self, cohort: Cohort, me: Person) -> str:
        name = f"*{escape(cohort.name)}*"
        ctx = await reflections.current_context(self.rt.db, cohort)
        if ctx is None:
            return f"{name}: no round has opened yet."
        moment = self.rt.now()
        mine = await reflections.member_progress(self.rt.db, ctx, me.id)
        record = await reports.member_report(self.rt.db, cohort, [], me, moment)
        link = await self.rt.chat.thread_link(ctx.round.thread_id)
        markup = replace(MARKUP, thread=lambda _: link) if link else MARKUP
        rounds = " · ".join(
            f"R{round_.number} {STATUS_WORDS[s.status]}" for round_, s in record.per_round[-12:]
        )
        rated = await ratings.member_line(self.rt.db, cohort.id, ctx.round.id, me.id)
        return (
            f"{name}\n{progress_lines(ctx.round, mine, moment, markup)}\n"
            f"🔥 Streak: {record.streak} round(s) · rounds completed: {record.completed} of "
            f"{len(record.per_round)}{rated}\nYour rounds: {rounds}"
        )

    # ------------------------------------------------------------------ your data

    async def export(self, request: Request) -> str:
        team = await self.rt.ids.number("team", request.team)
        user = await self.rt.ids.number("user", request.user)
        data = await privacy_rights.export(
            self.rt.db, team, user, self.rt.now(), shown_id=request.user
        )
        await send_file_by_dm(
            self.rt,
            request.user,
            data,
            filename="praxis-my-data.json",
            title="Your data in Praxis",
            comment="Here is everything Praxis stores about you in this workspace.",
        )
        return "I've sent you everything Praxis stores about you here, by direct message."

    async def portfolio(self, request: Request) -> str:
        team = await self.rt.ids.number("team", request.team)
        user = await self.rt.ids.number("user", request.user)
        person = await self.rt.people.person(request.user)
        found = await cohorts.list_cohorts(self.rt.db, team)
        mine = [cohort.id for cohort in found if await self._is_member(person, cohort)]
        domain = request.body.get("team_domain")
        data = await portfolio.portfolio(
            self.rt.db,
            team,
            user,
            mine,
            member_name=person.name,
            place=f"Slack workspace {domain}" if domain else "Slack",
            now=self.rt.now(),
        )
        await send_file_by_dm(
            self.rt,
            request.user,
            data,
            filename=portfolio.FILENAME,
            title="Your reflective practice portfolio",
            comment="Here is your portfolio: open it in a browser, and print it or save it as "
            "a PDF.",
        )
        return "I've sent you your portfolio by direct message."

    async def forget(self, request: Request) -> None:
        await answer_privately(
            request.body,
            FORGET_WARNING,
            buttons=[
                button(FORGET_CONFIRM, request.user, "Delete my data", "danger"),
                button(FORGET_KEEP, request.user, "Keep my data"),
            ],
        )

    async def on_forget_keep(self, ack, respond) -> None:
        await ack()
        await respond(text="Nothing was deleted.", replace_original=True)

    async def on_forget_confirm(self, ack, body, respond) -> None:
        await ack()
        user = body["user"]["id"]
        async with kind_errors("forgetting a member", body["team"]["id"]) as answer:
            if body["actions"][0].get("value") != user:
                answer.text = "That button was shown to someone else, so nothing was deleted."
            else:
                answer.text = await self._forget(body["team"]["id"], user)
        await respond(text=answer.text, replace_original=True)

    async def _forget(self, team_id: str, user_id: str) -> str:
        team = await self.rt.ids.number("team", team_id)
        user = await self.rt.ids.known("user", user_id)
        if user is None:
            return f"Praxis stores nothing about you here. {STAYS}"
        posted = await privacy_rights.form_messages(self.rt.db, team, user)
        refs = [await self.rt.ids.message_ref(message) for _, message in posted]
        gone = await privacy_rights.forget(self.rt.db, team, user, self.rt.now())
        self.rt.ids.forget(gone.unlinked)
        left = await self._delete_posted(refs)
        disk = (
            "No copy is left in Praxis's database files."
            if gone.scrubbed
            else "The database files are busy right now, so the last copies on disk are "
            "cleared within a few minutes."
        )
        kept = (
            f" I couldn't delete {left} of the messages I posted for you: a workspace admin "
            "can remove them."
            if left
            else ""
        )
        return (
            f"Done. I removed your texts ({gone.rows} stored messages) and settings here, and "
            f"the {len(refs) - left} messages I posted for you. {disk}{kept} {STAYS}"
        )

    async def _delete_posted(self, refs: list[tuple[str, str]]) -> int:
        """Delete Praxis's own messages (form posts); the number it couldn't delete."""
        left = 0
        for channel, ts in refs:
            try:
                await self.rt.client.chat_delete(channel=channel, ts=ts)
            except SlackApiError as error:
                code = error.response.get("error") if error.response else "unknown"
                if code != "message_not_found":
                    log.warning("Could not delete a form post after forget (%s)", code)
                    left += 1
        return left
