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

from bot.app import PraxisBot, create_bot, freeze_long_lived_objects
from bot.config import Settings

log = logging.getLogger(__name__)


async def run_until_stopped(
    settings: Settings, connect: Callable[[PraxisBot], Awaitable[None]] | None = None
) -> int:
    """Run until a signal; ``connect`` stands in for logging in to Discord (fault tests)."""
    bot = create_bot(settings)
    bot.add_listener(_freeze_at_first_ready(), "on_ready")
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    session = connect(bot) if connect else bot.start(settings.discord_token or "")
    runner = asyncio.create_task(session)
    stopper = asyncio.create_task(stop.wait())
    try:
        done, _ = await asyncio.wait({runner, stopper}, return_when=asyncio.FIRST_COMPLETED)
        if runner in done:
            runner.result()  # surfaces a login failure below
        else:
            log.info("Stopping on signal")
    except discord.LoginFailure:
        log.error("Discord rejected the token. Check DISCORD_TOKEN in .env.")
        return 2
    except discord.PrivilegedIntentsRequired:
        log.error(
            "Discord refused a privileged intent. Turn on Message Content and Server Members "
            "for the bot in the Developer Portal, or switch them off in .env."
        )
        return 2
    except (OSError, discord.HTTPException, discord.GatewayNotFound) as error:
        log.error(
            "Could not reach Discord (%s). Check the network and try again.", type(error).__name__
        )
        return 1
    finally:
        stopper.cancel()
        await bot.close()
        if not runner.done():
            runner.cancel()
    return 0


def _freeze_at_first_ready() -> Callable[[], Awaitable[None]]:
    frozen = False

    async def on_ready() -> None:
        nonlocal frozen
        if not frozen:
            frozen = True
            freeze_long_lived_objects()

    return on_ready
