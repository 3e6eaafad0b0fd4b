"""``/praxis``: the one Slack command, its forms and its buttons.

Thin, like the Discord cogs: parse the text, check permission (:mod:`.access`), call
the core, and answer privately. Every answer is ephemeral; every refusal stores nothing.
"""

from __future__ import annotations

import json
import logging
import re
import shlex
from collections.abc import Awaitable, Callable
from typing import Any

from bot.core import bank, cohorts, nudges, reflections, rounds
from bot.core.cohorts import OPTIONS, Cohort, search_timezones
from bot.core.errors import InvalidInput, NotFound, PraxisError
from bot.core.prompt_import import derive_title
from bot.core.prompts import DEFAULT_STRUCTURE, PromptDraft
from bot.slack import access, forms, notices
from bot.slack.blocks import date, escape, from_core
from bot.slack.errors import kind_errors

log = logging.getLogger(__name__)

USER = re.compile(r"^<@([UW][A-Z0-9]+)(?:\|[^>]*)?>$")
DELETE_CONFIRM, DELETE_KEEP = "praxis_delete_confirm", "praxis_delete_keep"

HELP = """*Praxis* posts a reflection prompt to a cohort's channel every week, in a thread.
Members reply in the thread with their reflection; to give a peer feedback, reply in the \
thread and @mention them. Praxis nudges, privately, whoever hasn't responded.

*For everyone*
`/praxis help` · this list
`/praxis reflect [COHORT]` · write this round's reflection in a form
`/praxis me nudges on|off` · reminders by direct message
`/praxis me progress [COHORT]` · where you stand, round by round
`/praxis me export` · your data, as a file by direct message
`/praxis me portfolio` · your reflective practice record, a printable page by direct message
`/praxis me forget` · delete your texts and settings here (asks first)

*For facilitators* (workspace admins, or a cohort's facilitator user group)
`/praxis create` · set up a cohort (workspace admins)
`/praxis list` · the cohorts you facilitate
`/praxis show COHORT` · settings, next round, recent notices
`/praxis edit COHORT` · change its settings
`/praxis pause COHORT` · `/praxis resume COHORT`
`/praxis delete COHORT` · delete it and everything stored for it
`/praxis skip COHORT YYYY-MM-DD` · `/praxis unskip COHORT YYYY-MM-DD`
`/praxis excuse COHORT @member [ROUND]` · no nudges; reports say excused
`/praxis prompts COHORT [PAGE]` · the prompt bank
`/praxis prompt-add COHORT` · add a prompt (a form)
`/praxis prompt-remove COHORT NUMBER` · `/praxis prompt-move COHORT NUMBER POSITION`
`/praxis post COHORT` · open a round now with the next prompt
`/praxis report round COHORT [ROUND]` · `/praxis report member COHORT @member`
`/praxis report export COHORT [posts|participation] [text]` · a CSV, by direct message
`/praxis report chart COHORT` · the participation chart, by direct message
Put a cohort name with spaces in quotes: `/praxis show "Autumn 2026"`."""


class Request:
    """One ``/praxis`` call: who, where, and the words after the command."""

    def __init__(self, body: dict[str, Any], words: list[str]) -> None:
        self.body = body
        self.user: str = body["user_id"]
        self.team: str = body["team_id"]
        self.channel: str | None = body.get("channel_id")
        self.trigger: str = body["trigger_id"]
        self.words = words

    def arg(self, index: int, what: str) -> str:
        if len(self.words) <= index:
            raise InvalidInput(f"Which {what}? Try `/praxis help`.")
        return self.words[index]


class Commands:
    def __init__(self, runtime) -> None:
        self.rt = runtime
        self.handlers: dict[str, Callable[[Request], Awaitable[str | None]]] = {
            "help": self.help,
            "create": self.create,
            "edit": self.edit,
            "show": self.show,
            "list": self.list_,
            "pause": self.pause,
            "resume": self.resume,
            "delete": self.delete,
            "skip": self.skip,
            "unskip": self.unskip,
            "excuse": self.excuse,
            "prompts": self.prompts,
            "prompt-add": self.prompt_add,
            "prompt-remove": self.prompt_remove,
            "prompt-move": self.prompt_move,
            "post": self.post,
            "me": self.me,
        }
        #: ``/praxis me …``: what a member does about their own data and reminders.
        self.me_handlers: dict[str, Callable[[Request], Awaitable[str | None]]] = {
            "nudges": self.me_nudges,
        }

    def add(self, name: str, handler: Callable[[Request], Awaitable[str | None]]) -> None:
        """Another module's ``/praxis NAME …`` (a feature keeps its handlers beside it)."""
        self.handlers[name] = handler

    def add_me(self, name: str, handler: Callable[[Request], Awaitable[str | None]]) -> None:
        """Another module's ``/praxis me NAME …``."""
        self.me_handlers[name] = handler

    def register(self, app) -> None:
        app.command("/praxis")(self.on_command)
        app.view(forms.COHORT_FORM)(self.on_cohort_form)
        app.view(forms.PROMPT_FORM)(self.on_prompt_form)
        app.action(DELETE_CONFIRM)(self.on_delete_confirm)
        app.action(DELETE_KEEP)(self.on_delete_keep)
        app.options(forms.TIMEZONE)(self.on_timezone_search)

    # ------------------------------------------------------------------ dispatch

    async def on_command(self, ack, body, respond) -> None:
        await ack()
        text = body.get("text") or ""
        async with kind_errors("/praxis", body.get("team_id")) as answer:
            try:
                words = shlex.split(text)
            except ValueError as error:
                raise InvalidInput(
                    "A quote is left open. Put a name with spaces in quotes."
                ) from error
            name = words[0].lower() if words else "help"
            handler = self.handlers.get(name)
            if handler is None:
                raise InvalidInput(f"I don't know `{escape(name)}`. Try `/praxis help`.")
            answer.text = await handler(Request(body, words[1:]))
        if answer.text:  # and, for a facilitator, what their cohorts need them to know
            shown = await notices.attach(self.rt, body["user_id"], body["team_id"], answer.text)
            await respond(text=shown.text, response_type="ephemeral")
            await notices.mark_shown(self.rt, shown)

    async def _team(self, request: Request) -> int:
        return await self.rt.ids.number("team", request.team)

    async def cohort(self, request: Request, index: int = 0) -> Cohort:
        """The named cohort of this workspace, if the caller facilitates it."""
        name = request.arg(index, "cohort")
        cohort = await cohorts.get_cohort(self.rt.db, await self._team(request), name)
        if cohort.platform != "slack":
            raise NotFound(f"There's no cohort called “{escape(name)}” here.")
        await access.require_facilitator(self.rt, request.user, cohort)
        return cohort

    # ------------------------------------------------------------------ cohorts

    async def help(self, request: Request) -> str:
        return HELP

    async def create(self, request: Request) -> None:
        person = await access.require_facilitator(self.rt, request.user)
        await self._open_cohort_form(request, None, zone=await self._zone(request.user, person))
        return None

    async def edit(self, request: Request) -> None:
        cohort = await self.cohort(request)
        await self._open_cohort_form(request, cohort, zone=cohort.timezone)
        return None

    async def _zone(self, user: str, person) -> str:
        info = (await self.rt.client.users_info(user=user))["user"]
        zone = info.get("tz") or "UTC"
        return zone if search_timezones(zone, 1) == [zone] else "UTC"

    async def _open_cohort_form(self, request: Request, cohort: Cohort | None, zone: str) -> None:
        groups = (await self.rt.client.usergroups_list()).get("usergroups") or []
        current_group = channel = digest = None
        if cohort is not None:
            channel = await self.rt.ids.text(cohort.channel_id)
            if cohort.facilitator_role_id:
                current_group = await self.rt.ids.text(cohort.facilitator_role_id)
            if cohort.digest_channel_id:
                digest = await self.rt.ids.text(cohort.digest_channel_id)
        view = forms.cohort_form(
            cohort=cohort,
            zone=zone,
            usergroups=[(g["id"], g.get("name") or g.get("handle") or g["id"]) for g in groups],
            current_group=current_group,
            channel=channel or request.channel,
            digest_channel=digest,
        )
        await self.rt.client.views_open(trigger_id=request.trigger, view=view)

    async def on_timezone_search(self, ack, body) -> None:
        typed = body.get("value") or ""
        await ack(options=forms.options_for(search_timezones(typed, 100)))

    async def on_cohort_form(self, ack, body, view) -> None:
        """Create or edit: every field checked before anything is written."""
        user, team = body["user"]["id"], body["user"]["team_id"]
        meta = json.loads(view.get("private_metadata") or "{}")
        values = forms.read_cohort_form(view["state"]["values"])
        errors: dict[str, str] = {}
        async with kind_errors("the cohort form", team) as answer:
            try:
                cohort = await self._save_cohort(user, team, meta.get("cohort_id"), values, errors)
            except PraxisError:
                if errors:  # a field's own error: shown under the field
                    await ack(response_action="errors", errors=errors)
                    return
                raise
        if answer.text is not None:
            await ack(response_action="errors", errors={"name": answer.text[:150]})
            return
        await ack()
        await self.rt.schedule_changed()
        opening = await rounds.next_opening(self.rt.db, cohort, self.rt.now())
        verb = "Updated" if meta.get("cohort_id") else "Created"
        when = f" The next round opens {date(opening.at)}." if opening else ""
        await self.rt.client.chat_postEphemeral(
            channel=values["channel"],
            user=user,
            text=f"{verb} *{escape(cohort.name)}*.{when} `/praxis show {escape(cohort.name)}` "
            "shows its settings.",
        )

    async def _save_cohort(
        self, user: str, team: str, cohort_id: int | None, values: dict[str, Any], errors: dict
    ) -> Cohort:
        options = {key: values[key] for key in OPTIONS}
        for key, value in options.items():  # find which field is wrong, to say it there
            try:
                cohorts.parse_options({key: value})
            except (InvalidInput, ValueError) as error:
                errors[key] = (
                    str(error)[:150] if isinstance(error, InvalidInput) else "A number, please."
                )
        try:
            cohorts.parse_feedback_guide(values["feedback_guide"])
        except InvalidInput as error:
            errors["feedback_guide"] = str(error)[:150]
        if errors:
            raise InvalidInput("Some fields need another look.")
        existing = await cohorts.get_cohort_by_id(self.rt.db, cohort_id) if cohort_id else None
        person = await access.require_facilitator(self.rt, user, existing)
        drops_group = existing and existing.facilitator_role_id and not values["facilitators"]
        if drops_group and not person.manages_workspace:  # as on Discord: no self lock-out
            errors["facilitators"] = (
                "Leaving this empty would leave you unable to manage the cohort. "
                "Ask a workspace admin."
            )
            raise InvalidInput("Some fields need another look.")
        await self._check_channels(user, values, errors)
        team_number = await self.rt.ids.number("team", team)
        channel = await self.rt.ids.number("channel", values["channel"])
        group = (
            await self.rt.ids.number("usergroup", values["facilitators"])
            if values["facilitators"]
            else None
        )
        digest = (
            await self.rt.ids.number("channel", values["digest_channel"])
            if values["digest_channel"] else None
        )  # fmt: skip
        now = self.rt.now()
        if existing is None:
            cohort = await cohorts.create_cohort(
                self.rt.db, guild_id=team_number, name=values["name"], channel_id=channel,
                member_role_id=channel, facilitator_role_id=group, options=options, now=now,
                platform="slack",
            )  # fmt: skip
        else:
            changes = {**options, "name": values["name"], "channel_id": channel,
                       "member_role_id": channel, "facilitator_role_id": group,
                       "digest_channel_id": digest,
                       "feedback_guide": values["feedback_guide"],
                       "private_reflections": values["private_reflections"]}  # fmt: skip
            # The form shows every setting: a field left empty means "none" (digests by DM,
            # no facilitator group), where on Discord an option not given means "unchanged".
            emptied = (("digest_channel", digest), ("facilitator_role", group))
            clear = [name for name, value in emptied if value is None]
            return await cohorts.edit_cohort(
                self.rt.db, existing, changes=changes, now=now, clear=clear
            )
        later = {"digest_channel_id": digest, "feedback_guide": values["feedback_guide"],
                 "private_reflections": values["private_reflections"]}  # fmt: skip
        cohort = await cohorts.edit_cohort(self.rt.db, cohort, changes=later, now=now)
        return cohort

    async def _check_channels(self, user: str, values: dict[str, Any], errors: dict) -> None:
        for field, private in (("channel", False), ("digest_channel", True)):
            if not values[field]:
                continue
            try:
                await access.check_channel_for(self.rt, user, values[field], private=private)
            except InvalidInput as error:
                errors[field] = from_core(str(error))[:150]
            except Exception as error:  # Slack's refusal, e.g. a private channel I'm not in
                code = getattr(getattr(error, "response", None), "get", lambda *_: None)("error")
                if code is None:
                    raise
                errors[field] = "I can't see that channel. If it's private, invite me to it first."
        if errors:
            raise InvalidInput("Some fields need another look.")

    async def show(self, request: Request) -> str:
        cohort = await self.cohort(request)
        moment = self.rt.now()
        skips = await rounds.upcoming_skips(self.rt.db, cohort, moment)
        opening = await rounds.next_opening(self.rt.db, cohort, moment)
        channel = await self.rt.ids.text(cohort.channel_id)
        lines = [
            f"*{escape(cohort.name)}* · prompts in <#{channel}> for its members",
            f"Schedule: every {cohort.every_weeks} week(s) on {cohort.weekday_name} at "
            f"{cohort.post_time} ({cohort.timezone})",
            "Next round: "
            + ("paused: `/praxis resume` to restart" if opening is None else date(opening.at)),
            f"Windows: reflections {cohort.reflect_hours} h · feedback {cohort.feedback_hours} h",
            f"Expectations: {cohort.feedback_required} peer responses · reflections of "
            f"{cohort.min_words}+ words · feedback of {cohort.feedback_min_words}+ words",
            "Digests: "
            + (
                f"<#{await self.rt.ids.text(cohort.digest_channel_id)}>"
                if cohort.digest_channel_id
                else "by direct message"
            ),
        ]
        if skips:
            lines.append("Skipped dates: " + ", ".join(f"{d:%a %d %b %Y}" for d in skips))
        for round_ in await rounds.recent_rounds(self.rt.db, cohort, limit=3):
            lines.append(f"Round {round_.number} · {escape(round_.title or '—')} · {round_.state}")
        return "\n".join(lines)

    async def list_(self, request: Request) -> str:
        person = await self.rt.people.person(request.user)
        found = await cohorts.list_cohorts(self.rt.db, await self._team(request))
        mine = [
            c
            for c in found
            if c.platform == "slack" and await access.is_facilitator(self.rt, person, c)
        ]
        if not mine:
            return "There are no cohorts you facilitate here yet. Start one with `/praxis create`."
        lines = []
        for c in mine:
            channel = await self.rt.ids.text(c.channel_id)
            paused = " · paused" if c.paused else ""
            schedule = f"{c.weekday_name} {c.post_time} ({c.timezone})"
            lines.append(f"*{escape(c.name)}* · <#{channel}> · {schedule}{paused}")
        return "\n".join(lines)

    async def pause(self, request: Request) -> str:
        cohort = await self.cohort(request)
        await cohorts.set_paused(self.rt.db, cohort, paused=True, now=self.rt.now())
        await self.rt.schedule_changed()
        return (f"Paused *{escape(cohort.name)}*: no new rounds until you `/praxis resume` it. "
                "Open rounds carry on.")  # fmt: skip

    async def resume(self, request: Request) -> str:
        cohort = await self.cohort(request)
        resumed = await cohorts.set_paused(self.rt.db, cohort, paused=False, now=self.rt.now())
        await self.rt.schedule_changed()
        opening = await rounds.next_opening(self.rt.db, resumed, self.rt.now())
        tail = f" The next round opens {date(opening.at)}." if opening else ""
        return f"Resumed *{escape(cohort.name)}*.{tail}"

    async def delete(self, request: Request) -> None:
        cohort = await self.cohort(request)
        text = (
            f"Delete *{escape(cohort.name)}*? This removes its settings, prompt bank, rounds "
            "and every reflection and feedback text stored for it. Messages in Slack stay."
        )
        buttons = {
            "type": "actions",
            "elements": [
                _button(DELETE_CONFIRM, cohort.id, "Delete cohort and its records", "danger"),
                _button(DELETE_KEEP, cohort.id, "Keep it"),
            ],
        }
        await self.rt.client.chat_postEphemeral(
            channel=request.channel,
            user=request.user,
            text=text,
            blocks=[{"type": "section", "text": {"type": "mrkdwn", "text": text}}, buttons],
        )
        return None

    async def on_delete_confirm(self, ack, body, respond) -> None:
        await ack()
        async with kind_errors("deleting a cohort", body["team"]["id"]) as answer:
            cohort = await cohorts.get_cohort_by_id(self.rt.db, int(body["actions"][0]["value"]))
            if cohort is None or cohort.platform != "slack":
                answer.text = "That cohort was already deleted."
            else:
                await access.require_facilitator(self.rt, body["user"]["id"], cohort)
                await cohorts.delete_cohort(self.rt.db, cohort)
                await self.rt.schedule_changed()
                answer.text = (
                    f"Deleted *{escape(cohort.name)}* and everything Praxis stored for it."
                )
        await respond(text=answer.text, replace_original=True)

    async def on_delete_keep(self, ack, respond) -> None:
        await ack()
        await respond(text="Kept it. Nothing was deleted.", replace_original=True)

    async def skip(self, request: Request) -> str:
        cohort = await self.cohort(request)
        day = await rounds.skip_date(
            self.rt.db, cohort, request.arg(1, "date (YYYY-MM-DD)"), self.rt.now()
        )
        await self.rt.schedule_changed()
        return (f"No round for *{escape(cohort.name)}* on {day:%A %d %B %Y}. "
                "`/praxis unskip` puts it back.")  # fmt: skip

    async def unskip(self, request: Request) -> str:
        cohort = await self.cohort(request)
        day = await rounds.unskip_date(
            self.rt.db, cohort, request.arg(1, "date (YYYY-MM-DD)"), self.rt.now()
        )
        await self.rt.schedule_changed()
        return f"The round on {day:%A %d %B %Y} is back on *{escape(cohort.name)}*'s schedule."

    async def excuse(self, request: Request) -> str:
        cohort = await self.cohort(request)
        found = USER.match(request.arg(1, "member (@mention them)"))
        if found is None:
            raise InvalidInput(
                "Name the member with an @mention, e.g. `/praxis excuse Autumn @ada`."
            )
        number = None
        if len(request.words) > 2:
            if not request.words[2].isdigit():
                raise InvalidInput("The round is a number, e.g. `/praxis excuse Autumn @ada 3`.")
            number = int(request.words[2])
        ctx = await reflections.context_by_number(self.rt.db, cohort, number)
        member = await self.rt.ids.number("user", found.group(1))
        by = await self.rt.ids.number("user", request.user)
        added = await nudges.excuse(self.rt.db, ctx, member, by, self.rt.now())
        self.rt.home.cohort_changed(cohort.id)
        verb = "is now excused" if added else "was already excused"
        return (
            f"<@{found.group(1)}> {verb} from round {ctx.round.number} of "
            f"*{escape(cohort.name)}*: no nudges, and reports show them as excused."
        )

    # ------------------------------------------------------------------ prompts

    async def prompts(self, request: Request) -> str:
        cohort = await self.cohort(request)
        raw = request.words[1] if len(request.words) > 1 else "1"
        page = int(raw) if raw.isdigit() else 1
        listed = await bank.list_prompts(self.rt.db, cohort, page)
        lines = [f"*{escape(cohort.name)}* · prompts (page {listed.page} of {listed.pages}, "
                 f"{listed.total} in all)"]  # fmt: skip
        lines += [f"*{p.position}.* {escape(p.title)}" for p in listed.prompts]
        return "\n".join(lines)

    async def prompt_add(self, request: Request) -> None:
        cohort = await self.cohort(request)
        await self.rt.client.views_open(trigger_id=request.trigger, view=forms.prompt_form(cohort))
        return None

    async def on_prompt_form(self, ack, body, view) -> None:
        user, team = body["user"]["id"], body["user"]["team_id"]
        values = view["state"]["values"]

        def value(block: str) -> str:
            return ((values.get(block) or {}).get(block) or {}).get("value") or ""

        async with kind_errors("the prompt form", team) as answer:
            meta = json.loads(view.get("private_metadata") or "{}")
            cohort = await cohorts.get_cohort_by_id(self.rt.db, meta.get("cohort_id") or 0)
            if cohort is None:
                raise NotFound("That cohort no longer exists.")
            await access.require_facilitator(self.rt, user, cohort)
            text = value("text").strip()
            headings = tuple(h.strip() for h in value("structure").splitlines() if h.strip())
            draft = PromptDraft(title=value("title").strip() or derive_title(text), text=text,
                                structure=headings or DEFAULT_STRUCTURE)  # fmt: skip
            position = await bank.add_prompt(self.rt.db, cohort, draft, self.rt.now())
        if answer.text is not None:
            await ack(response_action="errors", errors={"text": answer.text[:150]})
            return
        await ack()
        await self.rt.client.chat_postMessage(
            channel=user,
            text=f"Added prompt {position} to *{escape(cohort.name)}*: “{escape(draft.title)}”.",
        )

    async def prompt_remove(self, request: Request) -> str:
        cohort = await self.cohort(request)
        removed = await bank.remove_prompt(self.rt.db, cohort, _number(request, 1, "prompt number"))
        return (f"Removed prompt {removed.position} (“{escape(removed.title)}”) from "
                f"*{escape(cohort.name)}*.")  # fmt: skip

    async def prompt_move(self, request: Request) -> str:
        cohort = await self.cohort(request)
        moved = await bank.move_prompt(
            self.rt.db,
            cohort,
            _number(request, 1, "prompt number"),
            _number(request, 2, "position"),
        )
        return f"“{escape(moved.title)}” is now prompt {moved.position} of *{escape(cohort.name)}*."

    async def post(self, request: Request) -> str:
        cohort = await self.cohort(request)
        started = await rounds.start_round_now(self.rt.db, cohort, self.rt.now())
        await self.rt.tick_now()
        current = await rounds.get_round(self.rt.db, started.round.id) or started.round
        title = escape(current.title or "")
        if not started.fresh:
            return f"Round {current.number} (“{title}”) just opened, so I didn't start another."
        if current.state == "posted":
            return f"Round {current.number} (“{title}”) is open in its thread."
        return (f"I claimed round {current.number} but couldn't post it yet ({current.failure}). "
                "I'll keep trying; `/praxis show` tells you how it goes.")  # fmt: skip

    # ------------------------------------------------------------------ members

    async def me(self, request: Request) -> str | None:
        handler = self.me_handlers.get(request.words[0] if request.words else "")
        if handler is None:
            choices = " · ".join(f"`/praxis me {name}`" for name in self.me_handlers)
            raise InvalidInput(f"Try {choices}.")
        return await handler(Request(request.body, request.words[1:]))

    async def me_nudges(self, request: Request) -> str:
        if request.words[:1] not in (["on"], ["off"]):
            raise InvalidInput("Try `/praxis me nudges on` or `/praxis me nudges off`.")
        on = request.words[0] == "on"
        team = await self._team(request)
        user = await self.rt.ids.number("user", request.user)
        await nudges.set_nudges(self.rt.db, team, user, on, self.rt.now())
        return (
            "Reminders are on: I'll nudge you privately before deadlines."
            if on
            else "Reminders are off: I won't nudge you. Deadlines still apply."
        )


def _number(request: Request, index: int, what: str) -> int:
    raw = request.arg(index, what)
    if not raw.isdigit():
        raise InvalidInput(f"The {what} is a whole number.")
    return int(raw)


def _button(action: str, cohort_id: int, label: str, style: str | None = None) -> dict[str, Any]:
    button = {"type": "button", "action_id": action, "value": str(cohort_id),
              "text": {"type": "plain_text", "text": label}}  # fmt: skip
    if style:
        button["style"] = style
    return button
