"""Helpers shared by the storage contract tests (imported by conftest.py and the test modules)."""

from __future__ import annotations

import asyncio
import os
import time
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any, TypeVar

import asyncpg
import pytest
import redis.asyncio as aioredis

from sealgate.storage.base import AuditSink, ReplayCache
from sealgate.storage.factory import AuditConfig, ReplayConfig, build_audit_sink, build_replay_cache

T = TypeVar("T")

PG_DSN = os.environ.get("SEALGATE_TEST_POSTGRES_DSN", "postgresql://postgres@127.0.0.1:5432/test")
REDIS_URL = os.environ.get("SEALGATE_TEST_REDIS_URL", "redis://127.0.0.1:6379/0")


async def require_postgres() -> None:
    """Fail (never skip) with a clear message when PostgreSQL is unreachable."""
    try:
        conn = await asyncpg.connect(PG_DSN, timeout=5)
    except Exception as exc:
        pytest.fail(
            f"PostgreSQL is not reachable at {PG_DSN} ({type(exc).__name__}: {exc}). The storage "
            "contract tests need it; start it or set SEALGATE_TEST_POSTGRES_DSN.",
            pytrace=False,
        )
    await conn.close()


async def require_redis() -> None:
    """Fail (never skip) with a clear message when Redis is unreachable."""
    client = aioredis.Redis.from_url(REDIS_URL, socket_connect_timeout=5)
    try:
        await client.ping()
    except Exception as exc:
        pytest.fail(
            f"Redis is not reachable at {REDIS_URL} ({type(exc).__name__}: {exc}). The storage "
            "contract tests need it; start it or set SEALGATE_TEST_REDIS_URL.",
            pytrace=False,
        )
    finally:
        await client.aclose()


async def drop_postgres_tables(prefix: str) -> None:
    """Remove every table a test created under ``prefix``."""
    conn = await asyncpg.connect(PG_DSN, timeout=5)
    try:
        names = await conn.fetch(
            "SELECT tablename FROM pg_tables WHERE schemaname = current_schema() AND tablename LIKE $1",
            prefix.replace("_", r"\_") + "%",
        )
        for row in names:
            await conn.execute(f'DROP TABLE IF EXISTS "{row["tablename"]}"')
    finally:
        await conn.close()


async def delete_redis_keys(prefix: str) -> int:
    """Delete every key under ``prefix``; returns how many there were."""
    client = aioredis.Redis.from_url(REDIS_URL)
    try:
        keys = [key async for key in client.scan_iter(match=f"{prefix}*", count=1000)]
        if keys:
            await client.delete(*keys)
        return len(keys)
    finally:
        await client.aclose()


def unique_prefix() -> str:
    """A table prefix no other test run uses."""
    return f"t{uuid.uuid4().hex[:12]}_"


async def eventually(
    probe: Callable[[], Awaitable[T]], done: Callable[[T], bool], *, timeout: float = 5.0
) -> T:
    """Await ``probe()`` until ``done(result)`` or ``timeout`` seconds pass; return the last result."""
    deadline = time.monotonic() + timeout
    while True:
        result = await probe()
        if done(result) or time.monotonic() > deadline:
            return result
        await asyncio.sleep(0.05)


@dataclass
class AuditBackend:
    """One audit backend under test: ``make()`` builds a new sink on the same storage."""

    name: str
    config: AuditConfig
    persistent: bool
    made: list[AuditSink] = field(default_factory=list)

    def make(self, **changes: Any) -> AuditSink:
        """A new, unopened sink on this backend's storage (``changes`` override config fields)."""
        config = AuditConfig.model_validate({**self.config.model_dump(), **changes})
        sink = build_audit_sink(config)
        self.made.append(sink)
        return sink


@dataclass
class ReplayBackend:
    """One replay-cache backend under test: ``make()`` builds a new cache on the same store."""

    name: str
    config: ReplayConfig
    shared: bool
    made: list[ReplayCache] = field(default_factory=list)

    def make(self) -> ReplayCache:
        """A new, unopened cache on this backend's store."""
        cache = build_replay_cache(self.config)
        self.made.append(cache)
        return cache
