"""The storage interface (:class:`Database`, :class:`Tx`), its SQLite implementation, and
the migration files.

Two backends sit behind one interface: SQLite (here; the embedded default) and PostgreSQL
(:mod:`bot.storage.postgres`, chosen by ``DATABASE_URL``). :func:`open_database` is the one
place that picks. Storage SQL is written once, in the subset both dialects share, with
``?`` placeholders (the PostgreSQL backend numbers them); :attr:`Database.dialect` picks a
spelling where one statement truly must differ.

On SQLite, Praxis keeps a single aiosqlite connection as the only writer. Every write runs
inside :meth:`Database.transaction`, which serialises writers with an asyncio lock
and takes SQLite's write lock up front (``BEGIN IMMEDIATE``), so a transaction
either commits whole or leaves nothing behind. Reads outside a transaction take the
same lock, so they never observe another coroutine's half-finished transaction.
"""

from __future__ import annotations

import asyncio
import logging
import re
import sqlite3
from abc import ABC, abstractmethod
from collections.abc import (
    AsyncIterator,
    Awaitable,
    Callable,
    Iterable,
    Iterator,
    Mapping,
    Sequence,
)
from contextlib import AbstractAsyncContextManager, asynccontextmanager, contextmanager
from dataclasses import dataclass
from datetime import datetime
from importlib import resources
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar, TypeVar

import aiosqlite

from bot.core.errors import StorageBusy, StorageUnavailable

if TYPE_CHECKING:
    from bot.config import Settings

log = logging.getLogger(__name__)

BUSY_TIMEOUT_MS = 5000
#: How long a scrub waits for other readers of the file before it gives up until later.
SCRUB_WAIT_MS = 250
CLOSE_WAIT_S = 1.0
_MIGRATION_NAME = re.compile(r"^(\d{4})_[a-z0-9_]+\.sql$")

#: A result row: ``sqlite3.Row`` or ``asyncpg.Record``. Both read by column name
#: (``row["id"]``), by position (``row[0]``) and convert with ``dict(row)``.
Row = Any
T = TypeVar("T")


class SchemaTooNew(RuntimeError):
    """The database was written by a newer Praxis; this one must not touch it."""


class Tx(ABC):
    """Statements inside one open transaction (see :meth:`Database.transaction`).

    A new row's id comes back through ``RETURNING id`` (see :func:`insert_row`), which
    both dialects speak; there is no ``lastrowid``.
    """

    dialect: ClassVar[str]

    @abstractmethod
    async def execute(self, sql: str, params: Sequence[Any] = ()) -> None:
        """Run one statement."""

    @abstractmethod
    async def execute_rowcount(self, sql: str, params: Sequence[Any] = ()) -> int:
        """Run one statement; returns how many rows it changed."""

    @abstractmethod
    async def executemany(self, sql: str, rows: Iterable[Sequence[Any]]) -> None:
        """Run one statement once per parameter row."""

    @abstractmethod
    async def fetch_one(self, sql: str, params: Sequence[Any] = ()) -> Row | None: ...

    @abstractmethod
    async def fetch_all(self, sql: str, params: Sequence[Any] = ()) -> list[Row]: ...

    async def fetch_value(self, sql: str, params: Sequence[Any] = ()) -> Any:
        row = await self.fetch_one(sql, params)
        return None if row is None else row[0]

    @abstractmethod
    async def run_all(self, statements: Sequence[tuple[str, Sequence[Any]]]) -> list[list[Row]]:
        """Several statements, in order; each one's rows (none for a write). For a batch
        whose reads or writes are known up front (thread ingest): on SQLite, one hand-off
        to the connection's thread for them all."""


class SqliteTx(Tx):
    """:class:`Tx` on the aiosqlite connection.

    Each call is one hand-off to the connection's thread (see :func:`_in_thread`); a
    transaction's ``BEGIN IMMEDIATE`` goes with its first statement.
    """

    dialect = "sqlite"

    def __init__(self, conn: aiosqlite.Connection, *, begin: bool = False) -> None:
        self._conn = conn
        self.begin_pending = begin

    def _call(self, fn: Callable[..., T], *args: Any) -> Awaitable[T]:
        if not self.begin_pending:
            return _in_thread(self._conn, fn, *args)
        self.begin_pending = False
        return _in_thread(self._conn, _begun, fn, *args)

    async def execute(self, sql: str, params: Sequence[Any] = ()) -> None:
        await self._call(_run, sql, params)

    async def execute_rowcount(self, sql: str, params: Sequence[Any] = ()) -> int:
        """Run one statement; returns how many rows it changed."""
        return await self._call(_run, sql, params)

    async def executemany(self, sql: str, rows: Iterable[Sequence[Any]]) -> None:
        await self._call(_run_many, sql, rows)

    async def fetch_one(self, sql: str, params: Sequence[Any] = ()) -> Row | None:
        return await self._call(_fetch_one, sql, params)

    async def fetch_all(self, sql: str, params: Sequence[Any] = ()) -> list[Row]:
        return await self._call(_fetch_all, sql, params)

    async def run_all(self, statements: Sequence[tuple[str, Sequence[Any]]]) -> list[list[Row]]:
        """Several statements, in order, in one hand-off; each one's rows (none for a
        write). For a batch whose reads or writes are known up front (thread ingest)."""
        return await self._call(_run_all, statements)


def _in_thread(conn: aiosqlite.Connection, fn: Callable[..., T], *args: Any) -> Awaitable[T]:
    """``fn(sqlite3_connection, *args)`` on the connection's own thread, in one hand-off.

    aiosqlite's public calls hand each step over separately (execute, fetch, close: three
    for one query), and each hand-off costs the event loop a queue put, a future and a
    wake-up, tens of microseconds on a busy machine. ``Connection._execute`` is
    aiosqlite's private way to queue a function on that thread; this is the one place
    that uses it (aiosqlite 0.22). Raises ``ValueError`` on a closed connection, as
    aiosqlite's public calls do.
    """
    return conn._execute(fn, conn._conn, *args)


def _begun(conn: sqlite3.Connection, fn: Callable[..., T], *args: Any) -> T:
    """``BEGIN IMMEDIATE``, then ``fn``: a transaction's first statement and its BEGIN in
    one hand-off. If BEGIN is refused, ``fn`` never runs."""
    conn.execute("BEGIN IMMEDIATE").close()
    return fn(conn, *args)


def _roll_back(conn: sqlite3.Connection) -> None:
    """Checked on the connection's thread: SQLite may already have rolled back, and a
    cancelled caller's BEGIN may have run only after it stopped waiting."""
    if conn.in_transaction:
        conn.execute("ROLLBACK").close()


def _run(conn: sqlite3.Connection, sql: str, params: Sequence[Any]) -> int:
    """One statement; how many rows it changed."""
    cursor = conn.execute(sql, params)
    try:
        return cursor.rowcount
    finally:
        cursor.close()


def _run_many(conn: sqlite3.Connection, sql: str, rows: Iterable[Sequence[Any]]) -> None:
    conn.executemany(sql, rows).close()


def _fetch_one(conn: sqlite3.Connection, sql: str, params: Sequence[Any]) -> Row | None:
    cursor = conn.execute(sql, params)
    try:
        return cursor.fetchone()
    finally:
        cursor.close()  # an unfinished statement would hold up COMMIT


def _fetch_all(conn: sqlite3.Connection, sql: str, params: Sequence[Any]) -> list[Row]:
    return conn.execute(sql, params).fetchall()


def _run_all(
    conn: sqlite3.Connection, statements: Sequence[tuple[str, Sequence[Any]]]
) -> list[list[Row]]:
    return [conn.execute(sql, params).fetchall() for sql, params in statements]


async def insert_row(tx: Tx, table: str, allowed: frozenset[str], values: Mapping[str, Any]) -> int:
    """INSERT one row and return its ``id``; column names must come from ``allowed`` (they
    are code, never input)."""
    columns = _checked(table, allowed, values)
    return await tx.fetch_value(
        f"INSERT INTO {table} ({', '.join(columns)}) VALUES ({', '.join('?' for _ in columns)})"
        " RETURNING id",
        [values[c] for c in columns],
    )


async def update_row(
    tx: Tx, table: str, allowed: frozenset[str], row_id: int, values: Mapping[str, Any]
) -> None:
    """UPDATE one row by ``id``; column names must come from ``allowed``."""
    columns = _checked(table, allowed, values)
    await tx.execute(
        f"UPDATE {table} SET {', '.join(f'{c} = ?' for c in columns)} WHERE id = ?",
        [*(values[c] for c in columns), row_id],
    )


def _checked(table: str, allowed: frozenset[str], values: Mapping[str, Any]) -> list[str]:
    unknown = set(values) - allowed
    if unknown:
        raise KeyError(f"not {table} columns: {sorted(unknown)}")
    return list(values)


@contextmanager
def read_only_connection(path: Path) -> Iterator[sqlite3.Connection]:
    """A read-only connection to the database file at ``path``, rows as ``sqlite3.Row``.

    Long reads (the CSV export's worker process) run on it, so they neither hold the
    event loop nor queue behind the writer; WAL gives them one consistent snapshot per
    statement. Not for ``:memory:`` databases (check :attr:`Database.on_disk`).
    """
    conn = sqlite3.connect(
        f"{Path(path).resolve().as_uri()}?mode=ro", uri=True, timeout=BUSY_TIMEOUT_MS / 1000
    )
    conn.row_factory = sqlite3.Row
    try:
        yield conn
    finally:
        conn.close()


class Database(ABC):
    """The storage interface: :meth:`transaction`, :meth:`reading` and the fetch helpers,
    :meth:`migrate`, :meth:`scrub`. Open one with :func:`open_database`.

    Every backend serialises its own transactions with an asyncio lock (one at a time per
    process), so code written for the single SQLite writer behaves the same on PostgreSQL.
    """

    dialect: ClassVar[str]

    def __init__(self) -> None:
        self._lock = asyncio.Lock()
        #: Writes refused for a lasting reason (disk full, read-only, server gone), and the
        #: latest one: a counter, so a watcher notices refusals even if a later write worked.
        self.write_failures = 0
        self.last_write_failure: StorageUnavailable | None = None
        #: Removed text may still sit in old row versions until :meth:`scrub` clears them.
        #: True at start: an earlier run may have stopped before its scrub.
        self.scrub_pending = True
        #: A forget's full rewrite that failed is redone by the next scrub.
        self.vacuum_pending = False

    @classmethod
    async def open(cls, path: Path | str) -> Database:
        """An SQLite database at ``path`` (kept for tools and tests that name a file)."""
        return await SqliteDatabase.open(path)

    @abstractmethod
    async def close(self) -> None: ...

    @property
    def on_disk(self) -> bool:
        """Whether :func:`read_only_connection` can open the database as a file from
        another thread or process (SQLite on disk only)."""
        return False

    @property
    def elsewhere(self) -> tuple[str, str] | None:
        """(dialect, where): how another process opens this same database, the SQLite file
        or the PostgreSQL URL; None for an in-memory SQLite database, which it can't.
        Holds a password when the URL does: pass it on a pipe, never log it."""
        return None

    @abstractmethod
    def transaction(self) -> AbstractAsyncContextManager[Tx]:
        """One atomic unit of work: commits on success, rolls back on any exception."""

    @abstractmethod
    def reading(self) -> AbstractAsyncContextManager[Tx]:
        """Several reads that must see one consistent state (no writer can interleave)."""

    async def fetch_one(self, sql: str, params: Sequence[Any] = ()) -> Row | None:
        async with self.reading() as tx:
            return await tx.fetch_one(sql, params)

    async def fetch_all(self, sql: str, params: Sequence[Any] = ()) -> list[Row]:
        async with self.reading() as tx:
            return await tx.fetch_all(sql, params)

    async def fetch_value(self, sql: str, params: Sequence[Any] = ()) -> Any:
        async with self.reading() as tx:
            return await tx.fetch_value(sql, params)

    @abstractmethod
    async def scrub(self, *, vacuum: bool = False, now: datetime | None = None) -> bool:
        """Leave no copy of removed text in the database; True once that is so. ``now``
        (the tick's) lets a backend space out costly work; False then means "later"."""

    @abstractmethod
    async def user_version(self) -> int:
        """The number of the last migration applied (0: none)."""

    @abstractmethod
    async def table_names(self) -> list[str]:
        """Praxis's tables, by name (not the backend's own bookkeeping tables)."""

    @abstractmethod
    async def integrity_report(self) -> str:
        """``"ok"``, or what the backend's own check found wrong."""

    async def integrity_ok(self) -> bool:
        return await self.integrity_report() == "ok"

    @abstractmethod
    async def migrate(self, migrations: Sequence[Migration] | None = None) -> list[int]:
        """Apply every migration newer than the database; returns the versions applied."""

    def _count_refusal(self, found: StorageUnavailable) -> None:
        self.write_failures += 1
        self.last_write_failure = found


class SqliteDatabase(Database):
    """Owns the aiosqlite connection (WAL, one writer)."""

    dialect = "sqlite"

    def __init__(self, conn: aiosqlite.Connection, path: Path) -> None:
        super().__init__()
        self._conn = conn
        self.path = path

    @classmethod
    async def open(cls, path: Path | str) -> Database:
        """Connect with the pragmas Praxis relies on (WAL, foreign keys, busy timeout)."""
        path = Path(path)
        if str(path) != ":memory:":
            path.parent.mkdir(parents=True, exist_ok=True)
        conn = await aiosqlite.connect(path, isolation_level=None)
        conn.row_factory = sqlite3.Row
        try:
            for pragma in (
                "PRAGMA journal_mode = WAL",
                "PRAGMA foreign_keys = ON",
                f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}",
                "PRAGMA synchronous = NORMAL",
                # Zero the bytes of whatever is deleted or overwritten (off by default in
                # many SQLite builds): removed text must not linger in freed space.
                "PRAGMA secure_delete = ON",
            ):
                async with conn.execute(pragma) as cursor:
                    await cursor.fetchall()  # an unfinished PRAGMA cursor would block COMMIT
        except BaseException:
            await conn.close()  # an open connection's thread would keep the process alive
            raise
        return cls(conn, path)

    async def close(self) -> None:
        """Close the connection: aiosqlite's worker thread would otherwise keep the process up.

        Waits briefly for a transaction in flight; past that, closing rolls it back.
        """
        try:
            async with asyncio.timeout(CLOSE_WAIT_S):
                await self._lock.acquire()
        except TimeoutError:
            log.warning("Closing the database with a transaction in flight; it is rolled back.")
        await self._conn.close()

    @property
    def on_disk(self) -> bool:
        return str(self.path) != ":memory:"

    @property
    def elsewhere(self) -> tuple[str, str] | None:
        return ("sqlite", str(self.path)) if self.on_disk else None

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[Tx]:
        """One atomic unit of work: commits on success, rolls back on any exception."""
        async with self._lock:
            tx = SqliteTx(self._conn, begin=True)  # BEGIN IMMEDIATE goes with the first statement
            try:
                yield tx
                if not tx.begin_pending:  # nothing ran: nothing to commit
                    await _in_thread(self._conn, _run, "COMMIT", ())
            except BaseException as error:
                if not tx.begin_pending:  # queued after whatever this one sent
                    await _in_thread(self._conn, _roll_back)
                if isinstance(error, sqlite3.Error):
                    self._raise_refusal(error)
                raise

    def _raise_refusal(self, error: sqlite3.Error) -> None:
        """Raise a kind error if SQLite refused the write as busy or unable to write (the
        latter counted, for the outage watch); other errors propagate as they are."""
        found = _classify(error)
        if isinstance(found, StorageUnavailable):
            self._count_refusal(found)
        if found is not None:
            raise found from error

    @asynccontextmanager
    async def reading(self) -> AsyncIterator[Tx]:
        """Several reads that must see one consistent state (no writer can interleave)."""
        async with self._lock:
            yield SqliteTx(self._conn)

    async def scrub(self, *, vacuum: bool = False, now: datetime | None = None) -> bool:
        """Leave no copy of removed text in the database files; True once that is so.

        ``secure_delete`` zeroes freed space, but in WAL mode the main file keeps the old
        page until a checkpoint copies the new one over it, and the WAL keeps every page
        image written since it was last reset (including the one from when the text was
        first stored). A TRUNCATE checkpoint does both. Another reader of the file (a
        backup, ``sqlite3`` in a shell) can hold it up: then this waits briefly, returns
        False and leaves :attr:`scrub_pending` set so the next tick tries again.
        ``vacuum`` first rebuilds the whole file (see docs/PERFORMANCE.md for its cost),
        which also drops stale bytes written before ``secure_delete`` was on and message
        ids kept as dividers in the table's inner pages; if it fails (it needs room for a
        copy of the file), the next scrub redoes it.
        """
        self.scrub_pending = True
        self.vacuum_pending |= vacuum
        async with self._lock:
            await self._pragma(f"PRAGMA busy_timeout = {SCRUB_WAIT_MS}")
            try:
                if self.vacuum_pending:
                    await self._pragma("VACUUM")
                    self.vacuum_pending = False
                busy = (await self._pragma("PRAGMA wal_checkpoint(TRUNCATE)"))[0][0]
            except sqlite3.Error as error:  # busy or locked: the next tick tries again
                log.warning("Could not clear freed pages yet (%s)", error)
                return False
            finally:
                await self._pragma(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
        self.scrub_pending = bool(busy)
        return not busy

    async def _pragma(self, sql: str) -> list[Row]:
        async with self._conn.execute(sql) as cursor:
            return list(await cursor.fetchall())

    async def user_version(self) -> int:
        return int(await self.fetch_value("PRAGMA user_version"))

    async def integrity_report(self) -> str:
        return await self.fetch_value("PRAGMA integrity_check")

    async def table_names(self) -> list[str]:
        rows = await self.fetch_all(
            "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite%'"
            " ORDER BY name"
        )
        return [row["name"] for row in rows]

    async def migrate(self, migrations: Sequence[Migration] | None = None) -> list[int]:
        """Apply every migration newer than the DB's ``user_version``; returns those applied.

        Each migration and its version bump commit together, so a failure leaves the
        database at the previous version with nothing half-applied.
        """
        migrations = list(migrations if migrations is not None else load_migrations())
        latest = migrations[-1].version if migrations else 0
        current = await self.user_version()
        if current > latest:
            raise SchemaTooNew(
                f"The database is at schema version {current}, newer than this Praxis ({latest}). "
                "Upgrade Praxis before using this database."
            )
        applied = []
        async with self._lock:
            for migration in migrations:
                if migration.version <= current:
                    continue
                script = (
                    f"BEGIN IMMEDIATE;\n{migration.sql}\n;"
                    f"PRAGMA user_version = {migration.version};\nCOMMIT;"
                )
                try:
                    await self._conn.executescript(script)
                except BaseException:
                    if self._conn.in_transaction:
                        await self._conn.execute("ROLLBACK")
                    raise
                log.info("Applied migration %s", migration.name)
                applied.append(migration.version)
        return applied


@dataclass(frozen=True, slots=True)
class Migration:
    version: int
    name: str
    sql: str


async def open_database(settings: Settings) -> Database:
    """The database these settings name: PostgreSQL when ``database_url`` is set, else the
    SQLite file at ``database_path``. The one place Praxis opens its storage."""
    if settings.database_url:
        from bot.storage.postgres import PostgresDatabase  # asyncpg only when it is used

        return await PostgresDatabase.open(settings.database_url)
    return await SqliteDatabase.open(settings.database_path)


def load_migrations(dialect: str = "sqlite") -> list[Migration]:
    """Read ``migrations/NNNN_*.sql`` (SQLite) or ``migrations/postgresql/NNNN_*.sql`` in
    order; numbers must run 1, 2, 3… without gaps."""
    found = []
    folder = resources.files("migrations")
    if dialect != "sqlite":
        folder = folder / dialect
    for entry in folder.iterdir():
        match = _MIGRATION_NAME.match(entry.name)
        if match:
            found.append(Migration(int(match.group(1)), entry.name, entry.read_text("utf-8")))
    found.sort(key=lambda m: m.version)
    for expected, migration in enumerate(found, start=1):
        if migration.version != expected:
            raise RuntimeError(f"Migration {expected:04d} is missing (found {migration.name}).")
    return found


#: SQLite's primary result codes that mean "can't write until someone fixes the machine".
_UNAVAILABLE = {
    sqlite3.SQLITE_FULL: "the disk is full",
    sqlite3.SQLITE_READONLY: "the database file is read-only",
    sqlite3.SQLITE_IOERR: "the disk reported an I/O error",
    sqlite3.SQLITE_CANTOPEN: "the database file can't be opened",
}


def _classify(error: sqlite3.Error) -> StorageBusy | StorageUnavailable | None:
    primary = (getattr(error, "sqlite_errorcode", None) or 0) & 0xFF
    if primary in (sqlite3.SQLITE_BUSY, sqlite3.SQLITE_LOCKED):
        return StorageBusy(
            "The database is busy right now, so nothing was changed. Please try again in a moment."
        )
    if primary in _UNAVAILABLE:
        return StorageUnavailable(_UNAVAILABLE[primary])
    return None
