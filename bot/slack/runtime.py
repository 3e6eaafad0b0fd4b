"""The Slack half of a Praxis process: the Bolt app, its Web API client, and the adapter.

``SlackRuntime`` is built by ``PraxisBot`` when Slack credentials are set, over the same
database and tick as Discord. Socket Mode (``SLACK_APP_TOKEN``) needs no public URL;
HTTP mode (``SLACK_SIGNING_SECRET`` and ``SLACK_PORT``) serves Slack's requests at
``/slack/events``. Tests hand events to :attr:`app` through the simulated Slack.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from typing import Any

from slack_bolt.async_app import AsyncApp
from slack_sdk.http_retry.builtin_async_handlers import (
    AsyncConnectionErrorRetryHandler,
    AsyncRateLimitErrorRetryHandler,
)
from slack_sdk.web.async_client import AsyncWebClient

from bot.config import Settings
from bot.core.health import StorageWatch
from bot.core.reflections import ContextCache
from bot.core.unread import Unread
from bot.slack.chat import SlackChat
from bot.slack.commands import Commands
from bot.slack.directory import Directory
from bot.slack.home import HomeTabs
from bot.slack.ids import SlackIds
from bot.slack.member import Member
from bot.slack.ratings import Ratings
from bot.slack.reflect import ReflectForms
from bot.slack.reporting import Reporting
from bot.slack.threads import Threads
from bot.storage.db import Database

log = logging.getLogger(__name__)

SLACK_API_URL = "https://slack.com/api/"
EVENTS_PATH = "/slack/events"


def utcnow() -> datetime:
    return datetime.now(UTC)


class SlackRuntime:
    def __init__(
        self,
        settings: Settings,
        db: Database,
        contexts: ContextCache,
        *,
        tick_now: Callable[[], Awaitable[Any]],
        schedule_changed: Callable[[], Awaitable[None]],
        storage: StorageWatch | None = None,
        storage_trouble: Callable[[], None] = lambda: None,
        unread: Unread | None = None,
    ) -> None:
        self.settings = settings
        self.db = db
        self.contexts = contexts
        self.clock: Callable[[], datetime] = utcnow
        self._tick_now = tick_now
        self._schedule_changed = schedule_changed
        #: Whether the database takes writes (the bot's watch), and the call that says a
        #: write was just refused, so the next tick comes soon to confirm and tell.
        self.storage = storage or StorageWatch()
        self.storage_trouble = storage_trouble
        #: Rounds whose threads backfill hasn't read yet (shared with the bot's tick).
        self.unread = unread if unread is not None else Unread()
        self.client = AsyncWebClient(
            token=settings.slack_bot_token,
            base_url=settings.slack_api_url or SLACK_API_URL,
            retry_handlers=[
                AsyncRateLimitErrorRetryHandler(max_retry_count=3),  # honours Retry-After
                AsyncConnectionErrorRetryHandler(max_retry_count=2),
            ],
        )
        self.ids = SlackIds(db)
        self.people = Directory(self.client, clock=lambda: self.clock().timestamp())
        self.chat = SlackChat(self.client, self.ids, self.people)
        self.app = AsyncApp(
            client=self.client,
            signing_secret=settings.slack_signing_secret or "",
            request_verification_enabled=bool(settings.slack_signing_secret),
            raise_error_for_unhandled_request=False,
        )
        self.threads = Threads(self)
        self.commands = Commands(self)
        self.home = HomeTabs(self)
        self.reflect = ReflectForms(self)  # Write reflection, Give feedback, the privacy check
        self.commands.add("reflect", self.reflect.reflect_command)
        self.app.event("user_change")(self.on_user_change)
        self.app.event("subteam_members_changed")(self.on_group_change)
        self.threads.register(self.app)
        self.commands.register(self.app)
        self.home.register(self.app)
        self.reporting = Reporting(self)
        self.reporting.register(self.commands)
        Member(self).register(self.commands, self.app)
        self.reflect.register(self.app)
        self.ratings = Ratings(self)  # "was it helpful?" to a reflection's writer, by DM
        self.ratings.register(self.app)
        self.bot_user_id: str | None = None
        self.team_id: str | None = None
        self._server: Any = None

    async def on_user_change(self, event: dict[str, Any]) -> None:
        """Slack says someone changed (name, admin flag, deactivated): remember the new facts."""
        if event.get("user"):
            self.people.learn(event["user"])

    async def on_group_change(self, event: dict[str, Any]) -> None:
        """A user group gained or lost members: facilitators changed."""
        added, removed = event.get("added_users") or [], event.get("removed_users") or []
        self.people.group_changed(event.get("subteam_id", ""), added, removed)
        self.home.people_changed([*added, *removed])

    def now(self) -> datetime:
        return self.clock()

    async def tick_now(self) -> None:
        await self._tick_now()

    async def schedule_changed(self) -> None:
        await self._schedule_changed()
        self.home.everything_changed()  # a cohort was created, edited or deleted

    async def connect(self) -> None:
        """Learn who Praxis is in the workspace, then read back what was missed."""
        who = await self.client.auth_test()
        self.bot_user_id, self.team_id = who["user_id"], who["team_id"]
        self.chat.workspace_url = who.get("url")
        if await self.ids.known("team", self.team_id) is None:  # no write when known
            await self.ids.number("team", self.team_id)
        stored = await self.threads.catch_up()
        if stored:
            log.info("Read back %d Slack thread messages posted while Praxis was away", stored)

    async def serve(self) -> None:
        """Receive events: Socket Mode with an app token, else HTTP on ``SLACK_PORT``."""
        if self.settings.slack_app_token:
            from slack_bolt.adapter.socket_mode.async_handler import AsyncSocketModeHandler

            self._server = AsyncSocketModeHandler(self.app, self.settings.slack_app_token)
            await self._server.connect_async()
            return
        from aiohttp import web
        from slack_bolt.app.async_server import AsyncSlackAppServer

        server = AsyncSlackAppServer(port=self.settings.slack_port, path=EVENTS_PATH, app=self.app)
        runner = web.AppRunner(server.web_app, access_log=None)
        await runner.setup()
        await web.TCPSite(runner, port=self.settings.slack_port).start()
        self._server = runner

    async def close(self) -> None:
        await self.home.close()
        await self.ratings.questions.close()  # unclaimed questions are asked after a restart
        server, self._server = self._server, None
        if server is None:
            return
        if hasattr(server, "close_async"):
            await server.close_async()
        else:
            await server.cleanup()
