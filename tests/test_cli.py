"""``python -m bot``: the real CLI in a subprocess, as a maintainer would run it."""

from __future__ import annotations

import os
import re
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest

from bot.storage.db import load_migrations

REPO_ROOT = Path(__file__).resolve().parents[1]
LATEST = load_migrations()[-1].version
pytestmark = pytest.mark.sqlite_only(
    "the CLI in a subprocess on an SQLite file (see test_cli_postgresql)"
)
# Shaped like a bot token (the first part is base64 of a numeric id), but not a real one.
TOKEN = "MTIzNDU2Nzg5MDEyMzQ1Njc4.GaBcDe.Zq9Yx8Wv7Ut6Sr5Qp4On3Ml2Kj1Ih0GfEdCb"
# Settings the CLI reads; the outer environment must not leak into these tests.
PRAXIS_VARS = (
    "DISCORD_TOKEN",
    "DATABASE_PATH",
    "DATABASE_URL",
    "LOG_LEVEL",
    "DEV_GUILD_ID",
    "MESSAGE_CONTENT_INTENT",
    "MEMBERS_INTENT",
    "RECONCILE_SECONDS",
)


def cli(
    tmp_path: Path, *args: str, env: dict[str, str] | None = None, timeout: float = 20
) -> subprocess.CompletedProcess[str]:
    environ = {k: v for k, v in os.environ.items() if k not in PRAXIS_VARS}
    pythonpath = [str(REPO_ROOT), *filter(None, [environ.get("PYTHONPATH")])]
    environ["PYTHONPATH"] = os.pathsep.join(pythonpath)
    environ["DATABASE_PATH"] = str(tmp_path / "praxis.db")
    environ.update(env or {})
    return subprocess.run(
        [sys.executable, "-m", "bot", *args],
        cwd=tmp_path,
        env=environ,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )


def db_version(tmp_path: Path) -> int:
    conn = sqlite3.connect(tmp_path / "praxis.db")
    try:
        return conn.execute("PRAGMA user_version").fetchone()[0]
    finally:
        conn.close()


def add_cohort(tmp_path: Path, cohort_id: int) -> None:
    conn = sqlite3.connect(tmp_path / "praxis.db")
    try:
        with conn:
            conn.execute(
                "INSERT INTO cohorts (id, guild_id, name, name_key, channel_id, member_role_id,"
                " schedule_from, created_at, updated_at)"
                " VALUES (?, 1, ?, ?, 2, 3, '2026-01-01T00:00:00+00:00',"
                " '2026-01-01T00:00:00+00:00', '2026-01-01T00:00:00+00:00')",
                (cohort_id, f"Cohort {cohort_id}", f"cohort {cohort_id}"),
            )
    finally:
        conn.close()


def assert_one_line_error(result: subprocess.CompletedProcess[str]) -> str:
    assert "Traceback" not in result.stderr
    assert "Traceback" not in result.stdout
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("praxis: ")
    return lines[0]


def test_run_without_token_exits_2_with_one_line(tmp_path: Path):
    started = time.monotonic()
    result = cli(tmp_path, "run", timeout=15)
    elapsed = time.monotonic() - started

    assert result.returncode == 2
    assert elapsed < 10
    line = assert_one_line_error(result)
    assert "DISCORD_TOKEN" in line
    assert not (tmp_path / "praxis.db").exists()


@pytest.mark.parametrize("source", ["environment", "env-file"])
def test_token_never_appears_in_output(tmp_path: Path, source: str):
    env = {"LOG_LEVEL": "DEBUG"}
    if source == "environment":
        env["DISCORD_TOKEN"] = TOKEN
    else:
        (tmp_path / ".env").write_text(f"DISCORD_TOKEN={TOKEN}\n", encoding="utf-8")

    migrated = cli(tmp_path, "migrate", env=env)
    checked = cli(tmp_path, "check", env=env)

    for result in (migrated, checked):
        assert TOKEN not in result.stdout
        assert TOKEN not in result.stderr
    assert checked.returncode == 0, checked.stdout + checked.stderr
    assert re.search(r"Discord token:\s+set\b", checked.stdout)


@pytest.mark.parametrize(
    ("token", "says"),
    [
        ("...", "placeholder"),  # README's and the no-token message's DISCORD_TOKEN=...
        ("your-bot-token-here", "placeholder"),
        ("secret-token-value", "placeholder"),
        ("Bot " + TOKEN, "doesn't look like a Discord bot token"),
        (TOKEN.rsplit(".", 1)[0], "doesn't look like a Discord bot token"),  # cut short
    ],
)
def test_check_and_run_refuse_a_token_that_cannot_be_a_bot_token(
    tmp_path: Path, token: str, says: str
):
    (tmp_path / ".env").write_text(f"DISCORD_TOKEN={token}\n", encoding="utf-8")

    checked = cli(tmp_path, "check")
    ran = cli(tmp_path, "run", timeout=15)

    assert checked.returncode == 1
    assert re.search(r"Discord token:\s+NOT USABLE", checked.stdout), checked.stdout
    assert says in checked.stdout
    assert ran.returncode == 2
    assert says in assert_one_line_error(ran)
    for result in (checked, ran):
        assert token not in result.stdout + result.stderr
    assert not (tmp_path / "praxis.db").exists()


def test_migrate_creates_the_database_then_has_nothing_to_do(tmp_path: Path):
    first = cli(tmp_path, "migrate")

    assert first.returncode == 0, first.stderr
    assert db_version(tmp_path) == LATEST
    assert f"version {LATEST}" in first.stdout
    assert "nothing to do" not in first.stdout
    assert "Traceback" not in first.stderr

    second = cli(tmp_path, "migrate")

    assert second.returncode == 0, second.stderr
    assert "nothing to do" in second.stdout
    assert f"version {LATEST}" in second.stdout
    assert db_version(tmp_path) == LATEST


def test_migrate_from_an_older_version_applies_the_rest(tmp_path: Path):
    conn = sqlite3.connect(tmp_path / "praxis.db")
    try:
        conn.executescript(f"{load_migrations()[0].sql}\n;PRAGMA user_version = 1;")
    finally:
        conn.close()

    result = cli(tmp_path, "migrate")

    assert result.returncode == 0, result.stderr
    assert db_version(tmp_path) == LATEST
    if LATEST > 1:
        assert "Applied migrations" in result.stdout


def test_check_reports_schema_integrity_and_cohorts(tmp_path: Path):
    assert cli(tmp_path, "migrate").returncode == 0
    add_cohort(tmp_path, 1)
    add_cohort(tmp_path, 2)

    result = cli(tmp_path, "check", env={"DISCORD_TOKEN": TOKEN})

    assert result.returncode == 0, result.stdout + result.stderr
    out = result.stdout
    assert re.search(rf"Schema version:\s+{LATEST}\b.*up to date", out), out
    assert re.search(r"Integrity check:\s+ok\b", out), out
    assert re.search(r"Cohorts:\s+2\b", out), out
    assert re.search(r"Last tick:\s+never\b", out), out
    assert TOKEN not in out + result.stderr

    with sqlite3.connect(tmp_path / "praxis.db") as db:  # what a tick's heartbeat writes
        db.execute(
            "INSERT INTO heartbeat (id, ticked_at) VALUES (1, '2026-03-02T09:00:00.000000Z')"
        )
    again = cli(tmp_path, "check", env={"DISCORD_TOKEN": TOKEN}).stdout
    assert re.search(r"Last tick:\s+2026-03-02T09:00:00", again), again


def test_check_fails_when_the_token_is_missing(tmp_path: Path):
    assert cli(tmp_path, "migrate").returncode == 0

    result = cli(tmp_path, "check")

    assert result.returncode == 1
    assert re.search(r"Discord token:\s+MISSING", result.stdout), result.stdout
    assert re.search(rf"Schema version:\s+{LATEST}\b", result.stdout)
    assert "Traceback" not in result.stderr


def test_check_fails_when_the_database_needs_migrating(tmp_path: Path):
    if LATEST < 2:
        pytest.skip("needs at least two migrations")
    conn = sqlite3.connect(tmp_path / "praxis.db")
    try:
        conn.executescript(f"{load_migrations()[0].sql}\n;PRAGMA user_version = 1;")
    finally:
        conn.close()

    result = cli(tmp_path, "check", env={"DISCORD_TOKEN": TOKEN})

    assert result.returncode == 1
    assert "praxis migrate" in result.stdout
    assert db_version(tmp_path) == 1  # check only reports; it never migrates


def test_check_without_a_database_does_not_create_one(tmp_path: Path):
    result = cli(tmp_path, "check", env={"DISCORD_TOKEN": TOKEN})

    assert result.returncode == 0, result.stdout + result.stderr
    assert "no database yet" in result.stdout
    assert not (tmp_path / "praxis.db").exists()


@pytest.mark.parametrize("command", ["run", "migrate", "check"])
def test_bad_env_file_value_exits_2_with_one_line(tmp_path: Path, command: str):
    (tmp_path / ".env").write_text(
        f"# settings\nDISCORD_TOKEN={TOKEN}\nMEMBERS_INTENT=maybe\n", encoding="utf-8"
    )

    result = cli(tmp_path, command, timeout=15)

    assert result.returncode == 2
    line = assert_one_line_error(result)
    assert "MEMBERS_INTENT" in line
    assert "maybe" in line
    assert TOKEN not in result.stdout + result.stderr
    assert result.stdout == ""
    assert not (tmp_path / "praxis.db").exists()


def test_bad_environment_value_exits_2_with_one_line(tmp_path: Path):
    result = cli(tmp_path, "check", env={"DEV_GUILD_ID": "not-a-number"})

    assert result.returncode == 2
    assert "DEV_GUILD_ID" in assert_one_line_error(result)


@pytest.mark.parametrize("command", ["check", "migrate"])
def test_a_file_that_is_not_a_database_exits_2_promptly(tmp_path: Path, command: str):
    (tmp_path / "praxis.db").write_text("garbage, not SQLite")
    result = cli(tmp_path, command, env={"DISCORD_TOKEN": "x"}, timeout=15)
    assert result.returncode == 2
    assert "can't be used as a database" in assert_one_line_error(result)


def test_a_database_from_a_newer_praxis_is_refused_with_one_line(tmp_path: Path):
    conn = sqlite3.connect(tmp_path / "praxis.db")
    conn.execute("PRAGMA user_version = 999")
    conn.close()
    migrate = cli(tmp_path, "migrate")
    assert migrate.returncode == 2 and "newer" in assert_one_line_error(migrate)
    check = cli(tmp_path, "check", env={"DISCORD_TOKEN": "x"})
    assert check.returncode == 1 and "upgrade Praxis" in check.stdout
