"""Fixtures for the end-to-end tests: Debian's Chromium (Playwright, sync API) and the demo stack.

Chromium is never downloaded: the browser tests use /usr/bin/chromium and are skipped when it or
Playwright is missing. Pages come from http://127.0.0.1:PORT, a secure context (WebCrypto works).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.e2e._stack import Stack
from tests.support.browser import browser_context, launch_chromium  # noqa: F401  # the "context" fixture


@pytest.fixture(scope="package")
def browser() -> Iterator[Any]:
    # Package scope: Playwright stops once tests/e2e is done, before other packages' asyncio tests.
    yield from launch_chromium()


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    """The demo stack (sample API + gateway with tunnel and bootloader), shared by a module's tests."""
    running = Stack(tmp_path_factory.mktemp("e2e-stack")).start()
    try:
        yield running
    finally:
        running.stop()


@pytest.fixture
def new_stack(tmp_path: Path) -> Iterator[Callable[..., Stack]]:
    """Start a private stack (``Stack`` keyword arguments); stopped after the test."""
    started: list[Stack] = []

    def make(**kwargs: Any) -> Stack:
        running = Stack(tmp_path / f"stack{len(started)}", **kwargs).start()
        started.append(running)
        return running

    try:
        yield make
    finally:
        for running in started:
            running.stop()


def wait_until(check: Callable[[], Any], timeout: float = 10.0, what: str = "") -> Any:
    """Poll ``check`` until it returns something truthy (Playwright's wait_for_function needs eval, which
    the bootloader's CSP forbids)."""
    end = time.monotonic() + timeout
    while True:
        value = check()
        if value:
            return value
        if time.monotonic() > end:
            raise AssertionError(f"timed out waiting for {what or check}")
        time.sleep(0.05)
