"""``praxis run | launch | migrate | check | backup | copy-database | demo`` (also
``python -m bot``).

Configuration problems end with exit status 2 and one sentence saying what to do,
never a traceback. The token is never printed, not even partly.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import sqlite3
import sys
from collections.abc import Sequence
from pathlib import Path
from urllib.parse import urlsplit

from bot.config import Settings, slack_problem, token_problem
from bot.core.errors import ConfigError
from bot.logs import configure_logging
from bot.storage.backup import BackupRefused, backup_database
from bot.storage.copy import CopyRefused, CopyResult, copy_database
from bot.storage.db import SchemaTooNew, SqliteDatabase, load_migrations, open_database
from bot.storage.health import last_beat

HEARTBEAT_VERSION = 7  # migrations/0007_heartbeat.sql

NO_TOKEN = (
    "No Discord bot token or Slack app found: put DISCORD_TOKEN=... in .env for Discord "
    "(see README.md, 'Creating the Discord application'), or SLACK_BOT_TOKEN=... with "
    "SLACK_APP_TOKEN=... for Slack (README.md, 'Creating the Slack app'), or both."
)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="praxis", description="Praxis peer-reflection bot")
    parser.add_argument("--env-file", default=".env", help="settings file (default .env)")
    sub = parser.add_subparsers(dest="command", required=True)
    sub.add_parser("run", help="run the bot")
    launch = sub.add_parser(
        "launch", help="run several bot processes on one PostgreSQL database, shards split"
    )
    launch.add_argument("--processes", type=int, required=True, metavar="N",
                        help="praxis run processes to start and keep running")  # fmt: skip
    launch.add_argument("--shard-count", type=int, metavar="M",
                        help="Discord shards in all, split among them (default N)")  # fmt: skip
    launch.add_argument("--start-gap", type=float, default=0.0, metavar="SECONDS",
                        help="pause between starting one process and the next")  # fmt: skip
    sub.add_parser("migrate", help="bring the database schema up to date")
    sub.add_parser("check", help="report configuration and database state")
    backup = sub.add_parser("backup", help="copy the live database safely, even while running")
    backup.add_argument("dest", type=Path, help="file to write the copy to")
    backup.add_argument("--force", action="store_true", help="replace DEST if it exists")
    copy = sub.add_parser(
        "copy-database", help="copy the SQLite database into an empty PostgreSQL database"
    )
    copy.add_argument("--to", required=True, metavar="URL", help="postgresql://… (empty)")
    demo = sub.add_parser(
        "demo", help="play a simulated term on SimCord or slacksim (no token needed)"
    )
    demo.add_argument(
        "--platform",
        choices=("discord", "slack"),  # each has its driver, bot/demo_<platform>.py
        default="discord",
        help="a simulated Discord (SimCord; the default) or Slack (slacksim)",
    )
    demo.add_argument("--members", default="8", help="learners in the cohort, 2-50 (default 8)")
    demo.add_argument("--weeks", default="4", help="weekly rounds to play, 1-12 (default 4)")
    demo.add_argument("--seed", default="1", help="random seed; same seed, same term (default 1)")
    demo.add_argument("--out", default="praxis-demo", help="folder for the CSV and PNG")
    args = parser.parse_args(argv)
    if args.command == "demo":
        return _demo(args)  # needs no .env, token or database of the user's
    try:
        settings = Settings.from_env(env_file=args.env_file)
    except ConfigError as error:
        print(f"praxis: {error}", file=sys.stderr)
        return 2
    configure_logging(settings.log_level)
    handlers = {
        "run": _run,
        "launch": lambda s: _launch(s, args),
        "migrate": _migrate,
        "check": _check,
        "backup": lambda s: _backup(s, args.dest, args.force),
        "copy-database": lambda s: _copy_database(s, getattr(args, "to", "")),
    }
    try:
        return handlers[args.command](settings)
    except sqlite3.DatabaseError as error:
        print(f"praxis: {settings.database_path} can't be used as a database ({error}).",
              file=sys.stderr)  # fmt: skip
        return 2
    except SchemaTooNew as error:
        print(f"praxis: {error}", file=sys.stderr)
        return 2


def _run(settings: Settings) -> int:
    """Serve Discord, Slack or both, by which credentials are set; neither: exit 2."""
    problem = _run_problem(settings)
    if problem is not None:
        print(f"praxis: {problem}", file=sys.stderr)
        return 2
    from bot.runner import run_until_stopped  # lazy: check/migrate need no discord.py

    return asyncio.run(run_until_stopped(settings))


def _run_problem(settings: Settings) -> str | None:
    """Why ``praxis run`` would refuse these settings at once, or ``None``."""
    if not settings.discord_token and not settings.slack_enabled:
        return NO_TOKEN
    problem = slack_problem(settings)
    if settings.discord_token:
        problem = token_problem(settings.discord_token) or problem
    return problem


def _launch(settings: Settings, args: argparse.Namespace) -> int:
    """Run ``praxis run`` N times, each with its share of the shards (bot/launcher.py).

    What every child would refuse is refused here first, once, rather than N times.
    """
    from bot import launcher

    processes = args.processes
    shard_count = processes if args.shard_count is None else args.shard_count
    problem = launcher.launch_problem(processes, shard_count, settings.database_url)
    problem = problem or _run_problem(settings)
    if problem is not None:
        print(f"praxis: {problem}", file=sys.stderr)
        return 2
    command = [sys.executable, "-m", "bot", "--env-file", args.env_file, "run"]
    shares = launcher.shard_shares(processes, shard_count)
    return launcher.Launcher(shares, command, start_gap=max(0.0, args.start_gap)).run()


def _demo(args: argparse.Namespace) -> int:
    """Validate, check SimCord is installed (for Discord), then play the term and print its
    transcript."""
    try:
        members, weeks, seed = (int(getattr(args, n)) for n in ("members", "weeks", "seed"))
    except ValueError:
        print("praxis: --members, --weeks and --seed must be whole numbers.", file=sys.stderr)
        return 2
    from bot import demo  # lazy: the demo pulls in a simulator

    problem = demo.option_problem(members, weeks)
    if problem is None and Path(args.out).exists() and not Path(args.out).is_dir():
        problem = f"--out {args.out} is a file; give a folder for the CSV and PNG."
    if problem is not None:
        print(f"praxis: {problem}", file=sys.stderr)
        return 2
    if args.platform == "discord":  # slacksim ships with Praxis; SimCord is an extra
        try:
            import simcord  # noqa: F401
        except ImportError:
            print('praxis: the demo needs SimCord: pip install -e ".[demo]"', file=sys.stderr)
            return 2
    options = demo.DemoOptions(
        members=members, weeks=weeks, seed=seed, out=Path(args.out), platform=args.platform
    )
    try:
        result = asyncio.run(demo.run_demo(options))
    except demo.DemoError as error:  # the bot answered a step unexpectedly: worth a bug report
        print(f"praxis: the demo stopped: {error}", file=sys.stderr)
        return 1
    print("\n".join(result.lines))
    return 0


def _migrate(settings: Settings) -> int:
    async def migrate() -> list[int]:
        db = await open_database(settings)
        try:
            return await db.migrate()
        finally:
            await db.close()

    applied = asyncio.run(migrate())
    latest = load_migrations()[-1].version
    print(
        f"Applied migrations {', '.join(map(str, applied))}; database at version {latest}."
        if applied
        else f"Database already at version {latest}; nothing to do."
    )
    return 0


def _backup(settings: Settings, dest: Path, force: bool) -> int:
    """Copy the database (the bot may be running) and verify the copy before keeping it."""
    if settings.database_url:
        print("praxis: backup copies the SQLite file; this Praxis uses PostgreSQL "
              "(DATABASE_URL). Back it up with PostgreSQL's own tools, e.g. "
              "pg_dump --format=custom --file=praxis.dump \"$DATABASE_URL\" "
              "(see docs/DEPLOYMENT.md).", file=sys.stderr)  # fmt: skip
        return 2
    try:
        result = backup_database(settings.database_path, dest, overwrite=force)
    except BackupRefused as error:
        print(f"praxis: {error}", file=sys.stderr)
        return 2
    if not result.ok:
        print(f"praxis: the copy failed its integrity check ({result.integrity}), so it was "
              "not kept. Run praxis check on the database.", file=sys.stderr)  # fmt: skip
        return 1
    print(
        f"Backed up {settings.database_path} to {result.dest} "
        f"({result.size_bytes:,} bytes, schema version {result.schema_version}, integrity ok)."
    )
    return 0


def _copy_database(settings: Settings, url: str) -> int:
    """Copy ``DATABASE_PATH`` into the empty PostgreSQL database at ``url``, verified."""
    if not url.startswith(("postgresql://", "postgres://")):
        print("praxis: --to must be a postgresql:// URL.", file=sys.stderr)
        return 2
    if not settings.database_path.is_file():
        print(f"praxis: there is no SQLite database at {settings.database_path} to copy.",
              file=sys.stderr)  # fmt: skip
        return 2

    async def copy() -> CopyResult:
        from bot.storage.postgres import PostgresDatabase  # asyncpg only when it is used

        source = await SqliteDatabase.open(settings.database_path)
        try:
            target = await PostgresDatabase.open(url)
            try:
                return await copy_database(source, target)
            finally:
                await target.close()
        finally:
            await source.close()

    try:
        result = asyncio.run(copy())
    except CopyRefused as error:
        print(f"praxis: {error}", file=sys.stderr)
        return 2
    except OSError as error:
        print(f"praxis: can't reach the PostgreSQL server ({error.strerror or error}).",
              file=sys.stderr)  # fmt: skip
        return 2
    for table in result.tables:
        state = "verified" if table.verified else "MISMATCH"
        print(f"{table.name:<16} {table.rows:>9,} rows  sha256 {table.checksum[:16]}  {state}")
    if not result.ok:
        print("praxis: the copy does not match the source; don't use it.", file=sys.stderr)
        return 1
    print(f"Copied {settings.database_path} into PostgreSQL; every table verified. "
          "Set DATABASE_URL to use it.")  # fmt: skip
    return 0


def _check(settings: Settings) -> int:
    """Print what a maintainer needs to know before ``run``; exit 1 if something is wrong."""
    latest = load_migrations()[-1].version
    token, token_ok = _token_state(settings.discord_token)
    slack, slack_ok = _slack_state(settings)
    if not settings.discord_token and settings.slack_enabled:
        token, token_ok = "not set (Discord is not served)", True
    content = (
        "on"
        if settings.message_content_intent
        else "OFF: thread replies are not read; the reflection form still works"
    )
    lines = [
        f"Discord token:      {token}",
        f"Database:           {_database_name(settings)}",
        f"Dev guild:          {settings.dev_guild_id or 'none (commands sync globally)'}",
        f"Message Content:    {content}",
        f"Server Members:     {'on' if settings.members_intent else 'off'}",
        f"Slack:              {slack}",
    ]
    ok = token_ok and slack_ok
    if settings.database_url or settings.database_path.exists():
        version, integrity, cohorts, last_tick = asyncio.run(_db_state(settings))
        if version > latest:
            state = f"newer than this Praxis ({latest}): upgrade Praxis"
        elif version < latest:
            state = f"needs `praxis migrate` (latest {latest})"
        else:
            state = "up to date"
        lines.append(f"Schema version:     {version} ({state})")
        lines.append(f"Integrity check:    {integrity}")
        lines.append(f"Cohorts:            {cohorts}")
        lines.append(f"Last tick:          {last_tick or 'never'}")
        ok = ok and version == latest and integrity == "ok"
    else:
        lines.append("Schema version:     no database yet (created on first run or migrate)")
    print("\n".join(lines))
    return 0 if ok else 1


def _database_name(settings: Settings) -> str:
    """The database ``check`` reports: the SQLite file, or the PostgreSQL server and
    database (never the URL's user or password)."""
    if not settings.database_url:
        return str(settings.database_path)
    url = urlsplit(settings.database_url)
    return f"PostgreSQL {url.hostname or 'local socket'}{url.path or ''}"


def _token_state(token: str | None) -> tuple[str, bool]:
    """The "Discord token" line of ``check`` (never the token itself), and whether it is fine."""
    if not token:
        return "MISSING (praxis run will refuse to start)", False
    problem = token_problem(token)
    if problem is not None:
        return f"NOT USABLE (praxis run will refuse to start). {problem}", False
    return "set", True


def _slack_state(settings: Settings) -> tuple[str, bool]:
    """The "Slack" line of ``check`` (never a token), and whether it is fine."""
    problem = slack_problem(settings)
    if problem is not None:
        return f"NOT USABLE (praxis run will refuse to start). {problem}", False
    if not settings.slack_enabled:
        return "not set (Slack is not served)", True
    if settings.slack_app_token:
        return "Socket Mode (bot and app-level tokens set)", True
    return f"HTTP mode on port {settings.slack_port} (/slack/events; signing secret set)", True


async def _db_state(settings: Settings) -> tuple[int, str, int | str, str | None]:
    db = await open_database(settings)
    try:
        version = await db.user_version()
        integrity = await db.integrity_report()
        cohorts: int | str = "—"
        last_tick = None
        if 1 <= version <= load_migrations()[-1].version:
            cohorts = await db.fetch_value("SELECT COUNT(*) FROM cohorts")
        if HEARTBEAT_VERSION <= version <= load_migrations()[-1].version:
            last_tick = await last_beat(db)
        return version, integrity, cohorts, last_tick
    finally:
        await db.close()


if __name__ == "__main__":  # pragma: no cover
    logging.captureWarnings(True)
    sys.exit(main())
