"""PostgreSQL for the benches: a URL given, or a throwaway server started for the run.

``--database-url`` names a scratch database (wiped by the bench); ``--postgresql`` alone
starts a server from the machine's binaries (``tests/pg_server.py``, the one the test
suite uses) with fsync and synchronous commit on, as in production, and stops it at the
end. With no binaries found, :func:`server_url` prints a notice and gives ``None``, so
``make bench`` still runs on a machine without PostgreSQL.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
from collections.abc import Iterator

import asyncpg

from tests.pg_server import PgServer, find_binaries

SCRATCH = "praxis_bench"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--database-url", help="a scratch PostgreSQL database (wiped)")
    parser.add_argument("--postgresql", action="store_true",
                        help="on PostgreSQL: a throwaway server unless --database-url")  # fmt: skip


@contextlib.contextmanager
def server_url(args: argparse.Namespace) -> Iterator[str | None]:
    """The scratch database's URL for these arguments; ``None`` means SQLite (or no
    PostgreSQL binaries here, said on stdout)."""
    if args.database_url:
        yield args.database_url
        return
    if not args.postgresql:
        yield None
        return
    bin_dir = find_binaries()
    if bin_dir is None:
        print("NOTICE: no PostgreSQL binaries (initdb, pg_ctl, postgres) found: "
              "the PostgreSQL part is skipped.")  # fmt: skip
        yield None
        return
    server = PgServer.start(bin_dir, durable=True)
    try:
        asyncio.run(server._admin(f"CREATE DATABASE {SCRATCH}"))
        yield server.url(SCRATCH)
    finally:
        server.stop()


async def admin(url: str, sql: str) -> None:
    """Run ``sql`` on the server's ``postgres`` database (CREATE/DROP DATABASE)."""
    conn = await asyncpg.connect(url, database="postgres")
    try:
        await conn.execute(sql)
    finally:
        await conn.close()


def with_database(url: str, name: str) -> str:
    """``url`` pointing at database ``name`` on the same server."""
    from urllib.parse import urlsplit, urlunsplit

    parts = urlsplit(url)
    return urlunsplit(parts._replace(path=f"/{name}"))


async def reset(url: str) -> None:
    """Empty the scratch database and migrate it: what a fresh SQLite file is."""
    from bot.storage.postgres import PostgresDatabase

    db = await PostgresDatabase.open(url)
    try:
        async with db.transaction() as tx:
            await tx.execute("DROP SCHEMA public CASCADE")
            await tx.execute("CREATE SCHEMA public")
        await db.migrate()
    finally:
        await db.close()
