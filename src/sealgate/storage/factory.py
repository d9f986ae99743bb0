"""Build an audit sink or a replay cache from its config section.

``audit:`` in sealgate.yaml is :class:`AuditConfig`; the tunnel's replay cache is configured by
:class:`ReplayConfig`. Both are frozen and reject unknown keys. The builders return the backend
*unopened*: the server's lifespan calls ``await x.open()`` on start and ``await x.close()`` on
shutdown. DSNs are :class:`pydantic.SecretStr` (they may carry passwords), so printing a
config never shows them.

Example (sealgate.yaml)::

    audit:
      backend: jsonl            # jsonl | sqlite | postgres | memory | stdout | off
      path: /var/log/sealgate/audit.jsonl
      max_bytes: 52428800
      backups: 5
    tunnel:
      replay:
        backend: redis          # memory | sqlite | redis | postgres
        dsn: redis://127.0.0.1:6379/0

and in code::

    sink = build_audit_sink(AuditConfig(backend="sqlite", path="/var/lib/sealgate/sealgate.db"))
    await sink.open()
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, SecretStr, model_validator

from sealgate.storage.base import AuditSink, ReplayCache

__all__ = [
    "DEFAULT_AUDIT_JSONL_PATH",
    "DEFAULT_SQLITE_PATH",
    "AuditConfig",
    "ReplayConfig",
    "build_audit_sink",
    "build_replay_cache",
]

DEFAULT_AUDIT_JSONL_PATH = "sealgate-audit.jsonl"
DEFAULT_SQLITE_PATH = "sealgate.db"

_TABLE_PREFIX_PATTERN = r"^[a-z_][a-z0-9_]{0,40}$"
_POSTGRES_SCHEMES = ("postgresql://", "postgres://")
_REDIS_SCHEMES = ("redis://", "rediss://", "unix://")


def _require_dsn(dsn: SecretStr | None, backend: str, schemes: tuple[str, ...]) -> None:
    if dsn is None:
        raise ValueError(f"backend {backend!r} needs dsn (e.g. {schemes[0]}…)")
    if not dsn.get_secret_value().startswith(schemes):
        # Only the scheme is echoed: the DSN may contain a password.
        raise ValueError(f"backend {backend!r} needs a dsn starting with one of {', '.join(schemes)}")


class AuditConfig(BaseModel):
    """``audit:``: where the audit log (one JSON event per request) is written."""

    # hide_input_in_errors: a validation error would otherwise print the input, DSN and all.
    model_config = ConfigDict(frozen=True, extra="forbid", hide_input_in_errors=True)

    backend: Literal["jsonl", "sqlite", "postgres", "memory", "stdout", "off"] = Field(
        default="jsonl",
        description="jsonl: rotating JSON-lines file; sqlite: table in a local SQLite file; "
        "postgres: table in PostgreSQL (several nodes); memory: last events in RAM (tests, demo); "
        "stdout: JSON lines on standard output (containers); off: discard events.",
    )
    path: str | None = Field(
        default=None,
        description=f"File for jsonl (default {DEFAULT_AUDIT_JSONL_PATH}) or sqlite "
        f"(default {DEFAULT_SQLITE_PATH}); relative paths are relative to the config file. "
        "Keep it on a local disk.",
    )
    max_bytes: int = Field(
        default=50 * 1024 * 1024,
        ge=0,
        description="jsonl: rotate the file before it grows past this many bytes (0: never rotate).",
    )
    backups: int = Field(
        default=5,
        ge=0,
        description="jsonl: rotated files kept as path.1 … path.N, oldest dropped (0: never rotate).",
    )
    dsn: SecretStr | None = Field(
        default=None,
        description="postgres: connection URL, postgresql://user[:password]@host[:port]/database. "
        "Never logged.",
    )
    table_prefix: str = Field(
        default="sealgate_",
        pattern=_TABLE_PREFIX_PATTERN,
        description="sqlite/postgres: prefix of the table name (<prefix>audit_events); lower-case "
        "letters, digits, underscore.",
    )
    flush_interval: float = Field(
        default=0.5,
        gt=0,
        le=60,
        description="Seconds between background flushes of buffered events "
        "(jsonl, sqlite, postgres, stdout).",
    )
    flush_events: int = Field(
        default=500, ge=1, description="Flush at once when this many events are buffered."
    )
    max_buffer_events: int = Field(
        default=100_000,
        ge=1,
        description="Buffered events at which writes wait for a flush, and fail if the backend is down "
        "(bounds memory when storage is slow or unreachable).",
    )
    memory_events: int = Field(
        default=10_000,
        ge=1,
        description="memory: events kept (oldest dropped); stdout: events kept for the admin's recent view.",
    )
    busy_timeout: float = Field(
        default=10.0, gt=0, description="sqlite: seconds to wait for another process's write lock."
    )
    pool_max_size: int = Field(default=4, ge=1, le=100, description="postgres: most connections in the pool.")
    retention_days: float | None = Field(
        default=None,
        gt=0,
        description="sqlite/postgres: delete events older than this many days, checked hourly "
        "(default: keep everything; jsonl rotates by size instead).",
    )

    @model_validator(mode="after")
    def _check_backend(self) -> AuditConfig:
        if self.backend == "postgres":
            _require_dsn(self.dsn, self.backend, _POSTGRES_SCHEMES)
        if self.path is not None and not self.path.strip():
            raise ValueError("path must not be empty (leave it out for the default)")
        if self.flush_events > self.max_buffer_events:
            raise ValueError("flush_events must not exceed max_buffer_events")
        return self


class ReplayConfig(BaseModel):
    """Where one-time tokens (the tunnel's OHTTP ``enc`` values) are remembered.

    Every gateway process that accepts tunnel traffic must share it, or a request replayed to
    another worker or node is accepted: ``memory`` is for one process only, ``sqlite`` covers
    the workers of one host, ``redis`` and ``postgres`` cover several hosts.
    """

    # hide_input_in_errors: a validation error would otherwise print the input, DSN and all.
    model_config = ConfigDict(frozen=True, extra="forbid", hide_input_in_errors=True)

    backend: Literal["memory", "sqlite", "redis", "postgres"] = Field(
        default="sqlite",
        description="memory: this process only; sqlite: every worker on this host (shared file); "
        "redis or postgres: every node.",
    )
    path: str | None = Field(
        default=None,
        description=f"sqlite: database file (default {DEFAULT_SQLITE_PATH}); relative paths are "
        "relative to the config file. Keep it on a local disk.",
    )
    dsn: SecretStr | None = Field(
        default=None,
        description="redis: redis://[:password@]host:port/db (or rediss://, unix://); postgres: "
        "postgresql://user[:password]@host[:port]/database. Never logged.",
    )
    key_prefix: str = Field(
        default="sealgate:replay:", min_length=1, description="redis: prefix of every key this cache sets."
    )
    table_prefix: str = Field(
        default="sealgate_",
        pattern=_TABLE_PREFIX_PATTERN,
        description="sqlite/postgres: prefix of the table name (<prefix>replay_tokens).",
    )
    max_entries: int = Field(
        default=1_000_000,
        ge=1,
        description="memory: most live tokens held; beyond it new tokens are refused (an error), "
        "never forgotten early.",
    )
    prune_interval: float = Field(
        default=30.0, gt=0, description="sqlite/postgres: seconds between deletions of expired tokens."
    )
    busy_timeout: float = Field(
        default=10.0, gt=0, description="sqlite: seconds to wait for another process's write lock."
    )
    pool_max_size: int = Field(
        default=8, ge=1, le=100, description="postgres/redis: most connections in the pool (more requests wait)."
    )

    @model_validator(mode="after")
    def _check_backend(self) -> ReplayConfig:
        if self.backend == "postgres":
            _require_dsn(self.dsn, self.backend, _POSTGRES_SCHEMES)
        elif self.backend == "redis":
            _require_dsn(self.dsn, self.backend, _REDIS_SCHEMES)
        if self.path is not None and not self.path.strip():
            raise ValueError("path must not be empty (leave it out for the default)")
        return self


def _secret(value: SecretStr | None) -> str:
    if value is None:  # the models' validators make this unreachable
        raise ValueError("dsn is required for this backend")
    return value.get_secret_value()


def _seconds(days: float | None) -> float | None:
    return None if days is None else days * 86_400.0


def build_audit_sink(cfg: AuditConfig) -> AuditSink:
    """The audit sink ``cfg`` describes, not yet opened."""
    from sealgate.storage._common import Buffering

    buffering = Buffering(cfg.flush_interval, cfg.flush_events, cfg.max_buffer_events)
    if cfg.backend == "jsonl":
        from sealgate.storage.jsonl import JsonlAuditSink

        return JsonlAuditSink(
            cfg.path or DEFAULT_AUDIT_JSONL_PATH, max_bytes=cfg.max_bytes, backups=cfg.backups, buffering=buffering
        )
    if cfg.backend == "sqlite":
        from sealgate.storage.sqlite import SqliteAuditSink

        return SqliteAuditSink(
            cfg.path or DEFAULT_SQLITE_PATH,
            table_prefix=cfg.table_prefix,
            busy_timeout=cfg.busy_timeout,
            buffering=buffering,
            retention_seconds=_seconds(cfg.retention_days),
        )
    if cfg.backend == "postgres":
        from sealgate.storage.postgres import PostgresAuditSink

        return PostgresAuditSink(
            _secret(cfg.dsn), table_prefix=cfg.table_prefix, pool_max_size=cfg.pool_max_size, buffering=buffering,
            retention_seconds=_seconds(cfg.retention_days),
        )
    if cfg.backend == "stdout":
        from sealgate.storage.jsonl import StdoutAuditSink

        return StdoutAuditSink(recent_capacity=cfg.memory_events, buffering=buffering)
    from sealgate.storage.memory import MemoryAuditSink, NullAuditSink

    if cfg.backend == "memory":
        return MemoryAuditSink(max_events=cfg.memory_events)
    return NullAuditSink()


def build_replay_cache(cfg: ReplayConfig) -> ReplayCache:
    """The replay cache ``cfg`` describes, not yet opened."""
    if cfg.backend == "sqlite":
        from sealgate.storage.sqlite import SqliteReplayCache

        return SqliteReplayCache(
            cfg.path or DEFAULT_SQLITE_PATH,
            table_prefix=cfg.table_prefix,
            busy_timeout=cfg.busy_timeout,
            prune_interval=cfg.prune_interval,
        )
    if cfg.backend == "redis":
        from sealgate.storage.redis import RedisReplayCache

        return RedisReplayCache(_secret(cfg.dsn), key_prefix=cfg.key_prefix, max_connections=cfg.pool_max_size)
    if cfg.backend == "postgres":
        from sealgate.storage.postgres import PostgresReplayCache

        return PostgresReplayCache(
            _secret(cfg.dsn),
            table_prefix=cfg.table_prefix,
            pool_max_size=cfg.pool_max_size,
            prune_interval=cfg.prune_interval,
        )
    from sealgate.storage.memory import MemoryReplayCache

    return MemoryReplayCache(max_entries=cfg.max_entries)
