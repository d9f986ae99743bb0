"""PostgreSQL backends (asyncpg, pooled): for several gateway nodes sharing one database.

- :class:`PostgresAuditSink`: events buffered in memory and stored with one ``COPY`` per flush
  by a background task. Table ``<prefix>audit_events(id, request_id, created_at, event)``;
  ``event`` has type ``json`` (not ``jsonb``, which rejects ``\\u0000`` and would let a request
  carrying one make its own audit record fail), so ``event->>'verdict'`` works in queries.
- :class:`PostgresReplayCache`: table ``<prefix>replay_tokens(token, expires_at)``; one atomic
  ``INSERT … ON CONFLICT DO UPDATE … WHERE expired`` per token, timed by the *database's* clock
  so every node agrees. Expired rows are deleted every ``prune_interval`` seconds.

Tables (and indexes) are created on ``open`` with ``CREATE … IF NOT EXISTS`` under a
transaction-level advisory lock, so nodes starting together do not race. ``table_prefix``
(letters, digits, underscore) keeps deployments or test runs apart in one database.

The DSN may hold a password: it is never logged or put into an error message.

Example::

    sink = PostgresAuditSink("postgresql://sealgate@db.internal/sealgate", table_prefix="gw_")
    await sink.open()
    await sink.write({"request_id": "r1", "verdict": "block"})
    print(await sink.recent(10, request_id="r1"))
    await sink.close()
"""

from __future__ import annotations

import re
from typing import Any

import asyncpg

from sealgate.errors import StorageError
from sealgate.storage._common import (
    DEFAULT_BUFFERING,
    RETENTION_CHECK_SECONDS,
    BufferedAuditSink,
    Buffering,
    EncodedEvent,
    Pruner,
    check_retention,
    check_ttl,
    decode_event,
)

__all__ = ["PostgresAuditSink", "PostgresReplayCache"]


_PREFIX = re.compile(r"[a-z_][a-z0-9_]{0,40}\Z")


def _check_prefix(prefix: str) -> str:
    # Identifiers cannot be bound as parameters; only this closed alphabet reaches the SQL
    # (lower case, so unquoted names mean the same to PostgreSQL as to us).
    if not _PREFIX.match(prefix):
        raise ValueError(f"table_prefix must match {_PREFIX.pattern!r}, got {prefix!r}")
    return prefix


def _db_text(text: str | None) -> str | None:
    """PostgreSQL ``text`` cannot hold NUL; map it the same way on insert and lookup."""
    return text.replace("\x00", "\ufffd") if text is not None else None


async def _create_pool(dsn: str, min_size: int, max_size: int, connect_timeout: float, what: str) -> Any:
    try:
        # command_timeout: a hung server must not hang close() (which waits for the last flush).
        return await asyncpg.create_pool(
            dsn,
            min_size=min_size,
            max_size=max_size,
            timeout=connect_timeout,
            command_timeout=max(30.0, connect_timeout),
        )
    except (OSError, TimeoutError, asyncpg.PostgresError, asyncpg.InterfaceError) as exc:
        # The message of these errors names host/user/database at most, never the password.
        raise StorageError(f"{what}: cannot connect to PostgreSQL: {type(exc).__name__}: {exc}") from exc


async def _create_tables(pool: Any, lock_name: str, statements: list[str], what: str) -> None:
    try:
        async with pool.acquire() as conn, conn.transaction():
            await conn.execute("SELECT pg_advisory_xact_lock(hashtext($1))", lock_name)
            for statement in statements:
                await conn.execute(statement)
    except (OSError, asyncpg.PostgresError, asyncpg.InterfaceError) as exc:
        raise StorageError(f"{what}: cannot create tables: {type(exc).__name__}: {exc}") from exc


class PostgresAuditSink(BufferedAuditSink):
    """Audit events in a PostgreSQL table, stored in batches with COPY; see the module docstring."""

    def __init__(
        self,
        dsn: str,
        *,
        table_prefix: str = "sealgate_",
        pool_min_size: int = 1,
        pool_max_size: int = 4,
        connect_timeout: float = 10.0,
        buffering: Buffering = DEFAULT_BUFFERING,
        retention_seconds: float | None = None,
    ) -> None:
        super().__init__(buffering)
        check_retention(retention_seconds)
        self._dsn = dsn
        self.table = table = f"{_check_prefix(table_prefix)}audit_events"
        self._retention = retention_seconds
        self._pruner = (
            Pruner(self.prune, RETENTION_CHECK_SECONDS, self._describe()) if retention_seconds is not None else None
        )
        self._sql_expire = (
            f"DELETE FROM {table} WHERE created_at < clock_timestamp() - make_interval(secs => $1)"  # noqa: S608
        )
        self._pool_sizes = (pool_min_size, pool_max_size)
        self._connect_timeout = connect_timeout
        self._pool: Any = None
        # The table name is built from a validated prefix (see _check_prefix), hence the noqa.
        self._ddl = [
            f"CREATE TABLE IF NOT EXISTS {table} ("
            " id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,"
            " request_id TEXT,"
            " created_at TIMESTAMPTZ NOT NULL DEFAULT now(),"
            " event JSON NOT NULL)",
            f"CREATE INDEX IF NOT EXISTS {table}_request_id ON {table} (request_id, id)",
        ]
        if retention_seconds is not None:
            # Only with retention: the hourly delete then finds old rows without a full scan.
            self._ddl.append(f"CREATE INDEX IF NOT EXISTS {table}_created_at ON {table} (created_at)")
        self._sql_recent = f"SELECT event FROM {table} ORDER BY id DESC LIMIT $1"  # noqa: S608
        self._sql_recent_of = (
            f"SELECT event FROM {table} WHERE request_id = $1 ORDER BY id DESC LIMIT $2"  # noqa: S608
        )

    def _describe(self) -> str:
        return f"PostgresAuditSink({self.table})"

    async def _open_backend(self) -> None:
        pool = await _create_pool(self._dsn, *self._pool_sizes, self._connect_timeout, self._describe())
        try:
            await _create_tables(pool, self.table, self._ddl, self._describe())
        except BaseException:
            await pool.close()
            raise
        self._pool = pool
        if self._pruner is not None:
            await self.prune()
            self._pruner.start()

    async def prune(self) -> int:
        """Delete the events older than the retention (none without one); returns how many."""
        if self._retention is None or self._pool is None:
            return 0
        try:
            status = await self._pool.execute(self._sql_expire, float(self._retention))
        except (OSError, asyncpg.PostgresError, asyncpg.InterfaceError) as exc:
            raise StorageError(f"{self._describe()}: cannot delete old events: {type(exc).__name__}") from exc
        return int(str(status).rsplit(" ", 1)[-1])

    async def _persist(self, batch: list[EncodedEvent]) -> None:
        records = [(_db_text(item.request_id), item.line[:-1].decode("utf-8")) for item in batch]
        await self._pool.copy_records_to_table(self.table, records=records, columns=["request_id", "event"])

    async def _recent_persisted(self, limit: int, request_id: str | None) -> list[dict[str, Any]]:
        try:
            if request_id is None:
                rows = await self._pool.fetch(self._sql_recent, limit)
            else:
                rows = await self._pool.fetch(self._sql_recent_of, _db_text(request_id), limit)
        except (OSError, asyncpg.PostgresError, asyncpg.InterfaceError) as exc:
            raise StorageError(
                f"{self._describe()}: cannot read events: {type(exc).__name__}: {exc}"
            ) from exc
        return [decode_event(row[0]) for row in rows]

    async def _close_backend(self) -> None:
        if self._pruner is not None:
            await self._pruner.stop()
        pool, self._pool = self._pool, None
        if pool is not None:
            await pool.close()


class PostgresReplayCache:
    """One-time tokens in a PostgreSQL table shared by every node; see the module docstring."""

    def __init__(
        self,
        dsn: str,
        *,
        table_prefix: str = "sealgate_",
        pool_min_size: int = 1,
        pool_max_size: int = 8,
        connect_timeout: float = 10.0,
        prune_interval: float = 30.0,
    ) -> None:
        self._dsn = dsn
        self.table = table = f"{_check_prefix(table_prefix)}replay_tokens"
        self._pool_sizes = (pool_min_size, pool_max_size)
        self._connect_timeout = connect_timeout
        self._pruner = Pruner(self.prune, prune_interval, "PostgresReplayCache")
        self._pool: Any = None
        self._closed = False
        self._ddl = [
            f"CREATE TABLE IF NOT EXISTS {table} (token BYTEA PRIMARY KEY, expires_at TIMESTAMPTZ NOT NULL)",
            f"CREATE INDEX IF NOT EXISTS {table}_expires ON {table} (expires_at)",
        ]
        # The table name is built from a validated prefix (see _check_prefix), hence the noqa.
        # clock_timestamp(), not now(): now() is frozen at transaction start.
        self._sql_add = (
            f"INSERT INTO {table} AS r (token, expires_at) "  # noqa: S608
            "VALUES ($1, clock_timestamp() + make_interval(secs => $2)) "
            "ON CONFLICT (token) DO UPDATE SET expires_at = EXCLUDED.expires_at "
            "WHERE r.expires_at <= clock_timestamp() "
            "RETURNING 1"
        )
        self._sql_prune = f"DELETE FROM {table} WHERE expires_at <= clock_timestamp()"  # noqa: S608

    async def open(self) -> None:
        """Connect, create the table and start pruning expired tokens."""
        if self._closed:
            raise StorageError("PostgresReplayCache: cannot reopen; create a new one")
        if self._pool is not None:
            return
        what = f"PostgresReplayCache({self.table})"
        pool = await _create_pool(self._dsn, *self._pool_sizes, self._connect_timeout, what)
        try:
            await _create_tables(pool, self.table, self._ddl, what)
        except BaseException:
            await pool.close()
            raise
        self._pool = pool
        self._pruner.start()

    async def add_if_absent(self, token: bytes, ttl_seconds: float) -> bool:
        """True if ``token`` was new or had expired (now remembered for ``ttl_seconds``).

        Atomic across nodes: concurrent inserts of one token serialise on its primary key, and
        the ``DO UPDATE … WHERE`` (re-checked on the newest row version after waiting) lets only
        one of them take over an expired row. ``RETURNING`` yields a row only for the winner.
        """
        if self._pool is None:
            raise StorageError("PostgresReplayCache: not open")
        check_ttl(ttl_seconds)
        try:
            won = await self._pool.fetchval(self._sql_add, bytes(token), float(ttl_seconds))
        except (OSError, asyncpg.PostgresError, asyncpg.InterfaceError) as exc:
            raise StorageError(f"PostgresReplayCache: {type(exc).__name__}: {exc}") from exc
        return won is not None

    async def prune(self) -> int:
        """Delete expired tokens now; returns how many."""
        if self._pool is None:
            raise StorageError("PostgresReplayCache: not open")
        status = await self._pool.execute(self._sql_prune)
        return int(str(status).rsplit(" ", 1)[-1])

    async def close(self) -> None:
        """Stop pruning and close the pool. Idempotent."""
        if self._closed:
            return
        self._closed = True
        await self._pruner.stop()
        pool, self._pool = self._pool, None
        if pool is not None:
            await pool.close()
