"""The ReplayCache contract, run against every backend (see conftest.py).

The tunnel relies on ``add_if_absent`` to refuse a replayed OHTTP request: exactly one of any
number of racing attempts may win, across tasks, processes and nodes, and an expired token
must be taken over by exactly one attempt too.
"""

from __future__ import annotations

import asyncio
import math
import os

import pytest
import redis.asyncio as aioredis

from sealgate.errors import StorageError
from sealgate.storage.base import ReplayCache
from sealgate.storage.memory import MemoryReplayCache
from sealgate.storage.postgres import PostgresReplayCache
from sealgate.storage.redis import RedisReplayCache
from sealgate.storage.sqlite import SqliteReplayCache
from tests.contracts.storage_contract_helpers import REDIS_URL, ReplayBackend


async def test_implements_the_protocol(replay_cache: ReplayCache) -> None:
    assert isinstance(replay_cache, ReplayCache)


async def test_first_add_wins_then_refused(replay_cache: ReplayCache) -> None:
    token = os.urandom(32)
    assert await replay_cache.add_if_absent(token, 30) is True
    assert await replay_cache.add_if_absent(token, 30) is False
    assert await replay_cache.add_if_absent(token, 30) is False


async def test_tokens_compare_exactly(replay_cache: ReplayCache) -> None:
    # Near misses of one token: each is a different token and must be accepted once.
    tokens = [b"abc", b"abd", b"ab", b"abc\x00", b"\x00abc", b"ABC", b"abc ", b"*", b"abc*", b"\xff\xfe", b""]
    for token in tokens:
        assert await replay_cache.add_if_absent(token, 30) is True, token
    for token in tokens:
        assert await replay_cache.add_if_absent(token, 30) is False, token


async def test_token_expires_after_ttl(replay_cache: ReplayCache) -> None:
    token = os.urandom(16)
    assert await replay_cache.add_if_absent(token, 0.3) is True
    assert await replay_cache.add_if_absent(token, 0.3) is False
    await asyncio.sleep(0.6)
    assert await replay_cache.add_if_absent(token, 30) is True  # expired: accepted again
    assert await replay_cache.add_if_absent(token, 30) is False  # and remembered for the new ttl


async def test_token_is_kept_until_its_ttl(replay_cache: ReplayCache) -> None:
    token = os.urandom(16)
    assert await replay_cache.add_if_absent(token, 30) is True
    await asyncio.sleep(0.4)
    # A later attempt with a short ttl does not shorten the first one's window.
    assert await replay_cache.add_if_absent(token, 0.01) is False
    await asyncio.sleep(0.1)
    assert await replay_cache.add_if_absent(token, 30) is False


async def test_exactly_one_of_concurrent_adds_wins(replay_cache: ReplayCache) -> None:
    token = os.urandom(32)
    results = await asyncio.gather(*(replay_cache.add_if_absent(token, 30) for _ in range(50)))
    assert results.count(True) == 1
    assert results.count(False) == 49


async def test_exactly_one_concurrent_add_takes_over_an_expired_token(replay_cache: ReplayCache) -> None:
    token = os.urandom(32)
    assert await replay_cache.add_if_absent(token, 0.2) is True
    await asyncio.sleep(0.5)
    results = await asyncio.gather(*(replay_cache.add_if_absent(token, 30) for _ in range(50)))
    assert results.count(True) == 1


async def test_many_distinct_tokens_concurrently(replay_cache: ReplayCache) -> None:
    tokens = [os.urandom(16) for _ in range(200)]
    assert all(await asyncio.gather(*(replay_cache.add_if_absent(t, 30) for t in tokens)))
    assert not any(await asyncio.gather(*(replay_cache.add_if_absent(t, 30) for t in tokens)))


@pytest.mark.parametrize("ttl", [0, -1, math.nan, math.inf, -math.inf])
async def test_invalid_ttl_is_refused(replay_cache: ReplayCache, ttl: float) -> None:
    token = os.urandom(8)
    with pytest.raises(ValueError, match="ttl"):
        await replay_cache.add_if_absent(token, ttl)
    assert await replay_cache.add_if_absent(token, 30) is True  # nothing was stored


async def test_use_outside_open_close_is_an_error(replay_backend: ReplayBackend) -> None:
    cache = replay_backend.make()
    with pytest.raises(StorageError):
        await cache.add_if_absent(b"t", 30)
    await cache.open()
    assert await cache.add_if_absent(b"t", 30) is True
    await cache.close()
    with pytest.raises(StorageError):
        await cache.add_if_absent(b"u", 30)
    await cache.close()  # idempotent


# -- backends shared by several processes or nodes ------------------------------------------


async def test_nodes_racing_on_one_token_exactly_one_wins(shared_replay_backend: ReplayBackend) -> None:
    nodes = [shared_replay_backend.make() for _ in range(3)]
    for node in nodes:
        await node.open()
    for _round in range(5):
        token = os.urandom(32)
        results = await asyncio.gather(*(node.add_if_absent(token, 30) for node in nodes for _ in range(17)))
        assert results.count(True) == 1


async def test_nodes_racing_on_an_expired_token_exactly_one_wins(
    shared_replay_backend: ReplayBackend,
) -> None:
    nodes = [shared_replay_backend.make() for _ in range(3)]
    for node in nodes:
        await node.open()
    token = os.urandom(32)
    assert await nodes[0].add_if_absent(token, 0.2) is True
    await asyncio.sleep(0.5)
    results = await asyncio.gather(*(node.add_if_absent(token, 30) for node in nodes for _ in range(17)))
    assert results.count(True) == 1


async def test_token_survives_reopen(shared_replay_backend: ReplayBackend) -> None:
    token = os.urandom(32)
    first = shared_replay_backend.make()
    await first.open()
    assert await first.add_if_absent(token, 30) is True
    await first.close()
    second = shared_replay_backend.make()
    await second.open()
    assert await second.add_if_absent(token, 30) is False


# -- backend specifics ------------------------------------------------------------------------


async def test_memory_cache_prunes_expired_tokens_on_insert() -> None:
    cache = MemoryReplayCache(max_entries=100)
    await cache.open()
    for i in range(100):
        assert await cache.add_if_absent(b"old-%d" % i, 0.1)
    await asyncio.sleep(0.3)
    for i in range(100):
        assert await cache.add_if_absent(b"new-%d" % i, 30)
    assert len(cache) == 100  # the old ones are gone, memory stays bounded
    await cache.close()


async def test_memory_cache_full_of_live_tokens_fails_closed() -> None:
    cache = MemoryReplayCache(max_entries=10)
    await cache.open()
    for i in range(10):
        assert await cache.add_if_absent(b"live-%d" % i, 30)
    with pytest.raises(StorageError, match="max_entries"):
        await cache.add_if_absent(b"one-too-many", 30)
    # Nothing was forgotten to make room: every live token is still refused.
    for i in range(10):
        assert await cache.add_if_absent(b"live-%d" % i, 30) is False
    await cache.close()


async def test_sqlite_prune_deletes_only_expired_tokens(tmp_path: os.PathLike[str]) -> None:
    cache = SqliteReplayCache(os.path.join(tmp_path, "r.db"))
    await cache.open()
    await cache.add_if_absent(b"short", 0.1)
    await cache.add_if_absent(b"long", 30)
    await asyncio.sleep(0.3)
    assert await cache.prune() == 1
    assert await cache.add_if_absent(b"long", 30) is False
    assert await cache.add_if_absent(b"short", 30) is True
    await cache.close()


@pytest.mark.postgres
async def test_postgres_prune_deletes_only_expired_tokens(postgres_replay_backend: ReplayBackend) -> None:
    cache = postgres_replay_backend.make()
    assert isinstance(cache, PostgresReplayCache)
    await cache.open()
    await cache.add_if_absent(b"short", 0.1)
    await cache.add_if_absent(b"long", 30)
    await asyncio.sleep(0.3)
    assert await cache.prune() == 1
    assert await cache.add_if_absent(b"long", 30) is False
    assert await cache.add_if_absent(b"short", 30) is True


@pytest.mark.redis
async def test_redis_keys_carry_the_ttl_and_prefix(redis_replay_backend: ReplayBackend) -> None:
    cache = redis_replay_backend.make()
    await cache.open()
    assert isinstance(cache, RedisReplayCache)
    assert await cache.add_if_absent(b"tok\x00en", 5)
    assert await cache.add_if_absent(b"sub-ms", 0.0001)  # rounds up to 1 ms, never to 0
    client = aioredis.Redis.from_url(REDIS_URL)
    try:
        ttl_ms = await client.pttl(cache.key_prefix + b"tok\x00en")
        assert 0 < ttl_ms <= 5000
        other = RedisReplayCache(REDIS_URL, key_prefix=cache.key_prefix.decode() + "other:")
        await other.open()
        assert await other.add_if_absent(b"tok\x00en", 5) is True  # prefixes isolate deployments
        await other.close()
        await client.delete(cache.key_prefix + b"other:tok\x00en")
    finally:
        await client.aclose()
