"""The request context: set for a block, reset after it, separate per asyncio task."""

from __future__ import annotations

import asyncio

from sealgate.detectors.context import RequestContext, current_context, request_context


def test_context_is_set_inside_the_block_and_reset_after() -> None:
    assert current_context() is None
    with request_context(host=" Shop.Example:8080 ", referer="https://x/") as context:
        assert current_context() == context == RequestContext("shop.example:8080", "https://x/")
        with request_context(host="inner"):
            assert current_context() == RequestContext("inner", None)
        assert current_context() == context
    assert current_context() is None


async def test_concurrent_tasks_see_their_own_context() -> None:
    async def one(host: str) -> str:
        with request_context(host=host):
            await asyncio.sleep(0.01)
            context = current_context()
            assert context is not None
            return context.host

    assert await asyncio.gather(one("a.example"), one("b.example")) == ["a.example", "b.example"]


def test_a_repeated_host_and_referer_share_one_context_and_others_do_not() -> None:
    with request_context(host="Shop.Example", referer="https://shop.example/cart") as first:
        pass
    with request_context(host="Shop.Example", referer="https://shop.example/cart") as again:
        assert again is first
    with request_context(host="Shop.Example", referer="https://evil.example/") as other:
        assert other is not first and other.referer == "https://evil.example/"
    long_referer = "https://shop.example/?" + "a" * 4096
    with request_context(host="Shop.Example", referer=long_referer) as one:
        pass
    with request_context(host="Shop.Example", referer=long_referer) as two:
        assert two == one and two is not one  # too long to be kept: built each time, still equal
