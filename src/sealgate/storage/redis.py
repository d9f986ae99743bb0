"""Redis replay cache: ``SET <prefix><token> 1 NX PX <ttl ms>`` (redis-py asyncio client).

``SET … NX`` is atomic on the server, so of any number of nodes racing on one token exactly one
gets ``OK``; expiry is Redis's own (the key vanishes after ``ttl``), so nothing needs pruning
and every node uses the server's clock. At most ``max_connections`` commands are in flight; more
wait for a connection (up to ``socket_timeout``). Keys are ``key_prefix`` followed by the raw token
bytes (Redis keys are binary safe), so several deployments can share a Redis by prefix.

Redis must keep these keys: use a ``maxmemory-policy`` of ``noeviction`` or a ``volatile-*``
policy that cannot evict them early, and persistence (AOF) if a Redis restart must not reopen
the replay window. The URL may hold a password; it is never logged.

Example::

    cache = RedisReplayCache("redis://127.0.0.1:6379/0", key_prefix="sealgate:replay:")
    await cache.open()
    assert await cache.add_if_absent(b"enc", ttl_seconds=60)
    await cache.close()
"""

from __future__ import annotations

import math

import redis.asyncio as aioredis
from redis.exceptions import RedisError

from sealgate.errors import StorageError
from sealgate.storage._common import check_ttl

__all__ = ["RedisReplayCache"]


class RedisReplayCache:
    """One-time tokens as Redis keys with a TTL; see the module docstring."""

    def __init__(
        self,
        url: str = "redis://127.0.0.1:6379/0",
        *,
        key_prefix: str = "sealgate:replay:",
        socket_timeout: float = 5.0,
        max_connections: int = 20,
    ) -> None:
        if max_connections < 1:
            raise ValueError("max_connections must be at least 1")
        self._url = url
        self._max_connections = max_connections
        self.key_prefix = key_prefix.encode("utf-8")
        self._socket_timeout = socket_timeout
        self._client: aioredis.Redis | None = None
        self._closed = False

    async def open(self) -> None:
        """Connect and check the server answers (fails fast when Redis is down)."""
        if self._closed:
            raise StorageError("RedisReplayCache: cannot reopen; create a new one")
        if self._client is not None:
            return
        # A blocking pool: a burst of checks waits for a free connection instead of failing.
        pool = aioredis.BlockingConnectionPool.from_url(
            self._url,
            max_connections=self._max_connections,
            timeout=self._socket_timeout,
            socket_timeout=self._socket_timeout,
            socket_connect_timeout=self._socket_timeout,
        )
        client = aioredis.Redis.from_pool(pool)
        try:
            await client.ping()
        except (RedisError, OSError) as exc:
            await client.aclose()
            # RedisError messages name host and port, never the password.
            raise StorageError(f"RedisReplayCache: cannot reach Redis: {type(exc).__name__}: {exc}") from exc
        self._client = client

    async def add_if_absent(self, token: bytes, ttl_seconds: float) -> bool:
        """True if ``token`` was not set (it is now, for ``ttl_seconds``), False if it was."""
        client = self._client
        if client is None:
            raise StorageError("RedisReplayCache: not open")
        check_ttl(ttl_seconds)
        # PX takes whole milliseconds; round up so a token is never forgotten early.
        ttl_ms = max(1, math.ceil(ttl_seconds * 1000))
        try:
            created = await client.set(self.key_prefix + bytes(token), b"1", nx=True, px=ttl_ms)
        except (RedisError, OSError) as exc:
            raise StorageError(f"RedisReplayCache: {type(exc).__name__}: {exc}") from exc
        return bool(created)

    async def close(self) -> None:
        """Close the connection pool. Idempotent."""
        self._closed = True
        client, self._client = self._client, None
        if client is not None:
            await client.aclose()
