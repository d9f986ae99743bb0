"""Storage seams. Every backend implements these Protocols and passes ``tests/contracts/``.

Backends: ``memory`` (tests, single process), ``sqlite`` (the embedded default), ``postgres``
(several nodes), ``redis`` (where a seam suits it: counters, replay cache). Later issues add
``KeyStore`` and ``CounterStore`` here and to the same contract suite.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, Protocol, runtime_checkable

__all__ = ["AuditSink", "ReplayCache"]


@runtime_checkable
class AuditSink(Protocol):
    """Where audit events go: one JSON-serialisable mapping per request.

    ``write`` must not block the request path: implementations buffer and flush in the
    background (or on ``flush``). Events are already redacted when they arrive here.
    """

    async def open(self) -> None:
        """Create files, tables or connections. Called once before the first write."""
        ...

    async def write(self, event: Mapping[str, Any]) -> None:
        """Queue one event; must return quickly."""
        ...

    async def flush(self) -> None:
        """Persist every queued event before returning."""
        ...

    async def recent(self, limit: int = 50, request_id: str | None = None) -> Sequence[Mapping[str, Any]]:
        """The newest events first (at most ``limit``), optionally only those of one request id."""
        ...

    async def close(self) -> None:
        """Flush and release resources. Further writes are errors."""
        ...


@runtime_checkable
class ReplayCache(Protocol):
    """Remembers one-time tokens (e.g. an OHTTP request's ``enc``) for a time window."""

    async def open(self) -> None:
        """Connect or create what the backend needs."""
        ...

    async def add_if_absent(self, token: bytes, ttl_seconds: float) -> bool:
        """Remember ``token`` for ``ttl_seconds``; True if it was new, False if already seen."""
        ...

    async def close(self) -> None:
        """Release resources."""
        ...
