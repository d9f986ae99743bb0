"""The config models and builders in ``sealgate.storage.factory``."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from pydantic import BaseModel, SecretStr, ValidationError

from sealgate.storage.base import AuditSink, ReplayCache
from sealgate.storage.factory import AuditConfig, ReplayConfig, build_audit_sink, build_replay_cache
from sealgate.storage.jsonl import JsonlAuditSink, StdoutAuditSink
from sealgate.storage.memory import MemoryAuditSink, MemoryReplayCache, NullAuditSink
from sealgate.storage.postgres import PostgresAuditSink, PostgresReplayCache
from sealgate.storage.redis import RedisReplayCache
from sealgate.storage.sqlite import SqliteAuditSink, SqliteReplayCache
from tests.support.secrets import PLANTED_SECRETS

SECRET = PLANTED_SECRETS[3]  # also caught by the suite-wide log scan (tests/conftest.py)


@pytest.mark.parametrize("model", [AuditConfig, ReplayConfig])
def test_every_field_is_described_and_defaulted(model: type[BaseModel]) -> None:
    model()  # every field has a default
    for name, info in model.model_fields.items():
        assert info.description and len(info.description) > 10, name
        assert not info.is_required(), name


@pytest.mark.parametrize("model", [AuditConfig, ReplayConfig])
def test_models_are_frozen_and_strict(model: type[BaseModel]) -> None:
    cfg = model()
    with pytest.raises(ValidationError):
        cfg.backend = "memory"  # type: ignore[attr-defined]
    with pytest.raises(ValidationError, match="backnd"):
        model.model_validate({"backnd": "memory"})
    with pytest.raises(ValidationError):
        model.model_validate({"backend": "mongodb"})


def test_defaults() -> None:
    audit = AuditConfig()
    assert (audit.backend, audit.path, audit.max_bytes, audit.backups) == ("jsonl", None, 50 * 1024 * 1024, 5)
    replay = ReplayConfig()
    assert replay.backend == "sqlite"  # shared by every worker of a host; memory is not


@pytest.mark.parametrize(
    ("model", "data"),
    [
        (AuditConfig, {"backend": "postgres"}),
        (AuditConfig, {"backend": "postgres", "dsn": f"mysql://u:{SECRET}@h/db"}),
        (ReplayConfig, {"backend": "postgres", "dsn": f"redis://:{SECRET}@h"}),
        (ReplayConfig, {"backend": "redis"}),
        (ReplayConfig, {"backend": "redis", "dsn": f"postgresql://u:{SECRET}@h/db"}),
    ],
)
def test_network_backends_need_a_matching_dsn_and_errors_hide_it(
    model: type[BaseModel], data: dict[str, Any]
) -> None:
    with pytest.raises(ValidationError, match="dsn") as info:
        model.model_validate(data)
    assert SECRET not in str(info.value)


def test_dsn_is_never_shown() -> None:
    cfg = AuditConfig(backend="postgres", dsn=SecretStr(f"postgresql://u:{SECRET}@127.0.0.1/db"))
    assert SECRET not in repr(cfg)
    assert SECRET not in str(cfg.model_dump())
    assert SECRET not in cfg.model_dump_json()


@pytest.mark.parametrize(
    "prefix", ["x; DROP TABLE users; --", "a b", 'q"uote', "Upper_", "1abc", "", "é_", "a" * 60]
)
def test_table_prefix_is_a_plain_identifier(prefix: str) -> None:
    with pytest.raises(ValidationError, match="table_prefix"):
        AuditConfig(backend="sqlite", table_prefix=prefix)
    with pytest.raises(ValidationError, match="table_prefix"):
        ReplayConfig(backend="sqlite", table_prefix=prefix)
    with pytest.raises(ValueError, match="table_prefix"):
        SqliteAuditSink("x.db", table_prefix=prefix)
    with pytest.raises(ValueError, match="table_prefix"):
        PostgresReplayCache("postgresql://h/db", table_prefix=prefix)


def test_benign_prefixes_are_accepted() -> None:
    for prefix in ["sealgate_", "gw2_", "_x", "a"]:
        assert AuditConfig(backend="sqlite", table_prefix=prefix).table_prefix == prefix


def test_empty_path_and_inconsistent_buffering_are_refused() -> None:
    with pytest.raises(ValidationError, match="path"):
        AuditConfig(backend="jsonl", path="  ")
    with pytest.raises(ValidationError, match="flush_events"):
        AuditConfig(flush_events=10, max_buffer_events=5)


def test_build_audit_sink_picks_the_backend(tmp_path: Path) -> None:
    dsn = SecretStr("postgresql://postgres@127.0.0.1/test")
    cases: list[tuple[AuditConfig, type]] = [
        (AuditConfig(path=str(tmp_path / "a.jsonl")), JsonlAuditSink),
        (AuditConfig(backend="sqlite", path=str(tmp_path / "a.db")), SqliteAuditSink),
        (AuditConfig(backend="postgres", dsn=dsn), PostgresAuditSink),
        (AuditConfig(backend="memory"), MemoryAuditSink),
        (AuditConfig(backend="stdout"), StdoutAuditSink),
        (AuditConfig(backend="off"), NullAuditSink),
    ]
    for cfg, cls in cases:
        sink = build_audit_sink(cfg)
        assert type(sink) is cls
        assert isinstance(sink, AuditSink)
    jsonl = build_audit_sink(AuditConfig(path=str(tmp_path / "b.jsonl"), max_bytes=123, backups=7))
    assert isinstance(jsonl, JsonlAuditSink)
    assert (jsonl.path, jsonl.max_bytes, jsonl.backups) == (tmp_path / "b.jsonl", 123, 7)
    default_jsonl = build_audit_sink(AuditConfig())
    assert isinstance(default_jsonl, JsonlAuditSink) and default_jsonl.path == Path("sealgate-audit.jsonl")
    default_sqlite = build_audit_sink(AuditConfig(backend="sqlite"))
    assert isinstance(default_sqlite, SqliteAuditSink) and default_sqlite.path == Path("sealgate.db")


def test_build_replay_cache_picks_the_backend(tmp_path: Path) -> None:
    cases: list[tuple[ReplayConfig, type]] = [
        (ReplayConfig(path=str(tmp_path / "r.db")), SqliteReplayCache),
        (ReplayConfig(backend="memory"), MemoryReplayCache),
        (ReplayConfig(backend="redis", dsn=SecretStr("redis://127.0.0.1:6379/0")), RedisReplayCache),
        (ReplayConfig(backend="postgres", dsn=SecretStr("postgresql://postgres@127.0.0.1/test")),
         PostgresReplayCache),
    ]
    for cfg, cls in cases:
        cache = build_replay_cache(cfg)
        assert type(cache) is cls
        assert isinstance(cache, ReplayCache)
    redis_cache = build_replay_cache(
        ReplayConfig(backend="redis", dsn=SecretStr("redis://127.0.0.1:6379/0"), key_prefix="gw:")
    )
    assert isinstance(redis_cache, RedisReplayCache) and redis_cache.key_prefix == b"gw:"


async def test_off_sink_discards_but_still_checks_events() -> None:
    sink = build_audit_sink(AuditConfig(backend="off"))
    await sink.open()
    await sink.write({"request_id": "r"})
    assert await sink.recent(request_id="r") == []
    with pytest.raises(TypeError):
        await sink.write({"x": object()})
    await sink.close()
