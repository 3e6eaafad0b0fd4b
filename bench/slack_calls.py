"""Slack Web API calls per job, counted from slacksim's call log, against Slack's minimum.

The real Praxis (``create_bot(settings)`` with Slack settings, its real slack-bolt app and
slack-sdk client) talks HTTP on loopback to the simulated Slack (``slacksim``). Three
jobs (target: at most 1.1× the minimum):

1. the weekly post for 100 cohorts: one ``chat.postMessage`` each;
2. the last call to 300 members whose DM channels are already known (the reminder round
   24 hours earlier opened and stored them): one ``chat.postMessage`` each;
3. start-up backfill of the 100 idle open round threads from job 1: one
   ``conversations.replies`` each.

Everything Praxis asks Slack during a job counts, including the roster reads
(``conversations.members``, ``usergroups.users.list``, ``users.info``), which are also
shown on their own. A Praxis process serves one workspace (one bot token) and a
workspace holds at most 25 cohorts, so 100 cohorts are 4 workspaces with one Praxis
each, run one after the other; cohorts are inserted through the core's
``create_cohort(..., platform="slack")`` with their Slack ids interned by
``bot.slack.ids``, as ``/praxis create`` stores them. The directory's one-hour cache of
``users.info`` follows the simulated clock, so a day between two rounds is a day for it.

Each job also reports its wall time and the event loop's longest stall (a probe task
sleeps 5 ms again and again and keeps the largest overshoot). The simulated Slack runs
in the same loop, so both include its share.

    python -m bench.slack_calls
"""

from __future__ import annotations

import argparse
import asyncio
import tempfile
import time
from collections import Counter
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

from bot.app import PraxisBot, create_bot
from bot.config import Settings
from bot.core.cohorts import create_cohort
from bot.core.limits import MAX_COHORTS_PER_GUILD
from slacksim import SlackSim, Workspace

SET_UP = datetime(2026, 1, 5, 8, 0, tzinfo=UTC)  # a Monday, an hour before the default slot
FIRST_SLOT = SET_UP + timedelta(hours=1)  # Monday 09:00 UTC, the default slot
REFLECT_DUE = FIRST_SLOT + timedelta(hours=72)  # the default reflection window
REMINDER = REFLECT_DUE - timedelta(hours=24)  # the default reminder, a day before
TARGET = 1.1
ROSTER_READS = ("conversations.members", "usergroups.users.list", "users.info")
PROBE_INTERVAL = 0.005


@dataclass
class Job:
    name: str
    calls: Counter[str]
    minimum: int
    seconds: float
    stall: float
    stall_cpu: float
    notes: list[str] = field(default_factory=list)

    @property
    def total(self) -> int:
        return sum(self.calls.values())

    @property
    def ratio(self) -> float:
        return self.total / self.minimum

    @property
    def roster_reads(self) -> int:
        return sum(self.calls[method] for method in ROSTER_READS)


class LoopLag:
    """The event loop's longest stall while a block runs: a task sleeps 5 ms again and
    again, and the largest overshoot is the longest the loop was busy elsewhere.

    On a shared machine the overshoot also counts time the process waited for a core, so
    the CPU time the loop's thread spent between two wake-ups is kept too: the work done,
    without the waiting.
    """

    def __init__(self, interval: float = PROBE_INTERVAL) -> None:
        self.interval = interval
        self.longest = 0.0
        self.longest_cpu = 0.0
        self._task: asyncio.Task | None = None

    async def _probe(self) -> None:
        while True:
            started, cpu = time.perf_counter(), time.thread_time()
            await asyncio.sleep(self.interval)
            self.longest = max(self.longest, time.perf_counter() - started - self.interval)
            self.longest_cpu = max(self.longest_cpu, time.thread_time() - cpu)

    async def __aenter__(self) -> LoopLag:
        self._task = asyncio.create_task(self._probe())
        await asyncio.sleep(0)  # let the probe start its first sleep
        return self

    async def __aexit__(self, *exc: object) -> None:
        if self._task is not None:
            self._task.cancel()
            await asyncio.gather(self._task, return_exceptions=True)


async def measure(
    slack: SlackSim, name: str, minimum: int, action: Callable[[], Awaitable[object]]
) -> Job:
    """Run ``action`` and count the Web API calls it made, by method."""
    before = len(slack.calls)
    async with LoopLag() as lag:
        started = time.perf_counter()
        await action()
        seconds = time.perf_counter() - started
    calls = Counter(call.method for call in slack.calls[before:])
    return Job(name, calls, minimum, seconds, lag.longest, lag.longest_cpu)


# ---------------------------------------------------------------------------- set-up


def slack_settings(slack: SlackSim, ws: Workspace, path: Path) -> Settings:
    return Settings(
        database_path=path,
        scheduler_enabled=False,
        slack_bot_token=ws.bot_token,
        slack_signing_secret=slack.signing_secret,
        slack_api_url=slack.api_url,
    )


async def start_praxis(slack: SlackSim, ws: Workspace, path: Path) -> PraxisBot:
    """Praxis for one workspace, as ``tests/slack_helpers.start_praxis`` builds it: the one
    factory, the simulated clock (which the directory's cache ages with), then
    ``auth.test`` and the start-up backfill."""
    bot = create_bot(slack_settings(slack, ws, path))
    await bot.open_storage()
    bot.slack.clock = slack.now
    slack.connect(bot.slack.app)
    await bot.start_slack()
    return bot


async def add_cohorts(slack: SlackSim, ws: Workspace, bot: PraxisBot, count: int,
                      members: int, first: int = 0) -> None:  # fmt: skip
    """``count`` cohorts in ``ws``, each with its own channel of ``members`` people and a
    facilitator from the workspace's facilitator user group, stored as the form stores them."""
    ids = bot.slack.ids
    facilitator = ws.add_user(f"fran{first}")
    staff = ws.create_usergroup(f"facilitators{first}", users=[facilitator])
    team = await ids.number("team", ws.id)
    group = await ids.number("usergroup", staff.id)
    for n in range(first, first + count):
        people = [ws.add_user(f"m{n}x{m}") for m in range(members)]
        room = ws.create_channel(f"cohort-{n}", members=[facilitator, *people])
        channel = await ids.number("channel", room.id)
        await create_cohort(
            bot.db, guild_id=team, name=f"Cohort {n}", channel_id=channel,
            member_role_id=channel, facilitator_role_id=group, options={}, now=slack.now(),
            platform="slack",
        )  # fmt: skip
    bot.forget_round_lookups()


async def open_threads(bot: PraxisBot) -> int:
    return await bot.db.fetch_value("SELECT COUNT(*) FROM rounds WHERE state = 'posted'")


# ---------------------------------------------------------------------------- jobs


async def posting_and_backfill(
    directory: Path, cohorts: int = 100, per_workspace: int = MAX_COHORTS_PER_GUILD,
    members: int = 3,
) -> list[Job]:  # fmt: skip
    """Job 1, the weekly post, then job 3, a restart that backfills the threads it opened."""
    async with SlackSim() as slack:
        slack.set_time(SET_UP)
        schools: list[tuple[Workspace, Path, PraxisBot]] = []
        for first in range(0, cohorts, per_workspace):
            ws = slack.create_workspace(f"School {first // per_workspace}")
            path = directory / f"post-{len(schools)}.db"
            bot = await start_praxis(slack, ws, path)
            await add_cohorts(slack, ws, bot, min(per_workspace, cohorts - first), members, first)
            schools.append((ws, path, bot))
        slack.set_time(FIRST_SLOT)

        async def post_everywhere() -> None:
            for _, _, bot in schools:
                await bot.tick(slack.now())

        posting = await measure(slack, f"weekly post, {cohorts} cohorts", cohorts, post_everywhere)
        threads = sum([await open_threads(bot) for _, _, bot in schools])
        for _, _, bot in schools:
            await bot.close()
        slack.advance_time(timedelta(hours=1))
        restarted: list[PraxisBot] = []

        async def restart_everywhere() -> None:
            for ws, path, _ in schools:
                restarted.append(await start_praxis(slack, ws, path))

        backfill = await measure(
            slack, f"start-up backfill, {threads} idle threads", threads, restart_everywhere
        )
        meetings = backfill.calls.pop("auth.test", 0)
        for bot in restarted:
            await bot.close()
    workspaces = len(schools)
    posting.notes.append(
        f"{workspaces} workspace(s) × up to {per_workspace} cohorts, {members} members and a "
        "facilitator each; cohorts inserted with create_cohort(platform='slack')"
    )
    backfill.notes.append(
        f"not counted: {meetings} auth.test, the one call each Praxis start makes before "
        "its backfill"
    )
    return [posting, backfill]


async def nudging(directory: Path, members: int = 300) -> Job:
    """Job 2: the reminder round opens and stores every DM channel; the last call, a day
    later, is counted."""
    async with SlackSim() as slack:
        slack.set_time(SET_UP)
        ws = slack.create_workspace("Nudge School")
        bot = await start_praxis(slack, ws, directory / "nudge.db")
        await add_cohorts(slack, ws, bot, 1, members)
        for moment in (FIRST_SLOT, REMINDER):
            slack.set_time(moment)
            await bot.tick(slack.now())
        known = await bot.db.fetch_value(
            "SELECT COUNT(*) FROM member_settings WHERE dm_channel_id IS NOT NULL"
        )
        slack.set_time(REFLECT_DUE)
        job = await measure(
            slack, f"last call, {members} known DM channels", members,
            lambda: bot.tick(slack.now()),
        )  # fmt: skip
        sent = await bot.db.fetch_value(
            "SELECT COUNT(*) FROM member_notes"
            " WHERE kind = 'reflect_last_call' AND outcome = 'sent'"
        )
        await bot.close()
    job.notes.append(f"{known} DM channels stored by the reminder round; {sent} last calls sent")
    return job


async def run(cohorts: int = 100, members: int = 300) -> list[Job]:
    with tempfile.TemporaryDirectory() as tmp:
        directory = Path(tmp)
        posting, backfill = await posting_and_backfill(directory, cohorts)
        return [posting, await nudging(directory, members), backfill]


# ---------------------------------------------------------------------------- report


def report(jobs: list[Job]) -> None:
    width = max(len(job.name) for job in jobs)
    print(f"{'job':<{width}}  calls  minimum  ratio  roster reads  wall time  "
          "longest stall (CPU)")  # fmt: skip
    for job in jobs:
        flag = "" if job.ratio <= TARGET else "  over target"
        print(
            f"{job.name:<{width}}  {job.total:>5}  {job.minimum:>7}  {job.ratio:>5.2f}"
            f"  {job.roster_reads:>12}  {job.seconds:>8.2f}s  {job.stall * 1000:>7.1f} ms"
            f" ({job.stall_cpu * 1000:.1f} ms){flag}"
        )
    for job in jobs:
        print(f"\n{job.name}: calls by method")
        for method, count in job.calls.most_common():
            roster = "  (roster read)" if method in ROSTER_READS else ""
            print(f"  {count:>5}  {method}{roster}")
        for note in job.notes:
            print(f"  note: {note}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--cohorts", type=int, default=100, help="cohorts for jobs 1 and 3")
    parser.add_argument("--members", type=int, default=300, help="members nudged in job 2")
    options = parser.parse_args()
    started = time.perf_counter()
    report(asyncio.run(run(options.cohorts, options.members)))
    print(f"\n(target ≤ {TARGET}× the minimum; {time.perf_counter() - started:.0f}s)")


if __name__ == "__main__":
    main()
