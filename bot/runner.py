"""Run the bot until SIGINT or SIGTERM, then close everything in order.

``bot.close()`` stops the scheduler, disconnects from Discord and closes the database,
so the process exits promptly; aiosqlite would otherwise keep it alive.
"""

from __future__ import annotations

import asyncio
import logging
import signal

import discord

from bot.app import create_bot
from bot.config import Settings

log = logging.getLogger(__name__)


async def run_until_stopped(settings: Settings) -> int:
    bot = create_bot(settings)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    runner = asyncio.create_task(bot.start(settings.discord_token or ""))
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
