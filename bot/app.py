"""Building and running the bot: ``create_bot(settings)`` is the one factory.

``praxis run`` and every test build the bot here, so what the tests exercise is what
runs in production. ``setup_hook`` opens the database, applies migrations, loads the
cogs listed in :data:`EXTENSIONS` and syncs commands; the first ready (unless disabled)
starts the scheduler. ``close`` undoes all of it, the database last.
"""

from __future__ import annotations

import asyncio
import gc
import logging
import time
from collections.abc import Awaitable, Callable, Container
from datetime import datetime
from typing import TYPE_CHECKING

import discord
from discord.ext import commands

from bot.config import Settings
from bot.core import cohorts, health, privacy
from bot.core.leases import EVERYTHING, Leases
from bot.core.platforms import Platforms
from bot.core.reflections import ContextCache
from bot.core.tick import STORAGE_RETRY, TickReport, run_tick
from bot.core.unread import Unread
from bot.discord.chat import DiscordChat
from bot.discord.tree import PraxisTree
from bot.logs import guard_sensitive_loggers
from bot.scheduler import TickScheduler
from bot.storage import db as storage_db
from bot.storage.db import Database

if TYPE_CHECKING:
    from bot.slack.runtime import SlackRuntime

log = logging.getLogger(__name__)

#: How long ``close`` waits for a tick or a batch in flight (SIGTERM must exit within 10 s).
SHUTDOWN_GRACE = 4.0

#: Every extension Praxis loads, in order. One place to add a cog.
EXTENSIONS: tuple[str, ...] = (
    "cogs.cohorts",
    "cogs.prompts",
    "cogs.rounds",
    "cogs.reflections",
    "cogs.member",
    "cogs.nudges",
    "cogs.reports",
)


def intents_for(settings: Settings) -> discord.Intents:
    """Guilds and members for roles; message content only to read reflections in threads."""
    intents = discord.Intents.default()
    intents.members = settings.members_intent
    intents.message_content = settings.message_content_intent
    intents.presences = False
    intents.typing = False
    return intents


def skip_voice_warnings() -> None:
    """Praxis never joins voice, so discord.py's start-up warnings that PyNaCl and davey
    (voice libraries) are missing only alarm a self-hoster. discord.py logs each one once,
    in ``Client.__init__``, while these flags are true; clearing them silences exactly
    those two lines (voice itself would still refuse clearly if ever used)."""
    discord.VoiceClient.warn_nacl = False
    discord.VoiceClient.warn_dave = False


class PraxisBot(commands.Bot):
    def __init__(self, settings: Settings, **options) -> None:
        skip_voice_warnings()
        super().__init__(
            **options,
            command_prefix=commands.when_mentioned,
            intents=intents_for(settings),
            tree_cls=PraxisTree,
            help_command=None,
            allowed_mentions=discord.AllowedMentions.none(),
            # No message cache: Praxis reads edits and deletes from raw events, so the
            # cache would only hold members' reflection texts in memory for nothing.
            max_messages=None,
        )
        self.settings = settings
        self._db: Database | None = None
        #: The core's one Chat: each cohort's calls go to its own platform's adapter.
        self.chat = Platforms(discord=DiscordChat(self))
        #: The Slack half of this process, when SLACK_BOT_TOKEN is set (see open_storage).
        self.slack: SlackRuntime | None = None
        self._opening = asyncio.Lock()
        self.scheduler: TickScheduler | None = None
        self._tick_lock = asyncio.Lock()
        self.contexts: ContextCache | None = None
        #: Open rounds whose threads backfill hasn't read yet: the tick holds their nudges.
        self.unread = Unread()
        self.storage = health.StorageWatch()
        self._woken_for_trouble = -STORAGE_RETRY.total_seconds()  # monotonic: when last
        self._closing = False
        #: Run after every tick whose heartbeat went through: each retries what the
        #: database refused earlier, and must be cheap when there is nothing to retry.
        self.retry_hooks: list[Callable[[], Awaitable[None]]] = []
        #: Called with every message received; they must only queue it (see dispatch).
        self.message_handlers: list[Callable[[discord.Message], None]] = []
        #: This process's hold on its servers' scheduled work, when it is one of several.
        self.leases = (
            Leases(self.serves, settings.lease_seconds) if settings.several_processes else None
        )
        self._lease_keeper: asyncio.Task | None = None
        #: The cohorts this process did the scheduled work of at its last tick that could
        #: read its leases: whose facilitators it tells of a storage outage.
        self.owned: Container[int] = EVERYTHING if self.leases is None else frozenset()

    def serves(self, platform: str, guild_id: int) -> bool:
        """Whether this process can do a server's scheduled work: a Discord server in one
        of its shards (Discord's own rule for which shard a server is on), any Slack
        workspace if it serves Slack."""
        if platform == "slack":
            return self.settings.slack_enabled
        count, ids = self.settings.shard_count, self.settings.shard_ids
        return count is None or ids is None or (guild_id >> 22) % count in ids

    @property
    def db(self) -> Database:
        if self._db is None:
            raise RuntimeError("The database opens in setup_hook; the bot has not started yet.")
        return self._db

    async def open_storage(self) -> None:
        """Open and migrate the database, and build the Slack side if it is configured.

        Discord calls this from ``setup_hook``; a Slack-only process (and a Slack test)
        calls it directly, since it never logs in to Discord.
        """
        async with self._opening:  # Discord's setup_hook and the Slack start may race
            if self._db is None:
                await self._open_storage()

    async def _open_storage(self) -> None:
        self._db = await storage_db.open_database(self.settings)
        applied = await self._db.migrate()
        await cohorts.refresh_name_keys(self._db)
        self.contexts = ContextCache(self._db)
        self.chat.db = self._db
        if applied:
            log.info("Database migrated to version %s", applied[-1])
        if self.settings.slack_enabled:
            from bot.slack.runtime import SlackRuntime  # only Slack deployments import Bolt

            self.slack = SlackRuntime(
                self.settings,
                self._db,
                self.contexts,
                tick_now=lambda: self.tick(self.slack.now()),
                schedule_changed=lambda: self.schedule_changed(self.slack.now()),
                storage=self.storage,
                storage_trouble=self.storage_trouble,
                unread=self.unread,
            )
            self.chat.add("slack", self.slack.chat)
            self.retry_hooks.append(self.slack.threads.retry_refused)

    async def start_slack(self) -> None:
        """Open storage, then meet the workspace (``auth.test``) and read back missed replies.

        The process's runner then serves Slack's events; tests hand them to
        ``bot.slack.app`` through the simulated Slack instead.
        """
        await self.open_storage()
        if self.slack is None:
            raise RuntimeError("Slack is not configured: set SLACK_BOT_TOKEN.")
        await self.slack.connect()

    async def setup_hook(self) -> None:
        await self.open_storage()
        for extension in EXTENSIONS:
            await self.load_extension(extension)
        await self.sync_commands()

    async def on_ready(self) -> None:
        """Start the scheduler once the servers are cached: a tick before that would find
        no rosters and no channels, and put nudges and digests off until the next one."""
        self.start_scheduler()

    def start_scheduler(self) -> None:
        """Once, when the platforms are ready (Discord's first ready, or Slack alone)."""
        if self.settings.scheduler_enabled and self.scheduler is None and not self._closing:
            self.scheduler = TickScheduler(self.tick, self.settings.reconcile_seconds)
            self.scheduler.start()
            if self.leases is not None:
                self._lease_keeper = asyncio.create_task(self._keep_leases())

    async def _keep_leases(self) -> None:
        """Renew this process's leases every third of their length, between ticks too."""
        while True:
            await asyncio.sleep(self.leases.seconds / 3)
            try:
                await self.leases.keep(self.db)
            except Exception:  # the next tick takes them again, or leaves them to others
                log.exception("Could not renew this process's leases")

    async def sync_commands(self) -> None:
        if self.settings.dev_guild_id:
            guild = discord.Object(id=self.settings.dev_guild_id)
            self.tree.copy_global_to(guild=guild)
            await self.tree.sync(guild=guild)
        else:
            await self.tree.sync()

    async def tick(self, now: datetime) -> TickReport:
        """Do everything due at ``now``: the single entry point for scheduled work.

        Ticks never overlap: the scheduler's wake-up and reconcile jobs, a facilitator's
        "post now" and the tests all queue here.
        """
        async with self._tick_lock:
            report = await run_tick(self.db, self.chat, now, self.unread, self.leases)
            if report.storage_problem is None and not report.busy:
                self.owned = report.ownership.cohorts
            await self._watch_storage(report)
        self.forget_round_lookups()
        if self.scheduler is not None:
            self.scheduler.wake_at(report.next_due)
            if report.held and not self.unread.pending:  # backfill ended during this tick
                self.scheduler.wake_soon()
        if self.slack is not None:
            await self.slack.home.ticked(report)  # Slack Home tabs showing those rounds
        return report

    async def _watch_storage(self, report: TickReport) -> None:
        """Say once when the database stops taking writes, and once when it takes them again.

        After every tick whose heartbeat went through, the retry hooks redo what was
        refused (the reflections cog reads threads back). An outage is over only once
        they went through without a new refusal: a nearly full disk can take the small
        heartbeat and still refuse a batch of messages.
        """
        watch, failure = self.storage, self.storage.new_failure(self.db)
        if watch.down_since is None and failure is not None:
            watch.went_down(failure, report.now)
            log.error("The database can't be written (%s). Praxis keeps running and will "
                      "resume by itself once that is fixed.", failure.reason)  # fmt: skip
            await health.tell_facilitators(
                self.db,
                self.chat,
                "Praxis can't save right now",
                health.down_text(failure),
                self.owned,
            )
            return
        if report.storage_problem is not None or report.busy:
            return  # the retries would be refused the same way
        for retry in self.retry_hooks:
            try:
                await retry()
            except Exception:  # one cog's retry must not stop the others, nor the tick
                log.exception("Retrying refused work failed; the next tick tries again")
        if watch.down_since is not None and watch.new_failure(self.db) is None:
            since = watch.down_since
            watch.came_back()
            log.warning("The database takes writes again; what it refused has been redone.")
            await health.tell_facilitators(
                self.db, self.chat, "Praxis is saving again", health.up_text(since), self.owned
            )

    def read_back(self) -> None:
        """Backfill has read every thread: the rounds it held can have their nudges now."""
        if self.scheduler is not None and not self.unread.pending:
            self.scheduler.wake_soon()

    def storage_trouble(self) -> None:
        """A write just failed outside a tick: let a tick soon confirm and announce it.

        Once the outage is known, or a refusal woke a tick less than ``STORAGE_RETRY``
        ago, the ticks' own retries are enough: woken for every refused message, an
        outage with members writing could run a failing tick, and log it, every second.
        """
        if self.scheduler is None or self.storage.down_since is not None:
            return
        now = time.monotonic()
        if now - self._woken_for_trouble < STORAGE_RETRY.total_seconds():
            return
        self._woken_for_trouble = now
        self.scheduler.wake_soon()

    def forget_round_lookups(self) -> None:
        """Rounds or cohorts changed: cached thread lookups may be stale."""
        if self.contexts is not None:
            self.contexts.clear()

    async def schedule_changed(self, now: datetime) -> None:
        """A cohort changed: drop cached lookups and let the scheduler re-plan."""
        self.forget_round_lookups()
        if self.scheduler is not None:
            self.scheduler.wake_soon()

    def dispatch(self, event_name: str, /, *args, **kwargs) -> None:
        """Hand every message to the cogs that take messages, right here, with no task.

        Handlers are plain functions that only queue the message, so they need no task of
        their own; discord.py would start one per message for ``on_message`` (about 8 % of
        the loop under a burst in ``bench.ingest``). Anything else that listens for
        messages (a ``wait_for``, a cog listener) still gets them the usual way. A handler's
        error is logged, never raised into discord.py's gateway reader.
        """
        if event_name == "message":
            for take in self.message_handlers:
                try:
                    take(args[0])
                except Exception:
                    log.exception("A message handler failed")
            # extra_events: cog listeners; _listeners: discord.py's pending wait_for futures.
            if not self.extra_events.get("on_message") and not self._listeners.get("message"):
                return
        super().dispatch(event_name, *args, **kwargs)

    async def on_message(self, message: discord.Message) -> None:
        """Nothing: messages are handed over in :meth:`dispatch`. Defined so that
        ``commands.Bot``'s prefix parsing never runs: Praxis has only application commands."""

    async def close(self) -> None:
        if self._closing:
            return
        self._closing = True
        if self.scheduler is not None:
            self.scheduler.shutdown()
            self.scheduler = None
        await self._finish_work_in_flight()
        await self._give_up_leases()
        if self.slack is not None:
            await self.slack.close()
        privacy.stop_checker()
        try:
            await super().close()
        finally:
            if self._db is not None:
                await self._db.close()
                self._db = None

    async def _finish_work_in_flight(self) -> None:
        """Let a running tick finish and unload the cogs (the reflections cog stores what it
        has queued), within :data:`SHUTDOWN_GRACE`. Past that, whatever is still running
        is cut off: its open transaction rolls back, and the next start picks it up."""
        if self._db is None:
            return
        try:
            async with asyncio.timeout(SHUTDOWN_GRACE):
                await self._tick_lock.acquire()  # held from here on: no new tick starts
                for name in list(self.extensions):
                    await self.unload_extension(name)
        except TimeoutError:
            log.warning("Stopping with work still in flight; it is rolled back and redone "
                        "at the next start.")  # fmt: skip

    async def _give_up_leases(self) -> None:
        """A clean stop releases the leases, so a restart needn't wait for them to expire."""
        if self._lease_keeper is not None:
            self._lease_keeper.cancel()
        if self.leases is not None and self._db is not None:
            try:
                await self.leases.release(self._db)
            except Exception:  # they expire by themselves
                log.warning("Could not release this process's leases; they expire by themselves.")


class ShardedPraxisBot(PraxisBot, commands.AutoShardedBot):
    """Praxis connecting some or all of Discord's shards (``SHARD_COUNT``, ``SHARD_IDS``):
    discord.py's own sharded client, one gateway connection per shard."""


def freeze_long_lived_objects() -> None:
    """Hide everything alive now from the cyclic garbage collector, for good.

    ``praxis run`` calls this once, at the first ready: what is alive then (modules, the
    server and member caches) lives as long as the process. A burst of thread messages
    then triggers full collections that walk only what is new instead of 100,000+
    long-lived objects each time (about +15 % in ``bench.ingest``). Tests don't call it:
    they build many bots in one process, and frozen garbage is never collected.
    """
    gc.collect()
    gc.freeze()


def create_bot(settings: Settings) -> PraxisBot:
    guard_sensitive_loggers()
    if settings.shard_count is None:
        return PraxisBot(settings)
    shard_ids = list(settings.shard_ids or range(settings.shard_count))
    return ShardedPraxisBot(settings, shard_count=settings.shard_count, shard_ids=shard_ids)
