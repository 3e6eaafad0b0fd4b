"""The PostgreSQL backend of :class:`bot.storage.db.Database`, through asyncpg.

Chosen by ``DATABASE_URL=postgresql://…``. The storage modules' SQL is the same text as
on SQLite: ``?`` placeholders are numbered ``$1, $2…`` here (once per statement text,
cached). Transactions are serialised per process with the same asyncio lock as SQLite's
single writer, so the core sees the same behaviour on both; they run at READ COMMITTED
with a ``lock_timeout``, and what PostgreSQL refuses is told apart as on SQLite: a lock
wait, serialisation failure or deadlock is :class:`StorageBusy` (try again), a server that
is gone, read-only or out of disk is :class:`StorageUnavailable` (wait for the operator).
"""

from __future__ import annotations

import asyncio
import functools
import logging
import queue
import threading
from collections.abc import AsyncIterator, Iterable, Iterator, Sequence
from contextlib import asynccontextmanager
from datetime import datetime, timedelta
from typing import Any

import asyncpg

from bot.core.errors import StorageBusy, StorageUnavailable
from bot.storage.db import (
    BUSY_TIMEOUT_MS,
    CLOSE_WAIT_S,
    Database,
    Migration,
    Row,
    SchemaTooNew,
    Tx,
    load_migrations,
)

log = logging.getLogger(__name__)

#: The advisory lock key held while migrating, so two processes starting together apply
#: each migration once (the second waits, then finds nothing left to do).
MIGRATION_LOCK = 0x50524158  # "PRAX"
#: Connections per process. Transactions take turns (see the module docstring), so one
#: is in use at a time; the second lets a broken connection be replaced without waiting.
POOL_SIZE = 2
#: The least time between two table rewrites after retention purges (a forget's is at once).
SCRUB_INTERVAL = timedelta(hours=1)
#: Tables whose rows hold members' words or ids that /me forget and retention remove.
SCRUBBED_TABLES = (
    "posts", "member_notes", "member_settings", "platform_ids", "ratings", "feedback_labels",
    "excusals", "assignments",
)  # fmt: skip

_BUSY = (
    asyncpg.exceptions.LockNotAvailableError,
    asyncpg.exceptions.SerializationError,
    asyncpg.exceptions.DeadlockDetectedError,
)
_UNAVAILABLE: tuple[tuple[type[BaseException], str], ...] = (
    (asyncpg.exceptions.DiskFullError, "the database server's disk is full"),
    (asyncpg.exceptions.ReadOnlySQLTransactionError, "the database server is read-only"),
    (asyncpg.exceptions.InsufficientResourcesError, "the database server is out of resources"),
    (asyncpg.exceptions.CannotConnectNowError, "the database server is starting or stopping"),
    (asyncpg.exceptions.AdminShutdownError, "the database server is shutting down"),
    (asyncpg.exceptions.PostgresConnectionError, "the database server can't be reached"),
    (asyncpg.exceptions.TooManyConnectionsError, "the database server has no free connection"),
    (asyncpg.exceptions.ConnectionDoesNotExistError, "the connection to the server was lost"),
    (OSError, "the database server can't be reached"),
)


@functools.lru_cache(maxsize=4096)
def numbered(sql: str) -> str:
    """``sql`` with each ``?`` outside quotes as ``$1``, ``$2``… (asyncpg's placeholders)."""
    out: list[str] = []
    quote: str | None = None
    n = 0
    for char in sql:
        if quote:
            quote = None if char == quote else quote
        elif char in "'\"":
            quote = char
        elif char == "?":
            n += 1
            out.append(f"${n}")
            continue
        out.append(char)
    return "".join(out)


def _classify(error: BaseException) -> StorageBusy | StorageUnavailable | None:
    if isinstance(error, _BUSY):
        return StorageBusy(
            "The database is busy right now, so nothing was changed. Please try again in a moment."
        )
    for kind, reason in _UNAVAILABLE:
        if isinstance(error, kind):
            return StorageUnavailable(reason)
    return None


def _from_the_server(error: Exception, conn: asyncpg.Connection) -> bool:
    """Whether ``error`` came from PostgreSQL or a lost connection, not from the caller's
    own code inside the transaction (an OSError writing a file must not read as "the
    server can't be reached")."""
    return isinstance(error, asyncpg.PostgresError) or (
        isinstance(error, OSError | asyncpg.exceptions.ConnectionDoesNotExistError)
        and conn.is_closed()
    )


def _rowcount(status: str) -> int:
    """The row count at the end of a command tag (``UPDATE 3``, ``INSERT 0 1``)."""
    last = status.rsplit(" ", 1)[-1]
    return int(last) if last.isdigit() else 0


class PostgresTx(Tx):
    """:class:`Tx` on one pooled asyncpg connection."""

    dialect = "postgresql"

    def __init__(self, conn: asyncpg.Connection) -> None:
        self._conn = conn

    async def execute(self, sql: str, params: Sequence[Any] = ()) -> None:
        await self._conn.execute(numbered(sql), *params)

    async def execute_rowcount(self, sql: str, params: Sequence[Any] = ()) -> int:
        return _rowcount(await self._conn.execute(numbered(sql), *params))

    async def executemany(self, sql: str, rows: Iterable[Sequence[Any]]) -> None:
        rows = list(rows)
        if rows:
            await self._conn.executemany(numbered(sql), rows)

    async def fetch_one(self, sql: str, params: Sequence[Any] = ()) -> Row | None:
        return await self._conn.fetchrow(numbered(sql), *params)

    async def fetch_all(self, sql: str, params: Sequence[Any] = ()) -> list[Row]:
        return list(await self._conn.fetch(numbered(sql), *params))

    async def fetch_value(self, sql: str, params: Sequence[Any] = ()) -> Any:
        return await self._conn.fetchval(numbered(sql), *params)

    async def run_all(self, statements: Sequence[tuple[str, Sequence[Any]]]) -> list[list[Row]]:
        """One round trip each, in order (asyncpg has no multi-statement call with
        parameters); the batching that matters here is the multi-row ``VALUES``."""
        return [list(await self._conn.fetch(numbered(sql), *params)) for sql, params in statements]


class PostgresDatabase(Database):
    """Owns a small asyncpg pool on one PostgreSQL database."""

    dialect = "postgresql"

    def __init__(self, pool: asyncpg.Pool, url: str) -> None:
        super().__init__()
        self._pool = pool
        self.url = url  # holds the password, if any: never logged
        self._last_rewrite: datetime | None = None  # the tick's time of the last rewrite

    @property
    def elsewhere(self) -> tuple[str, str] | None:
        return ("postgresql", self.url)

    @classmethod
    async def open(cls, url: str, *, pool_size: int = POOL_SIZE) -> PostgresDatabase:
        pool = await asyncpg.create_pool(
            url,
            min_size=0,  # made on demand: no reconnect loop logging through an outage
            max_size=pool_size,
            server_settings={
                "application_name": "praxis",
                "lock_timeout": f"{BUSY_TIMEOUT_MS}ms",
                "idle_in_transaction_session_timeout": "60s",
            },
        )
        return cls(pool, url)

    async def close(self) -> None:
        """Close the pool, waiting briefly for a transaction in flight (then it is rolled
        back by the server when its connection ends)."""
        try:
            async with asyncio.timeout(CLOSE_WAIT_S):
                await self._lock.acquire()
        except TimeoutError:
            log.warning("Closing the database with a transaction in flight; it is rolled back.")
        try:
            async with asyncio.timeout(CLOSE_WAIT_S):
                await self._pool.close()
        except TimeoutError:
            self._pool.terminate()

    @asynccontextmanager
    async def _connection(self) -> AsyncIterator[asyncpg.Connection]:
        """A pooled connection; a server that can't be reached is :class:`StorageUnavailable`."""
        try:
            conn = await self._pool.acquire()
        except Exception as error:
            self._raise_refusal(error)
            raise
        try:
            yield conn
        finally:
            await self._pool.release(conn)

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[Tx]:
        async with self._lock, self._connection() as conn:
            try:
                async with conn.transaction():
                    yield PostgresTx(conn)
            except Exception as error:
                if _from_the_server(error, conn):
                    self._raise_refusal(error)
                raise

    @asynccontextmanager
    async def reading(self) -> AsyncIterator[Tx]:
        """Reads in one snapshot (a read-only REPEATABLE READ transaction), so another
        process's commit can't land between them."""
        async with (
            self._read() as conn,
            conn.transaction(isolation="repeatable_read", readonly=True),
        ):
            yield PostgresTx(conn)

    @asynccontextmanager
    async def _read(self) -> AsyncIterator[asyncpg.Connection]:
        async with self._lock, self._connection() as conn:
            try:
                yield conn
            except Exception as error:
                found = _classify(error) if _from_the_server(error, conn) else None
                if found is not None:
                    raise found from error
                raise

    async def fetch_one(self, sql: str, params: Sequence[Any] = ()) -> Row | None:
        async with self._read() as conn:  # one statement: its own snapshot suffices
            return await PostgresTx(conn).fetch_one(sql, params)

    async def fetch_all(self, sql: str, params: Sequence[Any] = ()) -> list[Row]:
        async with self._read() as conn:
            return await PostgresTx(conn).fetch_all(sql, params)

    async def fetch_value(self, sql: str, params: Sequence[Any] = ()) -> Any:
        async with self._read() as conn:
            return await PostgresTx(conn).fetch_value(sql, params)

    def _raise_refusal(self, error: BaseException) -> None:
        found = _classify(error)
        if isinstance(found, StorageUnavailable):
            self._count_refusal(found)
        if found is not None:
            raise found from error

    async def scrub(self, *, vacuum: bool = False, now: datetime | None = None) -> bool:
        """Rewrite the tables that held removed text, so no old row version keeps it.

        An UPDATE or DELETE leaves the old row version in the table file; a plain VACUUM
        marks its space free but does not overwrite the bytes. ``VACUUM FULL`` writes
        each table anew and drops the old files, so the text is in no file PostgreSQL
        keeps for the tables. It holds the tables (and this process's writes) for the
        rewrite, about 3 s per 100,000 posts (docs/PERFORMANCE.md). A forget
        (``vacuum``) rewrites at once; a retention purge, which may come every tick,
        at most once per :data:`SCRUB_INTERVAL` of the tick's ``now`` (until then this
        returns False and :attr:`scrub_pending` stays set, so a later tick does it).
        What stays until recycled: WAL segments and backups (docs/ARCHITECTURE.md).
        """
        self.scrub_pending = True
        self.vacuum_pending |= vacuum
        last = self._last_rewrite
        if not self.vacuum_pending and now and last and now - last < SCRUB_INTERVAL:
            return False
        try:
            async with self._lock, self._connection() as conn:
                await conn.execute(f"VACUUM (FULL) {', '.join(SCRUBBED_TABLES)}")
        except (StorageUnavailable, asyncpg.PostgresError, OSError) as error:
            log.warning("Could not clear removed rows yet (%s)", type(error).__name__)
            return False
        self._last_rewrite = now or last
        self.vacuum_pending = False
        self.scrub_pending = False
        return True

    async def user_version(self) -> int:
        async with self._lock, self._connection() as conn:
            return await _version(conn)

    async def integrity_report(self) -> str:
        """PostgreSQL checks pages itself (checksums, when initdb enabled them): this only
        proves the server answers."""
        return "ok" if await self.fetch_value("SELECT 1") == 1 else "no answer"

    async def table_names(self) -> list[str]:
        rows = await self.fetch_all(
            "SELECT table_name FROM information_schema.tables WHERE table_schema ="
            " current_schema() AND table_type = 'BASE TABLE' AND table_name <> 'schema_version'"
            " ORDER BY table_name"
        )
        return [row["table_name"] for row in rows]

    async def migrate(self, migrations: Sequence[Migration] | None = None) -> list[int]:
        """Apply ``migrations/postgresql/`` files newer than ``schema_version``, each with
        its version bump in one transaction, under an advisory lock so two processes
        starting together apply each once."""
        migrations = list(migrations if migrations is not None else load_migrations(self.dialect))
        latest = migrations[-1].version if migrations else 0
        applied = []
        async with self._lock, self._connection() as conn:
            await conn.execute("SELECT pg_advisory_lock($1)", MIGRATION_LOCK)
            try:
                current = await _version(conn)
                if current > latest:
                    raise SchemaTooNew(
                        f"The database is at schema version {current}, newer than this Praxis "
                        f"({latest}). Upgrade Praxis before using this database."
                    )
                for migration in migrations:
                    if migration.version <= current:
                        continue
                    async with conn.transaction():
                        await conn.execute(
                            "CREATE TABLE IF NOT EXISTS schema_version (version INTEGER NOT NULL)"
                        )
                        await conn.execute(migration.sql)
                        await conn.execute("DELETE FROM schema_version")
                        await conn.execute(
                            "INSERT INTO schema_version (version) VALUES ($1)", migration.version
                        )
                    log.info("Applied migration %s", migration.name)
                    applied.append(migration.version)
            finally:
                await conn.execute("SELECT pg_advisory_unlock($1)", MIGRATION_LOCK)
        return applied


async def _version(conn: asyncpg.Connection) -> int:
    if await conn.fetchval("SELECT to_regclass('schema_version')") is None:
        return 0
    return int(await conn.fetchval("SELECT COALESCE(MAX(version), 0) FROM schema_version"))


_DONE = object()


def stream_rows(
    url: str, queries: Sequence[tuple[str, Sequence[Any]]], size: int
) -> Iterator[tuple[int, list[Row]]]:
    """The rows of each query, in order, as (query's index, batch of at most ``size``),
    for a caller that isn't async (the export's worker process).

    One read-only REPEATABLE READ transaction, so all queries see one snapshot; each read
    through a server-side cursor, so memory holds a batch or two, never a whole result.
    asyncpg runs on an event loop of its own in a helper thread, two batches ahead at most.
    """
    handoff: queue.Queue = queue.Queue(maxsize=2)

    async def read() -> None:
        conn = await asyncpg.connect(url)
        try:
            async with conn.transaction(isolation="repeatable_read", readonly=True):
                for index, (sql, params) in enumerate(queries):
                    cursor = await conn.cursor(numbered(sql), *params)
                    while batch := await cursor.fetch(size):
                        handoff.put((index, batch))  # this loop runs nothing else: it may wait
        finally:
            await conn.close()

    def reader() -> None:
        try:
            asyncio.run(read())
            handoff.put(_DONE)
        except BaseException as error:  # handed to the caller, raised there
            handoff.put(error)

    threading.Thread(target=reader, name="praxis-stream", daemon=True).start()
    while (item := handoff.get()) is not _DONE:
        if isinstance(item, BaseException):
            raise item
        yield item
