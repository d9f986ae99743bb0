"""Shared by the storage backends: event encoding, the background-flushed audit buffer, TTL checks.

Every audit backend encodes an event with :func:`encode_event` inside ``write`` (so a bad event
fails at the caller, not later in a background batch, and later mutations of the caller's dict
do not change what is logged) and decodes it with :func:`decode_event` in ``recent``.

:class:`BufferedAuditSink` is the base of the file and database sinks: ``write`` appends to an
in-memory list; a background task persists the list as its :class:`Buffering` says, and always
on ``flush``/``close``. Subclasses implement ``_open_backend``, ``_persist``,
``_recent_persisted`` and ``_close_backend``.

:class:`Pruner` runs a backend's ``prune`` (delete expired rows) in the background, for the
replay caches whose database does not expire rows by itself.

Example::

    class PrintSink(BufferedAuditSink):
        async def _persist(self, batch: list[EncodedEvent]) -> None:
            for item in batch:
                print(item.line.decode())
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import math
import re
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, cast

import orjson

from sealgate.errors import StorageError

__all__ = [
    "REQUEST_ID_KEY",
    "RETENTION_CHECK_SECONDS",
    "BufferedAuditSink",
    "Buffering",
    "EncodedEvent",
    "Pruner",
    "check_retention",
    "check_ttl",
    "decode_event",
    "encode_event",
    "request_id_of",
    "sanitize_text",
]

RETENTION_CHECK_SECONDS = 3600.0
"""How often the SQLite and PostgreSQL audit sinks delete events past their retention."""

REQUEST_ID_KEY = "request_id"
"""The event key ``recent(request_id=...)`` filters on (set by ``observability/logging.py``)."""

log = logging.getLogger("sealgate.storage")

_SURROGATE = re.compile("[\ud800-\udfff]")


def sanitize_text(text: str) -> str:
    """``text`` with lone UTF-16 surrogates replaced by U+FFFD, so it can be encoded as UTF-8.

    ``json.loads('"\\ud800"')`` yields such strings, so an attacker's JSON body can put them in a
    finding excerpt; refusing the event would let them suppress their own audit record.
    """
    return _SURROGATE.sub("\ufffd", text)


def _sanitize(value: Any) -> Any:
    if isinstance(value, str):
        return sanitize_text(value)
    if isinstance(value, Mapping):
        return {sanitize_text(k) if isinstance(k, str) else k: _sanitize(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_sanitize(v) for v in value]
    return value


@dataclass(frozen=True, slots=True)
class EncodedEvent:
    """One event as stored: its JSON line (with the trailing newline) and its request id."""

    line: bytes
    request_id: str | None


def encode_event(event: Mapping[str, Any]) -> EncodedEvent:
    """Serialise ``event`` with orjson; raise ``TypeError`` if it is not JSON serialisable.

    Strings with lone surrogates are repaired (U+FFFD) instead of rejected. Keys must be strings.
    """
    if not isinstance(event, Mapping):
        raise TypeError(f"an audit event must be a mapping, not {type(event).__name__}")
    try:
        line = orjson.dumps(event, option=orjson.OPT_APPEND_NEWLINE)
    except TypeError as first:
        # Slow path only for odd input: retry once with surrogates repaired.
        event = cast(Mapping[str, Any], _sanitize(event))
        try:
            line = orjson.dumps(event, option=orjson.OPT_APPEND_NEWLINE)
        except TypeError as exc:
            raise TypeError(f"audit event is not JSON serialisable: {exc}") from first
    # orjson hands back a bytes object carved from a large initial buffer; keeping thousands of
    # them queued makes every later dumps() slow (measured: 2 µs → 35 µs per event). A compact
    # copy lets the big buffer be reused at once.
    return EncodedEvent(memoryview(line).tobytes(), request_id_of(event))


def decode_event(data: bytes | str) -> dict[str, Any]:
    """The event stored as ``data`` (one JSON object)."""
    value = orjson.loads(data)
    if not isinstance(value, dict):
        raise ValueError("stored audit event is not a JSON object")
    return cast(dict[str, Any], value)


def request_id_of(event: Mapping[str, Any]) -> str | None:
    """The event's request id when it is a string (the only kind ``recent`` can filter on)."""
    value = event.get(REQUEST_ID_KEY)
    return sanitize_text(value) if isinstance(value, str) else None


def check_retention(retention_seconds: float | None) -> None:
    """Raise ``ValueError`` unless ``retention_seconds`` is ``None`` (keep all) or positive and finite."""
    if retention_seconds is not None and not (math.isfinite(retention_seconds) and retention_seconds > 0):
        raise ValueError(f"retention_seconds must be positive, got {retention_seconds!r}")


def check_ttl(ttl_seconds: float) -> None:
    """Raise ``ValueError`` unless ``ttl_seconds`` is a positive finite number."""
    if not (isinstance(ttl_seconds, int | float) and math.isfinite(ttl_seconds) and ttl_seconds > 0):
        raise ValueError(f"ttl_seconds must be a positive finite number, got {ttl_seconds!r}")


@dataclass(frozen=True)
class Buffering:
    """When a :class:`BufferedAuditSink` persists its queued events.

    ``flush_interval``: seconds between background flushes. ``flush_events``: a flush starts as
    soon as this many events wait. ``max_buffer_events``: when this many events wait (the backend
    is slow or down), ``write`` flushes inline and raises :class:`StorageError` if that fails,
    so memory stays bounded and the caller learns that events are not being stored.
    """

    flush_interval: float = 0.5
    flush_events: int = 500
    max_buffer_events: int = 100_000

    def __post_init__(self) -> None:
        if self.flush_interval <= 0:
            raise ValueError("flush_interval must be positive")
        if self.flush_events < 1 or self.max_buffer_events < self.flush_events:
            raise ValueError("need 1 <= flush_events <= max_buffer_events")


DEFAULT_BUFFERING = Buffering()


class BufferedAuditSink:
    """Base of the audit sinks that batch writes; see the module docstring and :class:`Buffering`."""

    def __init__(self, buffering: Buffering = DEFAULT_BUFFERING) -> None:
        self._flush_interval = buffering.flush_interval
        self._flush_events = buffering.flush_events
        self._max_buffer_events = buffering.max_buffer_events
        self._buffer: list[EncodedEvent] = []
        self._flush_lock = asyncio.Lock()
        self._wake = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        self._opened = False
        self._closed = False

    # -- what subclasses provide -------------------------------------------------------------

    def _describe(self) -> str:
        """A short name for error messages (no secrets)."""
        return type(self).__name__

    async def _open_backend(self) -> None:
        """Create files, tables or connections."""

    async def _persist(self, batch: list[EncodedEvent]) -> None:
        """Store ``batch`` (oldest first) durably enough to survive this process; all or nothing."""
        raise NotImplementedError  # sealgate: allow abstract hook: every backend implements it

    async def _recent_persisted(self, limit: int, request_id: str | None) -> list[dict[str, Any]]:
        """The newest persisted events first, at most ``limit``, optionally of one request id."""
        raise NotImplementedError  # sealgate: allow abstract hook: every backend implements it

    async def _close_backend(self) -> None:
        """Release what ``_open_backend`` created (after the final flush)."""

    # -- the AuditSink protocol --------------------------------------------------------------

    async def open(self) -> None:
        """Open the backend and start the background flusher."""
        if self._closed:
            raise StorageError(f"{self._describe()}: cannot reopen a closed sink; create a new one")
        if self._opened:
            return
        await self._open_backend()
        self._opened = True
        self._task = asyncio.create_task(self._flush_loop(), name=f"{self._describe()} flusher")

    async def write(self, event: Mapping[str, Any]) -> None:
        """Encode and queue ``event``; persisting happens in the background."""
        self._check_usable()
        encoded = encode_event(event)
        if len(self._buffer) >= self._max_buffer_events:
            # Backpressure: the backend is not keeping up (or is down).
            await self.flush()
        self._buffer.append(encoded)
        if len(self._buffer) >= self._flush_events:
            self._wake.set()

    async def flush(self) -> None:
        """Persist every queued event; raise :class:`StorageError` (events stay queued) on failure."""
        task = asyncio.ensure_future(self._flush_locked())
        try:
            # Shielded: if our caller is cancelled (a client went away during a backpressure
            # flush), the batch still finishes, instead of being re-queued while the thread that
            # writes it keeps going, which would store it twice.
            await asyncio.shield(task)
        except asyncio.CancelledError:
            task.add_done_callback(_retrieve)
            raise

    async def _flush_locked(self) -> None:
        async with self._flush_lock:
            while self._buffer:
                batch, self._buffer = self._buffer, []
                try:
                    await self._persist(batch)
                except BaseException as exc:
                    # Put the batch back in front of anything written meanwhile: order is kept
                    # and a later flush retries it.
                    self._buffer[:0] = batch
                    if not isinstance(exc, Exception):
                        raise
                    cause = str(exc) if isinstance(exc, StorageError) else f"{type(exc).__name__}: {exc}"
                    raise StorageError(
                        f"{self._describe()}: could not store {len(batch)} audit events "
                        f"(they stay queued): {cause}"
                    ) from exc

    async def recent(self, limit: int = 50, request_id: str | None = None) -> Sequence[Mapping[str, Any]]:
        """The newest events first (after flushing what this sink queued)."""
        self._check_usable()
        if limit <= 0:
            return []
        await self.flush()
        wanted = sanitize_text(request_id) if request_id is not None else None
        return await self._recent_persisted(limit, wanted)

    async def close(self) -> None:
        """Stop the flusher, persist everything queued, release the backend. Idempotent."""
        if self._closed:
            return
        self._closed = True
        if not self._opened:
            return
        task, self._task = self._task, None
        if task is not None:
            # Not cancelled: cancelling a flush mid-way could write its batch twice.
            self._wake.set()
            await task
        try:
            await self.flush()
        finally:
            await self._close_backend()

    # -- internals ---------------------------------------------------------------------------

    def _check_usable(self) -> None:
        if self._closed:
            raise StorageError(f"{self._describe()}: the sink is closed")
        if not self._opened:
            raise StorageError(f"{self._describe()}: call open() first")

    async def _flush_loop(self) -> None:
        while not self._closed:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), timeout=self._flush_interval)
            self._wake.clear()
            if self._closed:
                return  # close() does the final flush itself
            try:
                await self.flush()
            except Exception as exc:
                # Events stay queued; retry on the next tick. The type and message name the
                # backend problem, never event contents.
                log.warning("%s: background flush failed, will retry: %s", self._describe(), exc)


class Pruner:
    """Calls ``prune`` every ``interval`` seconds in a background task until :meth:`stop`.

    A failed round is logged (by exception type and ``describe``, never with row contents) and
    retried on the next tick: a database that is briefly down must not end the pruning for good.
    """

    def __init__(self, prune: Callable[[], Awaitable[int]], interval: float, describe: str) -> None:
        if interval <= 0:
            raise ValueError("prune_interval must be positive")
        self._prune = prune
        self._interval = interval
        self._describe = describe
        self._task: asyncio.Task[None] | None = None

    def start(self) -> None:
        """Start the background task (call from a running event loop)."""
        if self._task is None:
            self._task = asyncio.create_task(self._loop(), name=f"{self._describe} pruner")

    async def stop(self) -> None:
        """Cancel the background task and wait for it. Idempotent."""
        task, self._task = self._task, None
        if task is not None:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task

    async def _loop(self) -> None:
        while True:
            await asyncio.sleep(self._interval)
            try:
                await self._prune()
            except Exception as exc:
                log.warning("%s: pruning failed, will retry: %s", self._describe, type(exc).__name__)


def _retrieve(task: asyncio.Future[None]) -> None:
    """Consume a detached flush's outcome so asyncio does not report it as never retrieved."""
    if not task.cancelled() and task.exception() is not None:
        log.warning("audit flush failed after its caller was cancelled; events stay queued")
