"""In-process storage backends: for tests, demos and single-process deployments.

- :class:`MemoryAuditSink` keeps the last ``max_events`` audit events (older ones are dropped).
- :class:`NullAuditSink` discards events (``audit.backend: off``).
- :class:`MemoryReplayCache` remembers one-time tokens until their TTL passes. Expired tokens
  are pruned on every insert, and at most ``max_entries`` live tokens are kept: when it is full
  of unexpired tokens, ``add_if_absent`` raises :class:`~sealgate.errors.StorageError` rather
  than forgetting a token early (which would re-open a replay window).

Nothing here is shared between processes: with ``uvicorn --workers N`` each worker has its own
cache, so a token replayed to another worker is not caught. Use ``sqlite`` (one host), ``redis``
or ``postgres`` (several hosts) for that.

Example::

    cache = MemoryReplayCache(max_entries=100_000)
    await cache.open()
    assert await cache.add_if_absent(b"enc", ttl_seconds=60) is True
    assert await cache.add_if_absent(b"enc", ttl_seconds=60) is False
"""

from __future__ import annotations

import heapq
import time
from collections import deque
from collections.abc import Mapping, Sequence
from typing import Any

from sealgate.errors import StorageError
from sealgate.storage._common import EncodedEvent, check_ttl, decode_event, encode_event, sanitize_text

__all__ = ["MemoryAuditSink", "MemoryReplayCache", "NullAuditSink"]


class _Lifecycle:
    """open/close state shared by the in-memory backends."""

    def __init__(self) -> None:
        self._opened = False
        self._closed = False

    def _check_usable(self) -> None:
        if self._closed:
            raise StorageError(f"{type(self).__name__}: it is closed")
        if not self._opened:
            raise StorageError(f"{type(self).__name__}: call open() first")

    async def open(self) -> None:
        """Mark as ready (nothing to create)."""
        if self._closed:
            raise StorageError(f"{type(self).__name__}: cannot reopen; create a new one")
        self._opened = True

    async def close(self) -> None:
        """Mark as closed; further use raises :class:`StorageError`."""
        self._closed = True


class MemoryAuditSink(_Lifecycle):
    """Keeps the newest ``max_events`` events in a ring buffer; nothing survives the process."""

    def __init__(self, max_events: int = 10_000) -> None:
        super().__init__()
        if max_events < 1:
            raise ValueError("max_events must be at least 1")
        self._events: deque[EncodedEvent] = deque(maxlen=max_events)

    async def write(self, event: Mapping[str, Any]) -> None:
        """Store a serialised copy of ``event`` (later changes to the caller's dict don't show)."""
        self._check_usable()
        self._events.append(encode_event(event))

    async def flush(self) -> None:
        """Nothing is buffered; returns at once."""
        self._check_usable()

    async def recent(self, limit: int = 50, request_id: str | None = None) -> Sequence[Mapping[str, Any]]:
        """The newest events first, at most ``limit``, optionally of one request id."""
        self._check_usable()
        if limit <= 0:
            return []
        wanted = sanitize_text(request_id) if request_id is not None else None
        found: list[Mapping[str, Any]] = []
        for item in reversed(self._events):
            if wanted is None or item.request_id == wanted:
                found.append(decode_event(item.line))
                if len(found) >= limit:
                    break
        return found


class NullAuditSink(_Lifecycle):
    """Discards every event (audit logging switched off); ``recent`` is always empty.

    Events are still checked to be JSON serialisable, so switching the log on later cannot
    surface errors that ``off`` hid.
    """

    async def write(self, event: Mapping[str, Any]) -> None:
        """Validate and drop ``event``."""
        self._check_usable()
        encode_event(event)

    async def flush(self) -> None:
        """Nothing to do."""
        self._check_usable()

    async def recent(self, limit: int = 50, request_id: str | None = None) -> Sequence[Mapping[str, Any]]:
        """Always empty."""
        self._check_usable()
        return []


class MemoryReplayCache(_Lifecycle):
    """A dict of token → expiry (monotonic clock) with a heap of expiries for cheap pruning.

    ``add_if_absent`` never awaits, so it is atomic under asyncio without a lock.
    """

    def __init__(self, max_entries: int = 1_000_000) -> None:
        super().__init__()
        if max_entries < 1:
            raise ValueError("max_entries must be at least 1")
        self._max_entries = max_entries
        self._expiry: dict[bytes, float] = {}
        # (expires_at, token); may hold stale pairs for tokens re-added after expiring,
        # recognised because the dict then holds a different expiry.
        self._heap: list[tuple[float, bytes]] = []

    def __len__(self) -> int:
        """Number of tokens held (expired ones not yet pruned included)."""
        return len(self._expiry)

    def _prune(self, now: float) -> None:
        heap = self._heap
        while heap and heap[0][0] <= now:
            expires_at, token = heapq.heappop(heap)
            if self._expiry.get(token) == expires_at:
                del self._expiry[token]

    async def add_if_absent(self, token: bytes, ttl_seconds: float) -> bool:
        """True if ``token`` is new (now remembered for ``ttl_seconds``), False if seen and live."""
        self._check_usable()
        check_ttl(ttl_seconds)
        token = bytes(token)
        now = time.monotonic()
        self._prune(now)
        current = self._expiry.get(token)
        if current is not None and current > now:
            return False
        if current is None and len(self._expiry) >= self._max_entries:
            raise StorageError(
                f"MemoryReplayCache: {self._max_entries} live tokens, refusing to forget one early; "
                "raise max_entries or lower the TTL"
            )
        expires_at = now + ttl_seconds
        self._expiry[token] = expires_at
        heapq.heappush(self._heap, (expires_at, token))
        return True

    async def close(self) -> None:
        """Forget every token."""
        await super().close()
        self._expiry.clear()
        self._heap.clear()
