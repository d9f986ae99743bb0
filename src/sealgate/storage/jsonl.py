"""Audit events as JSON lines: a rotating file (:class:`JsonlAuditSink`) or stdout (:class:`StdoutAuditSink`).

**File sink.** One JSON object per line, UTF-8, appended to ``path``. When appending would grow
the file past ``max_bytes``, it is rotated like :class:`logging.handlers.RotatingFileHandler`:
``path.N-1`` → ``path.N`` … ``path`` → ``path.1`` (the oldest, ``path.<backups>``, is dropped).
``max_bytes=0`` or ``backups=0`` turns rotation off (the file grows without bound). A single
event larger than ``max_bytes`` is still written, alone in a fresh file.

Writes are buffered in memory and written by a background task every ``flush_interval``
seconds (or when ``flush_events`` are waiting, or on ``flush``/``close``) in a worker thread, so
the event loop never waits on the disk. ``close`` writes everything and fsyncs the file.

**Several processes** (``uvicorn --workers N``) may share one ``path``: the file is opened with
``O_APPEND`` and lines are written whole (a batch is written with as few ``write()`` calls as
possible, each holding only complete lines), so lines never interleave. Rotation and writing
take an exclusive ``fcntl.flock`` on ``path + ".lock"``; a process whose file was rotated away
by another notices (inode changed) and reopens ``path``. Without ``fcntl`` (Windows) only one
process may use a path. Network filesystems (NFS) do not honour ``O_APPEND`` or ``flock``
reliably: keep the file on a local disk. New files are created with mode 0600.

``recent`` reads the files backwards (newest file first) under a shared lock; filtering by
request id scans at most ``(backups + 1) * max_bytes`` bytes.

**Stdout sink.** The same lines on standard output for container log collectors (``audit.backend:
stdout``), one ``write()`` per line so lines up to ``PIPE_BUF`` (4 KiB) stay whole even when
workers share a pipe. ``recent`` answers from the last ``recent_capacity`` events of this process.

Example::

    sink = JsonlAuditSink("/var/log/sealgate/audit.jsonl", max_bytes=50 << 20, backups=5)
    await sink.open()
    await sink.write({"request_id": "r1", "verdict": "allow"})
    await sink.close()      # flushed and fsynced
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import sys
from collections import deque
from collections.abc import Iterator
from pathlib import Path
from typing import IO, Any

from sealgate.errors import StorageError
from sealgate.storage._common import DEFAULT_BUFFERING, BufferedAuditSink, Buffering, EncodedEvent, decode_event

if sys.platform != "win32":
    import fcntl

__all__ = ["JsonlAuditSink", "StdoutAuditSink"]

_CHUNK_BYTES = 1 << 20
"""Upper bound of one write() when flushing a batch (keeps memory of the joined chunk small)."""

_READ_BLOCK = 1 << 16


class JsonlAuditSink(BufferedAuditSink):
    """A JSON-lines audit log with size-based rotation; see the module docstring."""

    def __init__(
        self,
        path: str | os.PathLike[str],
        *,
        max_bytes: int = 50 * 1024 * 1024,
        backups: int = 5,
        buffering: Buffering = DEFAULT_BUFFERING,
    ) -> None:
        super().__init__(buffering)
        if max_bytes < 0 or backups < 0:
            raise ValueError("max_bytes and backups must not be negative")
        self.path = Path(path)
        self.max_bytes = max_bytes
        self.backups = backups
        self._lock_path = Path(f"{self.path}.lock")
        self._fd: int | None = None
        self._lock_fd: int | None = None

    def _describe(self) -> str:
        return f"JsonlAuditSink({self.path})"

    @property
    def _rotates(self) -> bool:
        return self.max_bytes > 0 and self.backups > 0

    # -- backend hooks (blocking parts run in a worker thread) -------------------------------

    async def _open_backend(self) -> None:
        try:
            await asyncio.to_thread(self._open_files)
        except OSError as exc:
            with contextlib.suppress(OSError):
                self._close_files()
            raise StorageError(f"{self._describe()}: cannot open: {exc.strerror or exc}") from exc

    def _open_files(self) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._lock_fd = os.open(self._lock_path, os.O_RDWR | os.O_CREAT, 0o600)
        with self._locked(exclusive=True):
            self._fd = fd = self._open_log()
            size = os.fstat(fd).st_size
            # Writers hold the lock, so a file not ending in a newline was left by a crash
            # mid-write: end that torn line, or our first event would be glued onto it.
            if size and os.pread(fd, 1, size - 1) != b"\n":
                _write_all(fd, b"\n")

    def _open_log(self) -> int:
        return os.open(self.path, os.O_RDWR | os.O_APPEND | os.O_CREAT, 0o600)

    async def _persist(self, batch: list[EncodedEvent]) -> None:
        await asyncio.to_thread(self._write_batch, [item.line for item in batch])

    async def _recent_persisted(self, limit: int, request_id: str | None) -> list[dict[str, Any]]:
        return await asyncio.to_thread(self._read_recent, limit, request_id)

    async def _close_backend(self) -> None:
        await asyncio.to_thread(self._close_files)

    def _close_files(self) -> None:
        fd, self._fd = self._fd, None
        lock_fd, self._lock_fd = self._lock_fd, None
        try:
            if fd is not None:
                os.fsync(fd)
        finally:
            if fd is not None:
                os.close(fd)
            if lock_fd is not None:
                os.close(lock_fd)

    # -- writing ------------------------------------------------------------------------------

    @contextlib.contextmanager
    def _locked(self, exclusive: bool) -> Iterator[None]:
        """Hold the cross-process lock on ``path.lock`` (no-op where fcntl is missing)."""
        if sys.platform == "win32" or self._lock_fd is None:
            yield
            return
        fcntl.flock(self._lock_fd, fcntl.LOCK_EX if exclusive else fcntl.LOCK_SH)
        try:
            yield
        finally:
            fcntl.flock(self._lock_fd, fcntl.LOCK_UN)

    def _current_fd(self) -> int:
        """Our descriptor for ``path``, reopened if another process rotated the file away."""
        fd = self._fd
        if fd is None:
            raise StorageError(f"{self._describe()}: not open")
        try:
            on_disk = os.stat(self.path)
        except FileNotFoundError:
            on_disk = None
        mine = os.fstat(fd)
        if on_disk is None or (on_disk.st_ino, on_disk.st_dev) != (mine.st_ino, mine.st_dev):
            os.close(fd)
            self._fd = fd = self._open_log()
        return fd

    def _write_batch(self, lines: list[bytes]) -> None:
        with self._locked(exclusive=True):
            fd = self._current_fd()
            size = os.fstat(fd).st_size
            chunk: list[bytes] = []
            chunk_len = 0
            for line in lines:
                if self._rotates and size + chunk_len + len(line) > self.max_bytes and size + chunk_len > 0:
                    _write_all(fd, b"".join(chunk))
                    chunk, chunk_len = [], 0
                    fd = self._rotate()
                    size = 0
                chunk.append(line)
                chunk_len += len(line)
                if chunk_len >= _CHUNK_BYTES:
                    _write_all(fd, b"".join(chunk))
                    size += chunk_len
                    chunk, chunk_len = [], 0
            if chunk:
                _write_all(fd, b"".join(chunk))

    def _rotate(self) -> int:
        """Shift ``path`` → ``path.1`` → … → ``path.<backups>``; return the fresh file's fd."""
        if self._fd is not None:
            os.close(self._fd)
            self._fd = None
        for index in range(self.backups - 1, 0, -1):
            source = self._backup(index)
            if source.exists():
                os.replace(source, self._backup(index + 1))
        if self.path.exists():
            os.replace(self.path, self._backup(1))
        self._fd = self._open_log()
        return self._fd

    def _backup(self, index: int) -> Path:
        return Path(f"{self.path}.{index}")

    # -- reading ------------------------------------------------------------------------------

    def _read_recent(self, limit: int, request_id: str | None) -> list[dict[str, Any]]:
        found: list[dict[str, Any]] = []
        files = [self.path] + [self._backup(i) for i in range(1, self.backups + 1)]
        with self._locked(exclusive=False):
            for file in files:
                try:
                    handle = open(file, "rb")  # noqa: SIM115 - closed by the with below
                except FileNotFoundError:
                    continue
                with handle:
                    for line in _lines_backwards(handle):
                        try:
                            event = decode_event(line)
                        except ValueError:
                            continue  # a torn last line after a crash; skip it
                        if request_id is not None and event.get("request_id") != request_id:
                            continue
                        found.append(event)
                        if len(found) >= limit:
                            return found
        return found


class StdoutAuditSink(BufferedAuditSink):
    """JSON lines on standard output (or ``stream``); see the module docstring."""

    def __init__(
        self,
        stream: IO[bytes] | None = None,
        *,
        recent_capacity: int = 1000,
        buffering: Buffering = DEFAULT_BUFFERING,
    ) -> None:
        super().__init__(buffering)
        if recent_capacity < 0:
            raise ValueError("recent_capacity must not be negative")
        self._stream = stream
        self._recent: deque[EncodedEvent] = deque(maxlen=recent_capacity)

    def _describe(self) -> str:
        return "StdoutAuditSink"

    async def _persist(self, batch: list[EncodedEvent]) -> None:
        await asyncio.to_thread(self._write_lines, batch)
        self._recent.extend(batch)

    def _write_lines(self, batch: list[EncodedEvent]) -> None:
        stream = self._stream if self._stream is not None else sys.stdout.buffer
        try:
            fd: int | None = stream.fileno()
        except (AttributeError, OSError, ValueError):
            fd = None  # an in-memory stream (tests, captured output)
        if fd is None:
            stream.write(b"".join(item.line for item in batch))
            stream.flush()
            return
        stream.flush()  # anything written through the Python buffer goes first
        for item in batch:
            _write_all(fd, item.line)

    async def _recent_persisted(self, limit: int, request_id: str | None) -> list[dict[str, Any]]:
        found: list[dict[str, Any]] = []
        for item in reversed(self._recent):
            if request_id is None or item.request_id == request_id:
                found.append(decode_event(item.line))
                if len(found) >= limit:
                    break
        return found


def _write_all(fd: int, data: bytes) -> None:
    """write() until every byte is out (a regular file takes all at once unless the disk is full)."""
    view = memoryview(data)
    while view:
        written = os.write(fd, view)
        view = view[written:]


def _lines_backwards(handle: IO[bytes]) -> Iterator[bytes]:
    """The non-empty lines of ``handle``, last line first, reading fixed-size blocks from the end."""
    handle.seek(0, os.SEEK_END)
    position = handle.tell()
    tail = b""
    while position > 0:
        step = min(_READ_BLOCK, position)
        position -= step
        handle.seek(position)
        parts = (handle.read(step) + tail).split(b"\n")
        tail = parts[0]
        for line in reversed(parts[1:]):
            if line:
                yield line
    if tail:
        yield tail
