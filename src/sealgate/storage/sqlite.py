"""SQLite backends (stdlib ``sqlite3``): the embedded default for one host.

- :class:`SqliteAuditSink`: events buffered in memory and inserted in batches (one
  transaction per flush) by a background task. Table ``<prefix>audit_events(id, request_id,
  created_at, event)``; ``event`` is the JSON text, so ``json_extract`` works in ad-hoc queries.
  With ``retention_seconds``, older events are deleted at open and every hour.
- :class:`SqliteReplayCache`: table ``<prefix>replay_tokens(token, expires_at)``; one atomic
  upsert per token (see :meth:`SqliteReplayCache.add_if_absent`). Expired rows are deleted
  every ``prune_interval`` seconds.

Each instance owns one connection used by one dedicated thread, so the event loop never
blocks on the database and the connection is never shared between threads. Several
processes (``uvicorn --workers N``) may use the same file: WAL journal mode lets readers run
beside the single writer, writers queue on the database lock for up to ``busy_timeout``
seconds, and writes start with ``BEGIN IMMEDIATE`` so a waiting writer never deadlocks on a
lock upgrade. ``synchronous=NORMAL``: a power cut may lose the last commits, a crashed
process loses nothing it committed. Keep the file on a local disk (WAL needs shared memory,
which network filesystems do not provide). The file is created with mode 0600.

Expiry uses the wall clock (``time.time()``) because every process sharing the file must
agree on it; a clock stepped backwards keeps tokens longer, never shorter than ``ttl``
measured on the new clock.

Example::

    cache = SqliteReplayCache("/var/lib/sealgate/sealgate.db")
    await cache.open()
    first = await cache.add_if_absent(b"enc-bytes", ttl_seconds=60)   # True
    again = await cache.add_if_absent(b"enc-bytes", ttl_seconds=60)   # False
    await cache.close()
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import re
import sqlite3
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any, TypeVar

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

__all__ = ["SqliteAuditSink", "SqliteReplayCache"]

log = logging.getLogger("sealgate.storage")

T = TypeVar("T")

_PREFIX = re.compile(r"[a-z_][a-z0-9_]{0,40}\Z")


def _check_prefix(prefix: str) -> str:
    # Table names cannot be bound as parameters; only this closed alphabet reaches the SQL.
    if not _PREFIX.match(prefix):
        raise ValueError(f"table_prefix must match {_PREFIX.pattern!r}, got {prefix!r}")
    return prefix


class _Connection:
    """One sqlite3 connection living in one dedicated thread."""

    def __init__(self, path: Path, busy_timeout: float) -> None:
        self.path = path
        self.busy_timeout = busy_timeout
        self._executor: ThreadPoolExecutor | None = None
        self._conn: sqlite3.Connection | None = None

    async def open(self, setup: Callable[[sqlite3.Connection], None]) -> None:
        self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="sealgate-sqlite")
        loop = asyncio.get_running_loop()
        try:
            try:
                await loop.run_in_executor(self._executor, self._connect)
            except sqlite3.Error as exc:
                raise StorageError(f"SQLite {self.path}: cannot open: {exc}") from exc
            except OSError as exc:
                raise StorageError(f"SQLite {self.path}: cannot create: {exc.strerror or exc}") from exc
            await self.run(setup)
        except BaseException:
            await self.close()
            raise

    def _connect(self) -> None:
        if str(self.path) != ":memory:":
            self.path.parent.mkdir(parents=True, exist_ok=True)
            # Create it 0600 before SQLite does (it would use 0644); -wal/-shm inherit the mode.
            os.close(os.open(self.path, os.O_RDWR | os.O_CREAT, 0o600))
        conn = sqlite3.connect(self.path, timeout=self.busy_timeout, isolation_level=None)
        try:
            conn.execute(f"PRAGMA busy_timeout = {int(self.busy_timeout * 1000)}")
            mode = conn.execute("PRAGMA journal_mode = WAL").fetchone()[0]
            if str(mode).lower() != "wal" and str(self.path) != ":memory:":
                log.warning("SQLite %s: WAL mode unavailable (got %s); several processes will contend",
                            self.path, mode)
            conn.execute("PRAGMA synchronous = NORMAL")
        except BaseException:
            conn.close()
            raise
        self._conn = conn

    async def run(self, fn: Callable[[sqlite3.Connection], T]) -> T:
        """Run ``fn(connection)`` in the connection's thread."""
        if self._executor is None:
            raise StorageError(f"SQLite {self.path}: not open")
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self._executor, self._call, fn)

    def _call(self, fn: Callable[[sqlite3.Connection], T]) -> T:
        conn = self._conn
        if conn is None:
            raise StorageError(f"SQLite {self.path}: not open")
        try:
            return fn(conn)
        except sqlite3.Error as exc:
            raise StorageError(f"SQLite {self.path}: {type(exc).__name__}: {exc}") from exc

    async def close(self) -> None:
        executor, self._executor = self._executor, None
        if executor is None:
            return
        loop = asyncio.get_running_loop()
        with contextlib.suppress(sqlite3.Error):
            await loop.run_in_executor(executor, self._close_conn)
        executor.shutdown(wait=True)

    def _close_conn(self) -> None:
        conn, self._conn = self._conn, None
        if conn is not None:
            conn.close()


def _write_transaction(conn: sqlite3.Connection, sql: str, rows: list[tuple[Any, ...]]) -> None:
    conn.execute("BEGIN IMMEDIATE")
    try:
        conn.executemany(sql, rows)
    except BaseException:
        conn.execute("ROLLBACK")
        raise
    conn.execute("COMMIT")


class SqliteAuditSink(BufferedAuditSink):
    """Audit events in a SQLite table, inserted in batches; see the module docstring."""

    def __init__(
        self,
        path: str | os.PathLike[str],
        *,
        table_prefix: str = "sealgate_",
        busy_timeout: float = 10.0,
        buffering: Buffering = DEFAULT_BUFFERING,
        retention_seconds: float | None = None,
    ) -> None:
        super().__init__(buffering)
        check_retention(retention_seconds)
        self.path = Path(path)
        self._table = table = f"{_check_prefix(table_prefix)}audit_events"
        self._retention = retention_seconds
        self._pruner = (
            Pruner(self.prune, RETENTION_CHECK_SECONDS, self._describe()) if retention_seconds is not None else None
        )
        self._sql_expire = f"DELETE FROM {table} WHERE created_at < ?"  # noqa: S608
        self._db = _Connection(self.path, busy_timeout)
        # The table name is built from a validated prefix (see _check_prefix), hence the noqa.
        self._sql_insert = f"INSERT INTO {table} (request_id, created_at, event) VALUES (?, ?, ?)"  # noqa: S608
        self._sql_recent = f"SELECT event FROM {table} ORDER BY id DESC LIMIT ?"  # noqa: S608
        self._sql_recent_of = (
            f"SELECT event FROM {table} WHERE request_id = ? ORDER BY id DESC LIMIT ?"  # noqa: S608
        )

    def _describe(self) -> str:
        return f"SqliteAuditSink({self.path})"

    async def _open_backend(self) -> None:
        table = self._table

        def setup(conn: sqlite3.Connection) -> None:
            conn.execute(
                f"CREATE TABLE IF NOT EXISTS {table} ("
                " id INTEGER PRIMARY KEY AUTOINCREMENT,"
                " request_id TEXT,"
                " created_at REAL NOT NULL,"
                " event TEXT NOT NULL)"
            )
            conn.execute(f"CREATE INDEX IF NOT EXISTS {table}_request_id ON {table} (request_id, id)")
            if retention:
                # Only with retention: the hourly delete then finds old rows without a full scan.
                conn.execute(f"CREATE INDEX IF NOT EXISTS {table}_created_at ON {table} (created_at)")

        retention = self._retention is not None
        await self._db.open(setup)
        if self._pruner is not None:
            await self.prune()
            self._pruner.start()

    async def prune(self) -> int:
        """Delete the events older than the retention (none without one); returns how many."""
        if self._retention is None:
            return 0
        sql, cutoff = self._sql_expire, time.time() - self._retention
        return await self._db.run(lambda conn: conn.execute(sql, (cutoff,)).rowcount)

    async def _persist(self, batch: list[EncodedEvent]) -> None:
        now = time.time()
        rows = [(item.request_id, now, item.line[:-1].decode("utf-8")) for item in batch]
        sql = self._sql_insert
        await self._db.run(lambda conn: _write_transaction(conn, sql, rows))

    async def _recent_persisted(self, limit: int, request_id: str | None) -> list[dict[str, Any]]:
        if request_id is None:
            sql = self._sql_recent
            params: tuple[Any, ...] = (limit,)
        else:
            sql = self._sql_recent_of
            params = (request_id, limit)
        rows = await self._db.run(lambda conn: conn.execute(sql, params).fetchall())
        return [decode_event(row[0]) for row in rows]

    async def _close_backend(self) -> None:
        if self._pruner is not None:
            await self._pruner.stop()
        await self._db.close()


class SqliteReplayCache:
    """One-time tokens in a SQLite table shared by every process on the host."""

    def __init__(
        self,
        path: str | os.PathLike[str],
        *,
        table_prefix: str = "sealgate_",
        busy_timeout: float = 10.0,
        prune_interval: float = 30.0,
    ) -> None:
        self.path = Path(path)
        self._table = f"{_check_prefix(table_prefix)}replay_tokens"
        self._pruner = Pruner(self.prune, prune_interval, "SqliteReplayCache")
        self._db = _Connection(self.path, busy_timeout)
        self._opened = False
        self._closed = False
        table = self._table
        # The table name is built from a validated prefix (see _check_prefix), hence the noqa.
        self._insert = (
            f"INSERT INTO {table} (token, expires_at) VALUES (?, ?) "  # noqa: S608
            f"ON CONFLICT (token) DO UPDATE SET expires_at = excluded.expires_at "
            f"WHERE {table}.expires_at <= ?"
        )
        self._delete_expired = f"DELETE FROM {table} WHERE expires_at <= ?"  # noqa: S608

    async def open(self) -> None:
        """Create the table and start pruning expired tokens."""
        if self._closed:
            raise StorageError("SqliteReplayCache: cannot reopen; create a new one")
        if self._opened:
            return
        table = self._table

        def setup(conn: sqlite3.Connection) -> None:
            conn.execute(
                f"CREATE TABLE IF NOT EXISTS {table} ("
                " token BLOB PRIMARY KEY, expires_at REAL NOT NULL) WITHOUT ROWID"
            )
            conn.execute(f"CREATE INDEX IF NOT EXISTS {table}_expires ON {table} (expires_at)")

        await self._db.open(setup)
        self._opened = True
        self._pruner.start()

    async def add_if_absent(self, token: bytes, ttl_seconds: float) -> bool:
        """True if ``token`` was new or had expired (now remembered for ``ttl_seconds``).

        One statement: insert, or on conflict take over the row only if it has expired. SQLite
        runs it under the database write lock, so of several racing processes exactly one sees
        a changed row.
        """
        if self._closed or not self._opened:
            raise StorageError("SqliteReplayCache: not open")
        check_ttl(ttl_seconds)
        key = bytes(token)
        sql = self._insert

        def add(conn: sqlite3.Connection) -> bool:
            now = time.time()
            return conn.execute(sql, (key, now + ttl_seconds, now)).rowcount == 1

        return await self._db.run(add)

    async def prune(self) -> int:
        """Delete expired tokens now; returns how many."""
        sql = self._delete_expired
        return await self._db.run(lambda conn: conn.execute(sql, (time.time(),)).rowcount)

    async def close(self) -> None:
        """Stop pruning and close the connection. Idempotent."""
        if self._closed:
            return
        self._closed = True
        await self._pruner.stop()
        await self._db.close()
