"""Logging set-up that keeps reflections and tokens out of log files.

discord.py logs HTTP payloads and gateway events at DEBUG, and aiosqlite logs every
statement with its parameters: both carry message text. Those loggers are held at INFO
or above whatever ``LOG_LEVEL`` says, and ``create_bot`` applies the same guard, so an
application embedding Praxis with DEBUG logging cannot leak reflections either.
Praxis's own modules never log message or form text at any level.
"""

from __future__ import annotations

import logging

QUIET_LOGGERS = ("discord", "aiosqlite", "apscheduler")


def guard_sensitive_loggers() -> None:
    """Hold loggers whose DEBUG output carries message text at INFO or above."""
    for name in QUIET_LOGGERS:
        logger = logging.getLogger(name)
        if logger.getEffectiveLevel() < logging.INFO or logger.level == logging.NOTSET:
            logger.setLevel(logging.INFO)


def configure_logging(level: str) -> None:
    logging.basicConfig(
        level=level,
        format="%(asctime)s %(levelname)-7s %(name)s: %(message)s",
        datefmt="%Y-%m-%d %H:%M:%S",
    )
    logging.getLogger().setLevel(level)  # basicConfig is a no-op once a handler exists
    for name in QUIET_LOGGERS:
        logging.getLogger(name).setLevel(max(logging.getLevelName(level), logging.INFO))
