"""Fixtures: a real Praxis bot on SimCord, with a file database so restarts keep data."""

from __future__ import annotations

from pathlib import Path

import pytest
import pytest_asyncio

from bot.app import PraxisBot, create_bot
from bot.config import Settings
from tests.helpers import World, build_world


@pytest.fixture
def db_path(tmp_path: Path) -> Path:
    return tmp_path / "praxis.db"


@pytest.fixture
def settings(db_path: Path) -> Settings:
    # APScheduler reads the wall clock, not SimCord's; tests drive time through bot.tick(now).
    return Settings(database_path=db_path, scheduler_enabled=False)


@pytest.fixture
def bots() -> list[PraxisBot]:
    """Every bot a test builds, so each one's database is closed at teardown."""
    return []


@pytest.fixture
def simcord_bot(settings: Settings, bots: list[PraxisBot]) -> PraxisBot:
    bot = create_bot(settings)
    bots.append(bot)
    return bot


@pytest_asyncio.fixture
async def env(simcord_env, bots: list[PraxisBot]):
    """SimCord's environment; closes every bot's database afterwards (SimCord never does)."""
    yield simcord_env
    for bot in bots:
        if bot._db is not None:
            await bot._db.close()
            bot._db = None


@pytest_asyncio.fixture
async def world(env) -> World:
    return build_world(env)


def pytest_terminal_summary(terminalreporter) -> None:
    """Show measured figures (e.g. the identifier detector's precision and recall) in the
    test output itself, not only in captured stdout."""
    for report in terminalreporter.stats.get("passed", []):
        figures = [
            (k, v) for k, v in getattr(report, "user_properties", []) if report.when == "call"
        ]
        if figures:
            terminalreporter.write_sep("-", f"figures from {report.nodeid.split('::')[-1]}")
            terminalreporter.write_line(", ".join(f"{k}={v}" for k, v in figures))
