"""Fixtures: a real Praxis bot on SimCord, with a file database so restarts keep data.

The whole suite runs on either backend: ``pytest`` (SQLite) or ``pytest --backend
postgresql`` (also ``PRAXIS_TEST_BACKEND=postgresql``). On PostgreSQL one throwaway server
serves the session; each SQLite path a test's settings name becomes its own database,
copied from a migrated template, so the tests themselves don't change. Tests marked
``sqlite_only`` (the SQLite file itself: WAL, backups, a full disk) are skipped there;
``postgresql_only`` ones are their PostgreSQL counterparts.
"""

from __future__ import annotations

import asyncio
import os
from pathlib import Path

import pytest
import pytest_asyncio

from bot.app import PraxisBot, create_bot
from bot.config import Settings
from bot.storage import db as storage_db
from tests.helpers import World, build_world
from tests.pg_server import PgServer, find_binaries

_NO_SERVER = (
    "NO POSTGRESQL BINARIES (initdb, pg_ctl, postgres) FOUND: the PostgreSQL run of the "
    "suite was SKIPPED. Install PostgreSQL 15 to run it (CI fails instead)."
)


def pytest_addoption(parser) -> None:
    parser.addoption(
        "--backend",
        choices=("sqlite", "postgresql"),
        default=os.environ.get("PRAXIS_TEST_BACKEND", "sqlite"),
        help="the database backend the suite runs on (default: sqlite)",
    )


def pytest_configure(config) -> None:
    config.addinivalue_line("markers", "sqlite_only(reason): needs the SQLite file itself")
    config.addinivalue_line("markers", "postgresql_only: a PostgreSQL counterpart")
    config.praxis_pg_bin = None
    if config.getoption("--backend") == "postgresql":
        config.praxis_pg_bin = find_binaries()
        if config.praxis_pg_bin is None and os.environ.get("CI"):
            pytest.exit(_NO_SERVER.replace("SKIPPED", "NOT RUN"), returncode=3)


def pytest_report_header(config) -> str:
    return f"praxis backend: {config.getoption('--backend')}"


def pytest_collection_modifyitems(config, items) -> None:
    on_pg = config.getoption("--backend") == "postgresql"
    for item in items:
        if on_pg and config.praxis_pg_bin is None:
            item.add_marker(pytest.mark.skip(reason=_NO_SERVER))
        elif on_pg and (marker := item.get_closest_marker("sqlite_only")):
            reason = marker.args[0] if marker.args else marker.kwargs.get("reason", "")
            item.add_marker(pytest.mark.skip(reason=f"SQLite only: {reason}"))
        elif not on_pg and item.get_closest_marker("postgresql_only"):
            item.add_marker(pytest.mark.skip(reason="PostgreSQL only (run with --backend)"))


@pytest.fixture(scope="session")
def backend(request) -> str:
    return request.config.getoption("--backend")


@pytest.fixture(scope="session")
def pg_server(request, backend):
    """The session's throwaway PostgreSQL server (started on first use)."""
    if backend != "postgresql":
        pytest.skip("needs --backend postgresql")
    server = PgServer.start(request.config.praxis_pg_bin)
    try:
        asyncio.run(server.create_template())
        yield server
    finally:
        server.stop()


@pytest.fixture(autouse=True)
def _database_per_test(request, backend, monkeypatch):
    """On PostgreSQL: each SQLite path named in a test's settings opens its own fresh
    database (the same one again after a restart); dropped when the test ends."""
    if backend != "postgresql":
        yield
        return
    server: PgServer = request.getfixturevalue("pg_server")
    made: dict[str, str] = {}

    async def open_database(settings: Settings) -> storage_db.Database:
        if settings.database_url:
            return await original(settings)
        key = str(settings.database_path)
        if key == ":memory:":
            key = f":memory:{len(made)}"
        if key not in made:
            made[key] = await server.create_database()
        from bot.storage.postgres import PostgresDatabase

        return await PostgresDatabase.open(server.url(made[key]))

    original = storage_db.open_database
    monkeypatch.setattr(storage_db, "open_database", open_database)
    yield made

    async def drop() -> None:
        for name in made.values():
            await server.drop_database(name)

    asyncio.run(drop())


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


def pytest_terminal_summary(terminalreporter, config) -> None:
    """Show measured figures (e.g. the identifier detector's precision and recall) in the
    test output itself, not only in captured stdout; and say loudly if PostgreSQL was
    wanted but missing."""
    if config.getoption("--backend") == "postgresql" and config.praxis_pg_bin is None:
        terminalreporter.write_sep("!", _NO_SERVER, red=True, bold=True)
    for report in terminalreporter.stats.get("passed", []):
        figures = [
            (k, v) for k, v in getattr(report, "user_properties", []) if report.when == "call"
        ]
        if figures:
            terminalreporter.write_sep("-", f"figures from {report.nodeid.split('::')[-1]}")
            terminalreporter.write_line(", ".join(f"{k}={v}" for k, v in figures))
