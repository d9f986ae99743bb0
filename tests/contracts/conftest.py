"""Fixtures that run one contract suite against every storage backend.

``audit_backend`` / ``audit_sink`` cover memory, jsonl, sqlite and postgres; ``replay_backend`` /
``replay_cache`` cover memory, sqlite, redis and postgres. Backends are built through
``sealgate.storage.factory`` from the same config models users write, so the factory is
exercised too.

PostgreSQL and Redis are the real servers (``SEALGATE_TEST_POSTGRES_DSN``, default
postgresql://postgres@127.0.0.1:5432/test; ``SEALGATE_TEST_REDIS_URL``, default
redis://127.0.0.1:6379/0). Every test gets its own table prefix / key prefix and removes
them afterwards. A server that is down makes the test fail with a message saying so:
these backends are part of the contract, CI starts them, so they are never skipped.
"""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from pydantic import SecretStr

from sealgate.storage.base import AuditSink, ReplayCache
from sealgate.storage.factory import AuditConfig, ReplayConfig
from tests.contracts.storage_contract_helpers import (
    PG_DSN,
    REDIS_URL,
    AuditBackend,
    ReplayBackend,
    delete_redis_keys,
    drop_postgres_tables,
    require_postgres,
    require_redis,
    unique_prefix,
)

AUDIT_BACKENDS = [
    "memory",
    "jsonl",
    "sqlite",
    pytest.param("postgres", marks=pytest.mark.postgres),
]
PERSISTENT_AUDIT_BACKENDS = ["jsonl", "sqlite", pytest.param("postgres", marks=pytest.mark.postgres)]
REPLAY_BACKENDS = [
    "memory",
    "sqlite",
    pytest.param("redis", marks=pytest.mark.redis),
    pytest.param("postgres", marks=pytest.mark.postgres),
]
SHARED_REPLAY_BACKENDS = [
    "sqlite",
    pytest.param("redis", marks=pytest.mark.redis),
    pytest.param("postgres", marks=pytest.mark.postgres),
]


async def _audit_backend(name: str, tmp_path: Path) -> AsyncIterator[AuditBackend]:
    prefix = unique_prefix()
    if name == "memory":
        backend = AuditBackend(name, AuditConfig(backend="memory"), persistent=False)
    elif name == "jsonl":
        backend = AuditBackend(
            name, AuditConfig(backend="jsonl", path=str(tmp_path / "audit" / "audit.jsonl")), persistent=True
        )
    elif name == "sqlite":
        backend = AuditBackend(
            name, AuditConfig(backend="sqlite", path=str(tmp_path / "audit.db")), persistent=True
        )
    elif name == "postgres":
        await require_postgres()
        config = AuditConfig(backend="postgres", dsn=SecretStr(PG_DSN), table_prefix=prefix)
        backend = AuditBackend(name, config, persistent=True)
    else:
        raise AssertionError(name)
    try:
        yield backend
    finally:
        for sink in backend.made:
            await sink.close()
        if name == "postgres":
            await drop_postgres_tables(prefix)


async def _replay_backend(name: str, tmp_path: Path) -> AsyncIterator[ReplayBackend]:
    prefix = unique_prefix()
    redis_prefix = f"sealgate-test:{uuid.uuid4().hex}:"
    if name == "memory":
        backend = ReplayBackend(name, ReplayConfig(backend="memory"), shared=False)
    elif name == "sqlite":
        backend = ReplayBackend(
            name, ReplayConfig(backend="sqlite", path=str(tmp_path / "replay.db")), shared=True
        )
    elif name == "redis":
        await require_redis()
        config = ReplayConfig(backend="redis", dsn=SecretStr(REDIS_URL), key_prefix=redis_prefix)
        backend = ReplayBackend(name, config, shared=True)
    elif name == "postgres":
        await require_postgres()
        config = ReplayConfig(backend="postgres", dsn=SecretStr(PG_DSN), table_prefix=prefix)
        backend = ReplayBackend(name, config, shared=True)
    else:
        raise AssertionError(name)
    try:
        yield backend
    finally:
        for cache in backend.made:
            await cache.close()
        if name == "postgres":
            await drop_postgres_tables(prefix)
        if name == "redis":
            await delete_redis_keys(redis_prefix)


@pytest.fixture(params=AUDIT_BACKENDS)
async def audit_backend(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[AuditBackend]:
    """Every audit backend in turn."""
    async for backend in _audit_backend(request.param, tmp_path):
        yield backend


@pytest.fixture(params=PERSISTENT_AUDIT_BACKENDS)
async def persistent_audit_backend(
    request: pytest.FixtureRequest, tmp_path: Path
) -> AsyncIterator[AuditBackend]:
    """The audit backends whose events outlive the sink (and the process)."""
    async for backend in _audit_backend(request.param, tmp_path):
        yield backend


@pytest.fixture
async def audit_sink(audit_backend: AuditBackend) -> AsyncIterator[AuditSink]:
    """An opened sink of each backend (closed afterwards)."""
    sink = audit_backend.make()
    await sink.open()
    yield sink
    await sink.close()


@pytest.fixture(params=REPLAY_BACKENDS)
async def replay_backend(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[ReplayBackend]:
    """Every replay-cache backend in turn."""
    async for backend in _replay_backend(request.param, tmp_path):
        yield backend


@pytest.fixture(params=SHARED_REPLAY_BACKENDS)
async def shared_replay_backend(
    request: pytest.FixtureRequest, tmp_path: Path
) -> AsyncIterator[ReplayBackend]:
    """The replay backends several processes or nodes can share."""
    async for backend in _replay_backend(request.param, tmp_path):
        yield backend


@pytest.fixture
async def replay_cache(replay_backend: ReplayBackend) -> AsyncIterator[ReplayCache]:
    """An opened cache of each backend (closed afterwards)."""
    cache = replay_backend.make()
    await cache.open()
    yield cache
    await cache.close()



@pytest.fixture
async def postgres_replay_backend(tmp_path: Path) -> AsyncIterator[ReplayBackend]:
    """The PostgreSQL replay backend alone (for its specific tests)."""
    async for backend in _replay_backend("postgres", tmp_path):
        yield backend


@pytest.fixture
async def redis_replay_backend(tmp_path: Path) -> AsyncIterator[ReplayBackend]:
    """The Redis replay backend alone (for its specific tests)."""
    async for backend in _replay_backend("redis", tmp_path):
        yield backend
