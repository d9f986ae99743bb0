"""Shared fixtures: an echo upstream on loopback and a helper to start gateways."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from tests.support.servers import run_echo_upstream


@pytest.fixture
async def upstream() -> AsyncIterator[str]:
    async with run_echo_upstream() as url:
        yield url
