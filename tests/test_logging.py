"""configure_logging keeps discord.py's DEBUG payload logs (message text) out of the logs."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager

import pytest

from bot.logs import QUIET_LOGGERS, configure_logging

WATCHED = ("discord", "discord.http", "discord.gateway", "discord.client", *QUIET_LOGGERS)


@contextmanager
def fresh_logging() -> Iterator[logging.Logger]:
    """A root logger without handlers, as in a new process; everything restored afterwards.

    Used inside the test body: pytest adds its own root handlers for the call phase
    after fixtures are set up, and ``basicConfig`` does nothing while any exist.
    """
    root = logging.getLogger()
    saved_handlers = root.handlers[:]
    saved_root_level = root.level
    saved_levels = {name: logging.getLogger(name).level for name in WATCHED}
    for handler in saved_handlers:
        root.removeHandler(handler)
    try:
        yield root
    finally:
        for handler in root.handlers[:]:
            root.removeHandler(handler)
            handler.close()
        for handler in saved_handlers:
            root.addHandler(handler)
        root.setLevel(saved_root_level)
        for name, level in saved_levels.items():
            logging.getLogger(name).setLevel(level)


def test_debug_keeps_discord_at_info_while_root_is_debug(capsys):
    discord_level_before = logging.getLogger("discord").level
    with fresh_logging() as root:
        configure_logging("DEBUG")

        root_level = root.level
        installed_handler = bool(root.handlers)
        praxis_debug = logging.getLogger("bot.core.tick").isEnabledFor(logging.DEBUG)
        discord_levels = {
            name: logging.getLogger(name).getEffectiveLevel()
            for name in ("discord", "discord.http", "discord.gateway", "discord.client")
        }
        logging.getLogger("discord.gateway").debug("payload: my private reflection")
        logging.getLogger("discord.http").debug("POST body: my private reflection")
        logging.getLogger("discord.client").info("discord info line")
        logging.getLogger("bot.core.tick").debug("praxis debug line")
        for handler in root.handlers:
            handler.flush()
        err = capsys.readouterr().err

    assert root_level == logging.DEBUG
    assert installed_handler, "configure_logging installed no handler"
    assert praxis_debug
    for name, level in discord_levels.items():
        assert level >= logging.INFO, name
    assert "private reflection" not in err
    assert "discord info line" in err
    assert "praxis debug line" in err
    assert logging.getLogger("discord").level == discord_level_before  # state restored


@pytest.mark.parametrize("level", ["DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL"])
def test_quiet_loggers_never_below_info_nor_below_the_chosen_level(level: str):
    with fresh_logging() as root:
        configure_logging(level)

        assert root.level == logging.getLevelName(level)
        effective = {name: logging.getLogger(name).getEffectiveLevel() for name in QUIET_LOGGERS}

    for name, value in effective.items():
        assert value >= logging.INFO, name
        assert value >= logging.getLevelName(level), name
    assert "discord" in QUIET_LOGGERS


def test_building_the_bot_does_not_warn_about_voice_libraries(monkeypatch, caplog, tmp_path):
    """Praxis has no voice: discord.py's "PyNaCl/davey is not installed" lines are noise."""
    import discord

    from bot.app import create_bot
    from bot.config import Settings

    monkeypatch.setattr(discord.VoiceClient, "warn_nacl", True)  # as without PyNaCl
    monkeypatch.setattr(discord.VoiceClient, "warn_dave", True)  # as without davey
    with caplog.at_level(logging.WARNING, logger="discord"):
        create_bot(Settings(database_path=tmp_path / "praxis.db", scheduler_enabled=False))
        logging.getLogger("discord.client").warning("an unrelated discord warning")

    voice = [r for r in caplog.records if "voice will NOT be supported" in r.getMessage()]
    assert voice == []
    assert "an unrelated discord warning" in caplog.text  # only those two lines are silenced
