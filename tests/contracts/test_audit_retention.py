"""Audit retention in the SQLite and PostgreSQL sinks: old events go, recent ones stay.

Events are backdated with plain SQL (the sinks stamp ``created_at`` themselves), then
``prune`` — or the next ``open`` — must delete exactly those past the retention.
"""

from __future__ import annotations

import sqlite3
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path

import asyncpg
import pytest
from pydantic import SecretStr, ValidationError

from sealgate.storage.base import AuditSink
from sealgate.storage.factory import AuditConfig, build_audit_sink
from tests.contracts.storage_contract_helpers import PG_DSN, drop_postgres_tables, require_postgres, unique_prefix

HOUR = 3600.0
Backdate = Callable[[list[str], float], Awaitable[None]]


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
async def backend(
    request: pytest.FixtureRequest, tmp_path: Path
) -> AsyncIterator[tuple[Callable[[float | None], AuditSink], Backdate]]:
    """A factory of sinks on one table (with a given retention, in days) and a way to age rows."""
    prefix = unique_prefix()
    made: list[AuditSink] = []
    if request.param == "sqlite":
        path = tmp_path / "audit.db"

        def config(days: float | None) -> AuditConfig:
            return AuditConfig(backend="sqlite", path=str(path), table_prefix=prefix, retention_days=days)

        async def backdate(request_ids: list[str], seconds: float) -> None:
            with sqlite3.connect(path) as conn:
                conn.executemany(
                    f"UPDATE {prefix}audit_events SET created_at = created_at - ? WHERE request_id = ?",
                    [(seconds, rid) for rid in request_ids],
                )
    else:
        await require_postgres()

        def config(days: float | None) -> AuditConfig:
            return AuditConfig(backend="postgres", dsn=SecretStr(PG_DSN), table_prefix=prefix, retention_days=days)

        async def backdate(request_ids: list[str], seconds: float) -> None:
            conn = await asyncpg.connect(PG_DSN)
            try:
                await conn.execute(
                    f"UPDATE {prefix}audit_events SET created_at = created_at - make_interval(secs => $1) "
                    "WHERE request_id = ANY($2)",
                    seconds, request_ids,
                )
            finally:
                await conn.close()

    def make(days: float | None) -> AuditSink:
        sink = build_audit_sink(config(days))
        made.append(sink)
        return sink

    try:
        yield make, backdate
    finally:
        for sink in made:
            await sink.close()
        if request.param == "postgres":
            await drop_postgres_tables(prefix)


async def _ids(sink: AuditSink) -> set[str]:
    return {str(event["request_id"]) for event in await sink.recent(100)}


async def test_prune_deletes_only_events_past_the_retention(
    backend: tuple[Callable[[float | None], AuditSink], Backdate],
) -> None:
    make, backdate = backend
    sink = make(1.0)  # one day
    await sink.open()
    for rid in ("old-1", "old-2", "fresh"):
        await sink.write({"request_id": rid})
    await sink.flush()
    await backdate(["old-1", "old-2"], 25 * HOUR)
    await backdate(["fresh"], 23 * HOUR)  # inside the day: kept
    assert await sink.prune() == 2  # type: ignore[attr-defined]
    assert await _ids(sink) == {"fresh"}


async def test_opening_prunes_what_expired_while_the_gateway_was_down(
    backend: tuple[Callable[[float | None], AuditSink], Backdate],
) -> None:
    make, backdate = backend
    first = make(None)
    await first.open()
    for rid in ("ancient", "recent"):
        await first.write({"request_id": rid})
    await first.close()
    await backdate(["ancient"], 3 * 24 * HOUR)
    second = make(2.0)
    await second.open()
    assert await _ids(second) == {"recent"}


async def test_without_retention_nothing_is_deleted(
    backend: tuple[Callable[[float | None], AuditSink], Backdate],
) -> None:
    make, backdate = backend
    sink = make(None)
    await sink.open()
    await sink.write({"request_id": "kept"})
    await sink.flush()
    await backdate(["kept"], 10 * 365 * 24 * HOUR)
    assert await sink.prune() == 0  # type: ignore[attr-defined]
    assert await _ids(sink) == {"kept"}


@pytest.mark.parametrize("days", [0, -1, float("inf")])
def test_retention_must_be_positive_and_finite(days: float) -> None:
    with pytest.raises((ValidationError, ValueError)):
        build_audit_sink(AuditConfig(backend="sqlite", path="x.db", retention_days=days))
