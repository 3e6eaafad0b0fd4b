"""The App Home tab: each person's own view of Praxis, kept current cheaply.

*Render* is pure: :func:`home_view` turns a :class:`HomeData` (gathered from the core:
``member_progress``, the nudges' feedback suggestions, ``reports.streak`` and
``round_summary``) into a Home view. Dates are Slack ``<!date^…>`` tokens, so each
person reads them in their own timezone.

*Publish* is a small batcher, :class:`HomeTabs`. Opening the tab (``app_home_opened``)
publishes that person's view. A change (a reflection or feedback stored, a round
posted, paired or closed, a cohort edited) only marks the people it concerns dirty; a
timer publishes them in one batch a moment later, each cohort's data read once for
everyone in it, and never more than one ``views.publish`` per person per
:data:`INTERVAL`. Only people who have opened the tab get publishes.

Who has opened the tab is remembered in memory, not in the database: Slack keeps each
published view across our restarts, and sends ``app_home_opened`` every time someone
looks, so after a restart the set refills as people look and each of them sees a
fresh view the moment they do. What is lost is only live updates to a tab left open
across a restart, until it is opened again; that is not worth a table and a migration.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from slack_sdk.errors import SlackApiError

from bot.core import cohorts, nudges, reflections, reports, rounds
from bot.core.cohorts import Cohort
from bot.core.errors import InvalidInput, NotFound, PraxisError
from bot.core.ports import Person
from bot.core.reflections import Progress, RoundContext
from bot.core.reports import RoundSummary
from bot.core.rounds import Round
from bot.slack import access
from bot.slack.blocks import context, date, escape, header, section
from bot.slack.errors import kind_errors
from bot.storage import members as member_store

log = logging.getLogger(__name__)

REFLECT = "praxis_reflect"  # the prompt's "Write reflection" button: the round id as value
REPORT_ROUND = "praxis_report_round"  # the cohort id as value
REPORT_CHART = "praxis_report_chart"
INTERVAL = timedelta(seconds=10)  # at most one views.publish per person this often
DELAY_SECONDS = 2.0  # after the first change, wait this long so a burst joins one batch
ROSTER_TTL = timedelta(minutes=5)  # channel members, read once for many views
BLOCK_LIMIT = 100  # Slack's limit for a Home view
BUTTON_TEXT_LIMIT = 75
MAX_PEERS_NAMED = 5


# ---------------------------------------------------------------------------- render


@dataclass(frozen=True, slots=True)
class MemberCohort:
    """A cohort the person reflects in, and where they stand in its current round."""

    cohort: Cohort
    round: Round | None = None
    progress: Progress | None = None
    excused: bool = False
    owed_to: tuple[str, ...] = ()  # peers they could still respond to, once pairs are made
    streak: int = 0
    thread_link: str | None = None
    next_opening: datetime | None = None


@dataclass(frozen=True, slots=True)
class FacilitatedCohort:
    cohort: Cohort
    summary: RoundSummary | None  # None: no round posted yet
    next_opening: datetime | None = None


@dataclass(frozen=True, slots=True)
class HomeData:
    now: datetime
    member: tuple[MemberCohort, ...] = ()
    facilitated: tuple[FacilitatedCohort, ...] = ()
    manages_workspace: bool = False


def home_view(data: HomeData) -> dict[str, Any]:
    """The whole Home tab: the person's rounds, the cohorts they facilitate, or a welcome."""
    blocks = [
        header("Praxis"),
        context(f"Updated {date(data.now, '{date_short_pretty} at {time}')}"),
    ]
    if data.member:
        blocks.append(header("Your rounds"))
        for item in data.member:
            blocks += member_blocks(item, data.now)
    if data.facilitated:
        blocks.append(header("Cohorts you facilitate"))
        for item in data.facilitated:
            blocks += facilitator_blocks(item, data.now)
    if not data.member and not data.facilitated:
        blocks.append(section(empty_text(data.manages_workspace)))
    blocks.append(context("`/praxis help` lists everything Praxis can do."))
    return {"type": "home", "blocks": fit(blocks)}


def empty_text(manages_workspace: bool) -> str:
    if manages_workspace:
        return ("There are no cohorts in this workspace yet. `/praxis create` sets one up: "
                "a channel, a weekly prompt, and peer feedback.")  # fmt: skip
    return (
        ":wave: You're not in a Praxis cohort yet. Once you're in a cohort's channel, this tab "
        "shows your rounds: the prompt, your deadlines, and whose reflections you could "
        "respond to."
    )


def member_blocks(item: MemberCohort, now: datetime) -> list[dict[str, Any]]:
    name = f"*{escape(item.cohort.name)}*"
    round_, progress = item.round, item.progress
    if round_ is None or progress is None:
        return [section(f"{name} · no round has opened yet."), context(_next(item, now))]
    open_ = is_open(round_, now)
    lines = [f"{name} · Round {round_.number} · {escape(round_.title or '')}"
             + ("" if open_ else " (closed)")]  # fmt: skip
    lines += _owed_lines(item, round_, progress, open_, now)
    if item.thread_link and open_:
        lines.append(f"Reply in {item.thread_link}.")
    block = section("\n".join(lines))
    if open_ and not progress.reflected and not item.excused:
        block["accessory"] = button(REFLECT, round_.id, "Write reflection", "primary")
    return [block, context(f":fire: Streak: {item.streak} round(s) · {_next(item, now)}")]


def _owed_lines(
    item: MemberCohort, round_: Round, progress: Progress, open_: bool, now: datetime
) -> list[str]:
    if item.excused:
        return [":pray: You're excused from this round: nothing is owed."]
    if progress.reflected:
        late = ", after the deadline" if progress.reflected_late else ""
        lines = [
            f":white_check_mark: Reflection counted ({progress.reflection_words} words{late})."
        ]
    elif not open_:
        lines = ["No reflection counted in this round."]
    else:
        when = (
            f"due {date(round_.reflect_due)}"
            if now < round_.reflect_due
            else f"was due {date(round_.reflect_due)}; a late one counts until "
            f"{date(round_.feedback_due)}"
        )
        lines = [
            f":pencil2: Reflection started: {progress.reflection_words} of the "
            f"{progress.min_words} words it needs ({when})."
            if progress.reflection_words
            else f":memo: Reflection owed ({when})."
        ]
    if progress.feedback_required:
        lines.append(_feedback_line(item, round_, progress, open_))
    return lines


def _feedback_line(item: MemberCohort, round_: Round, progress: Progress, open_: bool) -> str:
    given = f"{progress.feedback_given} of {progress.feedback_required}"
    if not progress.feedback_owed:
        return f":white_check_mark: Feedback given to {given} peers."
    if not open_:
        return f"Feedback given to {given} peers; this round's feedback has closed."
    due = date(round_.feedback_due)
    if item.owed_to:
        names = ", ".join(escape(n) for n in item.owed_to[:MAX_PEERS_NAMED])
        return (f":speech_balloon: Feedback owed to {progress.feedback_owed} more peer(s), "
                f"due {due}: {names}.")  # fmt: skip
    if not round_.assigned:
        return (f":speech_balloon: Feedback owed to {progress.feedback_owed} peer(s), due {due}. "
                "Your pairs are posted when reflections close.")  # fmt: skip
    return (f":speech_balloon: Feedback owed to {progress.feedback_owed} more peer(s), due {due}: "
            "any peer's reflection counts.")  # fmt: skip


def _next(item: MemberCohort | FacilitatedCohort, now: datetime) -> str:
    if item.next_opening is not None:
        return f"next round {date(item.next_opening)}"
    return "paused" if item.cohort.paused else "no round planned"


def facilitator_blocks(item: FacilitatedCohort, now: datetime) -> list[dict[str, Any]]:
    name = f"*{escape(item.cohort.name)}*"
    paused = " · paused" if item.cohort.paused else ""
    summary = item.summary
    if summary is None:
        text = f"{name}{paused} · no round posted yet · {_next(item, now)}."
    else:
        round_ = summary.round
        given = sum(standing.feedback_given for _, standing in summary.rows)
        counts = [f"Reflected *{summary.counted}* of {summary.members}",
                  f"feedback given *{given}*", f"missing *{len(summary.missing)}*"]  # fmt: skip
        counts += [f"{label} {len(people)}" for label, people in (
            ("not yet", summary.not_yet), ("too short", summary.short),
            ("excused", summary.excused)) if people]  # fmt: skip
        when = (
            f"Reflections due {date(round_.reflect_due)} · feedback due {date(round_.feedback_due)}"
            if is_open(round_, now)
            else f"Closed · {_next(item, now)}"
        )
        text = (f"{name}{paused} · Round {round_.number} · {escape(round_.title or '')}\n"
                f"{' · '.join(counts)}\n{when}")  # fmt: skip
    actions = {
        "type": "actions",
        "elements": [
            button(REPORT_ROUND, item.cohort.id, "Round report"),
            button(REPORT_CHART, item.cohort.id, "Participation chart"),
        ],
    }
    return [section(text), actions]


def is_open(round_: Round, now: datetime) -> bool:
    return round_.state == "posted" and now < round_.feedback_due


def button(action: str, value: int, label: str, style: str | None = None) -> dict[str, Any]:
    element = {"type": "button", "action_id": action, "value": str(value),
               "text": {"type": "plain_text", "text": label[:BUTTON_TEXT_LIMIT]}}  # fmt: skip
    if style:
        element["style"] = style
    return element


def fit(blocks: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Within Slack's 100 blocks, whatever comes: what doesn't fit is pointed to."""
    if len(blocks) <= BLOCK_LIMIT:
        return blocks
    more = context("There is more than fits here: `/praxis list` shows every cohort.")
    return [*blocks[: BLOCK_LIMIT - 1], more]


# ---------------------------------------------------------------------------- gather


class Gather:
    """What one batch of views needs, read once per cohort however many people share it."""

    def __init__(self, tabs: HomeTabs, now: datetime) -> None:
        self.tabs, self.rt, self.now = tabs, tabs.rt, now
        self._memo: dict[tuple[str, int], Any] = {}

    async def _once(self, key: tuple[str, int], load: Callable[[], Awaitable[Any]]) -> Any:
        if key not in self._memo:
            self._memo[key] = await load()
        return self._memo[key]

    async def cohorts(self, team: int) -> list[Cohort]:
        async def load() -> list[Cohort]:
            found = await cohorts.list_cohorts(self.rt.db, team)
            return [c for c in found if c.platform == "slack"]

        return await self._once(("cohorts", team), load)

    async def home(self, user: str, team: str) -> HomeData:
        person = await self.rt.people.person(user)
        team_number = await self.rt.ids.known("team", team)
        if person.deleted or person.is_bot or team_number is None:
            return HomeData(self.now)
        member, facilitated = [], []
        for cohort in await self.cohorts(team_number):
            if await access.is_facilitator(self.rt, person, cohort):
                facilitated.append(await self.facilitated(cohort))
                continue
            roster = {p.id for p in await self.tabs.roster(cohort)}  # numbers the members
            me = await self.rt.ids.known("user", user)
            if me in roster:
                member.append(await self.member(cohort, Person(me, person.name)))
        return HomeData(self.now, tuple(member), tuple(facilitated), person.manages_workspace)

    async def member(self, cohort: Cohort, me: Person) -> MemberCohort:
        ctx = await self._once(("context", cohort.id), lambda: self._context(cohort))
        opening = await self.opening(cohort)
        if ctx is None:
            return MemberCohort(cohort, next_opening=opening)
        progress = await reflections.member_progress(self.rt.db, ctx, me.id)
        owed_to: tuple[str, ...] = ()
        if ctx.round.assigned and progress.feedback_owed:
            names = {p.id: p.name for p in progress.could_respond_to}
            suggested = await nudges.suggested_peers(self.rt.db, ctx, me.id, progress)
            owed_to = tuple(names[a] for a in suggested if a in names)
        excused = await self._once(
            ("excused", ctx.round.id), lambda: member_store.excused(self.rt.db, ctx.round.id)
        )
        history = await self._once(("history", cohort.id), lambda: self._history(cohort))
        return MemberCohort(
            cohort=cohort,
            round=ctx.round,
            progress=progress,
            excused=me.id in excused,
            owed_to=owed_to,
            streak=reports.member_summary(history, me, self.now).streak,
            thread_link=await self.rt.chat.thread_link(ctx.round.thread_id),
            next_opening=opening,
        )

    async def facilitated(self, cohort: Cohort) -> FacilitatedCohort:
        async def load() -> RoundSummary | None:
            roster = await self.tabs.roster(cohort)
            try:
                return await reports.round_summary(self.rt.db, cohort, roster, now=self.now)
            except InvalidInput:  # no round posted yet
                return None

        summary = await self._once(("summary", cohort.id), load)
        return FacilitatedCohort(cohort, summary, await self.opening(cohort))

    async def opening(self, cohort: Cohort) -> datetime | None:
        async def load() -> datetime | None:
            found = await rounds.next_opening(self.rt.db, cohort, self.now)
            return found.at if found else None

        return await self._once(("opening", cohort.id), load)

    async def _context(self, cohort: Cohort) -> RoundContext | None:
        return await reflections.current_context(self.rt.db, cohort)

    async def _history(self, cohort: Cohort) -> reports.CohortHistory:
        roster = await self.tabs.roster(cohort)
        return await reports.load_history(self.rt.db, cohort, roster, now=self.now)


# --------------------------------------------------------------------------- publish


class HomeTabs:
    def __init__(self, runtime, *, interval: timedelta = INTERVAL, delay: float = DELAY_SECONDS):
        self.rt = runtime
        self.interval = interval
        self.delay = delay
        #: Slack user id -> team id, for everyone who opened the tab since Praxis started.
        self.opened: dict[str, str] = {}
        self._dirty: set[str] = set()
        self._dirty_cohorts: set[int] = set()
        self._published: dict[str, datetime] = {}
        self._rosters: dict[int, tuple[datetime, list[Person]]] = {}
        self._timer: asyncio.TimerHandle | None = None
        self._task: asyncio.Task | None = None
        self._lock = asyncio.Lock()

    def register(self, app) -> None:
        app.event("app_home_opened")(self.on_opened)
        app.action(REPORT_ROUND)(self.on_report)
        app.action(REPORT_CHART)(self.on_report)

    # ------------------------------------------------------------------ events

    async def on_opened(self, event: dict[str, Any], body: dict[str, Any]) -> None:
        """Someone looks at the tab: publish their view, unless it is current already."""
        user = event.get("user")
        if event.get("tab") != "home" or not user:
            return
        self.opened[user] = body.get("team_id", "")
        published = self._published.get(user)
        if user not in self._dirty and published and self.rt.now() - published < self.interval:
            return  # published moments ago and nothing changed since
        self._dirty.add(user)
        await self.flush()

    async def on_report(self, ack, body: dict[str, Any]) -> None:
        """A facilitator's report buttons: the report, or the chart, by direct message
        (a Home tab has no channel to answer in privately)."""
        await ack()
        user, team = body["user"]["id"], body["user"].get("team_id")
        action = body["actions"][0]
        async with kind_errors("a Home tab report button", team) as answer:
            cohort = await cohorts.get_cohort_by_id(self.rt.db, int(action.get("value") or 0))
            if cohort is None or cohort.platform != "slack":
                raise NotFound("That cohort no longer exists.")
            await access.require_facilitator(self.rt, user, cohort)
            if action["action_id"] == REPORT_CHART:
                await self.rt.reporting.send_chart(cohort, user)
            else:
                await self.rt.reporting.send_round_report(cohort, user)
        if answer.text is not None:
            await self.rt.client.chat_postMessage(channel=user, text=answer.text)

    # ------------------------------------------------------------------ changes

    def cohort_changed(self, cohort_id: int) -> None:
        """Something in a cohort changed: its members' and facilitators' views are stale."""
        if self.opened:
            self._dirty_cohorts.add(cohort_id)
            self._arm(self.delay)

    def people_changed(self, users: Iterable[str]) -> None:
        """These people's part in Praxis changed (e.g. they joined a facilitator group)."""
        stale = {u for u in users if u in self.opened}
        if stale:
            self._dirty |= stale
            self._arm(self.delay)

    def everything_changed(self) -> None:
        """A cohort was created, edited or deleted: who is in what may have changed."""
        self._rosters.clear()
        self.people_changed(list(self.opened))

    async def ticked(self, report) -> None:
        """Rounds a tick posted, paired, missed or closed change their cohorts' views."""
        if not self.opened:
            return
        changed = {*report.rounds.posted, *report.rounds.missed, *report.rounds.closed,
                   *report.assigned}  # fmt: skip
        try:
            for round_id in changed:
                round_ = await rounds.get_round(self.rt.db, round_id)
                if round_ is not None:
                    self.cohort_changed(round_.cohort_id)
        except PraxisError as error:  # the database is busy or down: the tick says so
            log.warning("Home tabs not refreshed after a tick (%s)", type(error).__name__)

    # ------------------------------------------------------------------ batches

    async def flush(self) -> None:
        """Publish every stale view whose person may have one now; come back for the rest."""
        async with self._lock:
            now = self.rt.now()
            gather = Gather(self, now)
            await self._resolve_cohorts(gather)
            due = sorted(u for u in self._dirty if self._may_publish(u, now))
            for user in due:
                self._dirty.discard(user)
                self._published[user] = now
                await self._publish(gather, user)
            waits = [self._published[u] + self.interval - now for u in self._dirty]
            if waits:
                self._arm(max(self.delay, min(waits).total_seconds()))

    def _may_publish(self, user: str, now: datetime) -> bool:
        published = self._published.get(user)
        return user in self.opened and (published is None or now - published >= self.interval)

    async def _resolve_cohorts(self, gather: Gather) -> None:
        """Dirty cohorts become dirty people: the openers in their channel or facilitating."""
        changed, self._dirty_cohorts = self._dirty_cohorts, set()
        for cohort_id in changed:
            cohort = await cohorts.get_cohort_by_id(self.rt.db, cohort_id)
            if cohort is None or cohort.platform != "slack":
                continue
            members = {p.id for p in await self.roster(cohort)}
            for user, team in list(self.opened.items()):  # an opening may add one meanwhile
                if user in self._dirty or await self.rt.ids.known("team", team) != cohort.guild_id:
                    continue
                number = await self.rt.ids.known("user", user)
                if number in members or await access.is_facilitator(
                    self.rt, await self.rt.people.person(user), cohort
                ):
                    self._dirty.add(user)

    async def _publish(self, gather: Gather, user: str) -> None:
        try:
            view = home_view(await gather.home(user, self.opened[user]))
            await self.rt.client.views_publish(user_id=user, view=view)
        except SlackApiError as error:  # the next change, or opening the tab, tries again
            code = error.response.get("error") if error.response else "unknown"
            log.warning("Could not publish a Home tab (%s)", code)

    async def roster(self, cohort: Cohort) -> list[Person]:
        """The cohort's members, read from Slack at most every few minutes for all views."""
        now = self.rt.now()
        cached = self._rosters.get(cohort.id)
        if cached is not None and now - cached[0] < ROSTER_TTL:
            return cached[1]
        found = await self.rt.chat.roster(cohort)
        if found is None:  # Slack unavailable now: nobody, this time
            return []
        self._rosters[cohort.id] = (now, found)
        return found

    def _arm(self, seconds: float) -> None:
        """Flush in ``seconds``, or sooner if already planned. A timer, not a waiting
        task: nothing runs (and nothing waits on Praxis) until it fires."""
        loop = asyncio.get_running_loop()
        if self._timer is not None:
            if self._timer.when() <= loop.time() + seconds:
                return
            self._timer.cancel()
        self._timer = loop.call_later(seconds, self._fire)

    def _fire(self) -> None:
        self._timer = None
        self._task = asyncio.get_running_loop().create_task(self._flush_logged())

    async def _flush_logged(self) -> None:
        try:
            await self.flush()
        except Exception:
            log.exception("Publishing Home tabs failed; the next change tries again")

    async def close(self) -> None:
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
        task, self._task = self._task, None
        if task is not None and not task.done():
            task.cancel()
