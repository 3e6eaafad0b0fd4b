"""``python -m bot`` with ``DATABASE_URL``: migrate, check and backup on PostgreSQL."""

from __future__ import annotations

import pytest
import pytest_asyncio

from tests.test_cli import LATEST, cli


@pytest_asyncio.fixture
async def url(pg_server):
    name = await pg_server.create_database(empty=True)
    yield pg_server.url(name)
    await pg_server.drop_database(name)


@pytest.mark.postgresql_only
def test_migrate_then_check_on_postgresql(tmp_path, url):
    env = {"DATABASE_URL": url}

    migrated = cli(tmp_path, "migrate", env=env)
    again = cli(tmp_path, "migrate", env=env)
    checked = cli(tmp_path, "check", env=env)

    assert migrated.returncode == 0, migrated.stderr
    assert f"database at version {LATEST}" in migrated.stdout
    assert f"already at version {LATEST}" in again.stdout
    assert f"Schema version:     {LATEST} (up to date)" in checked.stdout
    assert "Database:           PostgreSQL" in checked.stdout
    assert "postgres@" not in checked.stdout + checked.stderr, "no user or password shown"
    assert not (tmp_path / "praxis.db").exists(), "no SQLite file made beside it"


@pytest.mark.postgresql_only
def test_backup_on_postgresql_points_to_pg_dump(tmp_path, url):
    result = cli(tmp_path, "backup", "copy.db", env={"DATABASE_URL": url})

    assert result.returncode == 2
    assert "pg_dump" in result.stderr
    assert not (tmp_path / "copy.db").exists()


def test_a_database_url_that_is_not_postgresql_is_refused(tmp_path):
    result = cli(tmp_path, "check", env={"DATABASE_URL": "mysql://localhost/praxis"})

    assert result.returncode == 2
    assert "DATABASE_URL must start with postgresql://" in result.stderr


async def test_run_with_a_database_server_that_is_not_there_says_so_in_a_sentence(tmp_path, caplog):
    """No traceback: one line naming what to check, and exit 1 (a restart may work)."""
    from bot.config import Settings
    from bot.runner import run_until_stopped

    settings = Settings(
        database_path=tmp_path / "unused.db", scheduler_enabled=False,
        database_url=f"postgresql://praxis@/praxis?host={tmp_path}/no-server-here",
    )  # fmt: skip
    code = await run_until_stopped(settings, connect=lambda bot: bot.open_storage())
    assert code == 1
    [record] = [r for r in caplog.records if r.levelname == "ERROR"]
    assert "Could not open the database (the database server can't be reached)" in (
        record.getMessage()
    )
    assert record.exc_info is None
