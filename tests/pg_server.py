"""A throwaway PostgreSQL server for one test session, from the machine's own binaries.

``initdb`` refuses to run as root, so as root the cluster and server run as the
``postgres`` user. The server listens on a Unix socket in its own directory only (no TCP
port to collide with another session), with durability off: it lives for one run.
"""

from __future__ import annotations

import contextlib
import itertools
import os
import pwd
import shutil
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path

import asyncpg

TEMPLATE = "praxis_template"
_BINARIES = ("initdb", "pg_ctl", "postgres")
_servers = itertools.count()
_PG_DIRS = sorted(Path("/usr/lib/postgresql").glob("*/bin"), reverse=True)


def find_binaries() -> Path | None:
    """The folder holding initdb, pg_ctl and postgres (PATH first), or None."""
    found = shutil.which("initdb")
    if found and all(shutil.which(b) for b in _BINARIES):
        return Path(found).parent
    for folder in _PG_DIRS:
        if all((folder / b).is_file() for b in _BINARIES):
            return folder
    return None


@dataclass
class PgServer:
    root: Path
    port: int
    bin_dir: Path
    _names: itertools.count = itertools.count(1)  # noqa: RUF009 (one counter per session)
    durable: bool = False  # fsync and synchronous commit on, as in production (benchmarks)

    def url(self, database: str) -> str:
        return f"postgresql://postgres@/{database}?host={self.root}&port={self.port}"

    @classmethod
    def start(cls, bin_dir: Path, *, durable: bool = False) -> PgServer:
        root = Path(tempfile.mkdtemp(prefix="praxis-pg-"))
        as_postgres = _runner(root)
        data = root / "data"
        port = 5400 + (os.getpid() + next(_servers)) % 500
        as_postgres(bin_dir / "initdb", "-D", data, "-A", "trust", "-U", "postgres",
                    "--locale=C", "-E", "UTF8", "--no-sync")  # fmt: skip
        server = cls(root, port, bin_dir, durable=durable)
        server.resume()
        return server

    def resume(self) -> None:
        """Start (or start again) the server on its data directory."""
        options = f"-k {self.root} -p {self.port} -c listen_addresses='' -c max_connections=200"
        if not self.durable:  # a test server lives for one run: durability buys nothing
            options += " -c fsync=off -c synchronous_commit=off -c full_page_writes=off"
        _runner(self.root)(self.bin_dir / "pg_ctl", "-D", self.root / "data", "-o", options,
                           "-l", self.root / "log", "-w", "start")  # fmt: skip

    def pause(self) -> None:
        """Stop the server (its clients' connections end), keeping its data."""
        _runner(self.root)(self.bin_dir / "pg_ctl", "-D", self.root / "data", "-m", "fast",
                           "-w", "stop")  # fmt: skip

    def stop(self) -> None:
        with contextlib.suppress(subprocess.CalledProcessError):
            _runner(self.root)(self.bin_dir / "pg_ctl", "-D", self.root / "data", "-m",
                               "immediate", "stop")  # fmt: skip
        shutil.rmtree(self.root, ignore_errors=True)

    async def create_template(self) -> None:
        from bot.storage.postgres import PostgresDatabase

        await self._admin(f"CREATE DATABASE {TEMPLATE}")
        db = await PostgresDatabase.open(self.url(TEMPLATE))
        try:
            await db.migrate()
        finally:
            await db.close()

    async def create_database(self, *, empty: bool = False) -> str:
        """A new database copied from the migrated template (or ``empty``, with no
        tables at all); returns its name."""
        name = f"t_{next(self._names)}"
        await self._admin(f"CREATE DATABASE {name} TEMPLATE {'template0' if empty else TEMPLATE}")
        return name

    async def drop_database(self, name: str) -> None:
        await self._admin(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")

    async def _admin(self, sql: str) -> None:
        conn = await asyncpg.connect(self.url("postgres"))
        try:
            await conn.execute(sql)
        finally:
            await conn.close()


def _runner(root: Path):
    """Run a PostgreSQL binary as ``postgres`` when we are root (initdb insists)."""
    prefix: list[str] = []
    if os.geteuid() == 0:
        user = pwd.getpwnam("postgres")
        os.chown(root, user.pw_uid, user.pw_gid)
        prefix = ["runuser", "-u", "postgres", "--"]

    def run(*args: object) -> None:
        subprocess.run([*prefix, *map(str, args)], check=True, capture_output=True)

    return run
