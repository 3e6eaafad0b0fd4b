"""Logging set-up that keeps reflections and tokens out of log files.

discord.py logs HTTP payloads and gateway events at DEBUG, and those carry message
text. Its loggers are therefore held at INFO or above whatever ``LOG_LEVEL`` says;
Praxis's own modules never log message or form text at any level.
"""

from __future__ import annotations

import logging

QUIET_LOGGERS = ("discord", "aiosqlite", "apscheduler")


def configure_logging(level: str) -> None:
    logging.basicConfig(
        level=level,
        format="%(asctime)s %(levelname)-7s %(name)s: %(message)s",
        datefmt="%Y-%m-%d %H:%M:%S",
    )
    logging.getLogger().setLevel(level)  # basicConfig is a no-op once a handler exists
    for name in QUIET_LOGGERS:
        logger = logging.getLogger(name)
        logger.setLevel(max(logging.getLevelName(level), logging.INFO))
