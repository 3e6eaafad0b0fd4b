"""Run the bot until SIGINT or SIGTERM, then close everything in order.

``bot.close()`` stops the scheduler, lets a tick or a batch of messages in flight finish
(for a few seconds at most), disconnects from Discord and closes the database, so the
process exits promptly with nothing half-written; aiosqlite would otherwise keep it alive.
"""

from __future__ import annotations

import asyncio
import logging
import signal
from collections.abc import Awaitable, Callable

import discord
from slack_sdk.errors import SlackApiError

from bot.app import PraxisBot, create_bot, freeze_long_lived_objects
from bot.config import Settings
from bot.core.errors import StorageUnavailable

log = logging.getLogger(__name__)


async def run_until_stopped(
    settings: Settings, connect: Callable[[PraxisBot], Awaitable[None]] | None = None
) -> int:
    """Serve Discord, Slack or both (by which credentials are set) until a signal.

    ``connect`` stands in for logging in to Discord (fault tests). The first platform
    to be ready starts the scheduler; a platform that fails to start stops the process.
    """
    bot = create_bot(settings)
    bot.add_listener(_freeze_at_first_ready(), "on_ready")
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    sessions = []
    if connect is not None or settings.discord_enabled:
        sessions.append(connect(bot) if connect else bot.start(settings.discord_token or ""))
    if settings.slack_enabled:
        sessions.append(_serve_slack(bot, alone=not sessions))
    runners = {asyncio.create_task(session) for session in sessions}
    stopper = asyncio.create_task(stop.wait())
    try:
        done, _ = await asyncio.wait(runners | {stopper}, return_when=asyncio.FIRST_COMPLETED)
        for runner in done - {stopper}:
            runner.result()  # surfaces a login failure below
        if stopper in done:
            log.info("Stopping on signal")
    except SlackApiError as error:
        code = error.response.get("error") if error.response else "unknown"
        log.error("Slack refused to start Praxis (%s). Check SLACK_BOT_TOKEN and "
                  "SLACK_APP_TOKEN in .env.", code)  # fmt: skip
        return 2
    except discord.LoginFailure:
        log.error("Discord rejected the token. Check DISCORD_TOKEN in .env.")
        return 2
    except discord.PrivilegedIntentsRequired:
        log.error(
            "Discord refused a privileged intent. Turn on Message Content and Server Members "
            "for the bot in the Developer Portal, or switch them off in .env."
        )
        return 2
    except StorageUnavailable as problem:  # at start: the database can't be opened or written
        log.error(
            "Could not open the database (%s). Check DATABASE_URL or DATABASE_PATH, and that "
            "the database server is running.",
            problem.reason,
        )
        return 1
    except (OSError, discord.HTTPException, discord.GatewayNotFound) as error:
        log.error(
            "Could not reach Discord or Slack (%s). Check the network and try again.",
            type(error).__name__,
        )
        return 1
    finally:
        stopper.cancel()
        await bot.close()
        for runner in runners:
            if not runner.done():
                runner.cancel()
    return 0


async def _serve_slack(bot: PraxisBot, *, alone: bool) -> None:
    """Meet the workspace, read back what was missed, then receive Slack's events."""
    await bot.start_slack()
    assert bot.slack is not None
    await bot.slack.serve()
    log.info("Serving Slack workspace %s", bot.slack.team_id)
    if alone:  # no Discord ready will come to do these
        freeze_long_lived_objects()
    bot.start_scheduler()
    await asyncio.Event().wait()  # until the process is stopped


def _freeze_at_first_ready() -> Callable[[], Awaitable[None]]:
    frozen = False

    async def on_ready() -> None:
        nonlocal frozen
        if not frozen:
            frozen = True
            freeze_long_lived_objects()

    return on_ready
