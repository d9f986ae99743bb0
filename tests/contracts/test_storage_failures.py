"""Backends that are down or fail mid-way: clear errors, no leaked secrets, no lost events."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import asyncpg
import pytest

from sealgate.errors import StorageError
from sealgate.storage._common import Buffering
from sealgate.storage.postgres import PostgresAuditSink, PostgresReplayCache
from sealgate.storage.redis import RedisReplayCache
from sealgate.storage.sqlite import SqliteAuditSink
from tests.contracts.storage_contract_helpers import PG_DSN, drop_postgres_tables, require_postgres, unique_prefix
from tests.support.secrets import PLANTED_SECRETS

SECRET = PLANTED_SECRETS[3]  # also caught by the suite-wide log scan (tests/conftest.py)


async def test_unreachable_postgres_fails_open_without_leaking_the_password() -> None:
    dsn = f"postgresql://sealgate:{SECRET}@127.0.0.1:1/db"
    for backend in (PostgresAuditSink(dsn, connect_timeout=3), PostgresReplayCache(dsn, connect_timeout=3)):
        with pytest.raises(StorageError, match="cannot connect to PostgreSQL") as info:
            await backend.open()
        assert SECRET not in str(info.value)
        assert SECRET not in repr(backend)
        await backend.close()


async def test_unreachable_redis_fails_open_without_leaking_the_password() -> None:
    cache = RedisReplayCache(f"redis://:{SECRET}@127.0.0.1:1/0", socket_timeout=3)
    with pytest.raises(StorageError, match="cannot reach Redis") as info:
        await cache.open()
    assert SECRET not in str(info.value)
    await cache.close()


def _drop_sqlite_table(path: Path) -> None:
    conn = sqlite3.connect(path, timeout=10)
    conn.execute("DROP TABLE sealgate_audit_events")
    conn.commit()
    conn.close()


async def test_sqlite_failed_flush_keeps_events_until_storage_is_back(tmp_path: Path) -> None:
    path = tmp_path / "audit.db"
    sink = SqliteAuditSink(path, buffering=Buffering(flush_interval=60, flush_events=5, max_buffer_events=5))
    await sink.open()
    await sink.write({"seq": 0})
    await sink.flush()
    _drop_sqlite_table(path)
    for i in range(1, 6):
        await sink.write({"seq": i})
    # The buffer is full and storage is down: the writer is told instead of memory growing.
    with pytest.raises(StorageError, match="could not store 5 audit events"):
        await sink.write({"seq": 6})
    with pytest.raises(StorageError, match="could not store 5 audit events"):
        await sink.flush()

    repair = SqliteAuditSink(path)  # opening recreates the table
    await repair.open()
    await repair.close()
    await sink.flush()
    assert [e["seq"] for e in await sink.recent()] == [5, 4, 3, 2, 1]
    await sink.close()


async def test_sqlite_close_reports_events_it_could_not_store(tmp_path: Path) -> None:
    path = tmp_path / "audit.db"
    sink = SqliteAuditSink(path, buffering=Buffering(flush_interval=60))
    await sink.open()
    _drop_sqlite_table(path)
    await sink.write({"seq": 0})
    with pytest.raises(StorageError, match="could not store 1 audit events"):
        await sink.close()


@pytest.mark.postgres
async def test_postgres_failed_flush_keeps_events_until_storage_is_back() -> None:
    await require_postgres()
    prefix = unique_prefix()
    sink = PostgresAuditSink(PG_DSN, table_prefix=prefix, buffering=Buffering(flush_interval=60))
    try:
        await sink.open()
        await sink.write({"seq": 0})
        await sink.flush()
        await drop_postgres_tables(prefix)
        await sink.write({"seq": 1})
        await sink.write({"seq": 2, "request_id": "nul\x00id", "v": "nul\x00value"})
        with pytest.raises(StorageError, match="could not store 2 audit events"):
            await sink.flush()
        repair = PostgresAuditSink(PG_DSN, table_prefix=prefix)
        await repair.open()
        await repair.close()
        await sink.flush()
        assert [e["seq"] for e in await sink.recent()] == [2, 1]
        conn = await asyncpg.connect(PG_DSN)
        try:
            # Stored as PostgreSQL json, queryable in SQL.
            value = await conn.fetchval(f"SELECT event->>'seq' FROM {prefix}audit_events WHERE request_id IS NULL")
        finally:
            await conn.close()
        assert value == "1"
    finally:
        await sink.close()
        await drop_postgres_tables(prefix)
