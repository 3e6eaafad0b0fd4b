"""A Slack workspace with Praxis in it, on the simulated Slack (``slacksim``)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

from bot.app import PraxisBot, create_bot
from bot.config import Settings
from slacksim import Conversation, Person, SlackSim, Workspace

#: A Monday, 08:00 in London (UTC+0 in January): the simulated clock starts here.
START = datetime(2026, 1, 5, 8, 0, tzinfo=UTC)


@dataclass
class SlackWorld:
    slack: SlackSim
    ws: Workspace
    room: Conversation
    admin: Person
    fran: Person  # in the facilitators' user group, not an admin
    members: list[Person]
    outsider: Person  # in the workspace, not in the cohort channel
    staff: object
    bots: list[PraxisBot] = field(default_factory=list)

    @property
    def bot(self) -> PraxisBot:
        return self.bots[-1]

    @property
    def db(self):
        return self.bot.db


def slack_settings(slack: SlackSim, ws: Workspace, path: Path) -> Settings:
    return Settings(
        database_path=path,
        scheduler_enabled=False,
        slack_bot_token=ws.bot_token,
        slack_signing_secret=slack.signing_secret,
        slack_api_url=slack.api_url,
    )


async def start_praxis(world: SlackWorld, path: Path) -> PraxisBot:
    """Build Praxis through the one factory, connect it to the simulated Slack, meet the
    workspace (and read back anything missed). A new call is a restart on the same file."""
    bot = create_bot(slack_settings(world.slack, world.ws, path))
    await bot.open_storage()
    bot.slack.clock = world.slack.now
    world.slack.connect(bot.slack.app)
    await bot.start_slack()
    world.bots.append(bot)
    return bot


def build_slack_world(slack: SlackSim, n_members: int = 4) -> SlackWorld:
    slack.set_time(START)
    ws = slack.create_workspace("Practice School")
    admin = ws.add_user("amal", admin=True, tz="Europe/London")
    fran = ws.add_user("fran", tz="Europe/London")
    names = ["ada", "ben", "cleo", "dev", "eli", "fay", "gus", "hana"]
    members = [ws.add_user(names[i % len(names)] + str(i)) for i in range(n_members)]
    outsider = ws.add_user("visitor")
    room = ws.create_channel("reflections", members=[admin, fran, *members])
    staff = ws.create_usergroup("facilitators", users=[fran])
    return SlackWorld(slack, ws, room, admin, fran, members, outsider, staff)


async def create_cohort(world: SlackWorld, name: str = "Autumn", **values) -> None:
    """``/praxis create`` as the admin, then the form, filled."""
    opened = await world.admin.command("/praxis", "create", channel=world.room)
    assert opened.view is not None, opened.text
    filled = {"name": name, "channel": world.room.id, "facilitators": world.staff.id}
    filled.update(values)
    done = await world.admin.submit(opened.view, filled)
    assert not done.errors, done.errors
    assert "Created" in world.admin.private_messages()[-1].text


def prompts(world: SlackWorld) -> list:
    """The round prompts Praxis posted in the cohort channel."""
    return [m for m in world.ws.messages(world.room) if m.metadata]


def assert_no_errors_logged(caplog) -> None:
    """A Slack handler that failed unexpectedly logs an error (and apologises): in a test,
    that is a bug, even if the test's own assertions passed."""
    errors = [r for r in caplog.records if r.levelname in ("ERROR", "CRITICAL")]
    assert not errors, [f"{r.name}: {r.getMessage()}" for r in errors]


@asynccontextmanager
async def running_praxis(directory: Path, n_members: int = 4) -> AsyncIterator[SlackWorld]:
    """A simulated Slack with a workspace (see :func:`build_slack_world`) and Praxis
    running on a database file in ``directory``; every Praxis built is closed after."""
    async with SlackSim() as slack:
        world = build_slack_world(slack, n_members=n_members)
        world.path = directory / "praxis.db"
        await start_praxis(world, world.path)
        try:
            yield world
        finally:
            for bot in world.bots:
                await bot.close()


async def open_round(world: SlackWorld, **values) -> object:
    """A cohort on Mondays 09:00 London, and its first round posted: the prompt message."""
    await create_cohort(world, timezone="Europe/London", weekday="monday", time="09:00", **values)
    world.slack.advance_time(timedelta(hours=1))
    await world.bot.tick(world.slack.now())
    (prompt,) = prompts(world)
    return prompt
