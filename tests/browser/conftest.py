"""Fixtures for the browser tests: Debian's Chromium driven by Playwright (sync API) and a loopback gateway.

Chromium is never downloaded: the tests use /usr/bin/chromium and are skipped when it or Playwright is
missing. WebCrypto needs a secure context, so pages come from http://127.0.0.1:PORT, never about:blank.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from tests.browser._server import GatewayState, ThreadedGateway
from tests.support.browser import browser_context, launch_chromium  # noqa: F401  # the "context" fixture


@pytest.fixture(scope="package")
def gateway() -> Iterator[ThreadedGateway]:
    server = ThreadedGateway().start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture(scope="package")
def browser() -> Iterator[Any]:
    # Package scope: Playwright stops once tests/browser is done, before other packages' asyncio tests.
    yield from launch_chromium()


@pytest.fixture
def state(gateway: ThreadedGateway) -> GatewayState:
    """A fresh gateway state (one key, id 1) for this test."""
    return gateway.reset()


@pytest.fixture
def page(context: Any, gateway: ThreadedGateway, state: GatewayState) -> Any:
    """A blank same-origin page (secure context) with the gateway's fresh state."""
    pg = context.new_page()
    pg.errors = []  # uncaught page errors, for assertions and debugging
    pg.on("pageerror", lambda exc: pg.errors.append(str(exc)))
    pg.goto(f"{gateway.base}/blank.html")
    return pg


@pytest.fixture(scope="module")
def js_page(browser: Any, gateway: ThreadedGateway) -> Iterator[Any]:
    """One blank page per module for pure-function tests (vectors) that need no fresh gateway state."""
    ctx = browser.new_context()
    try:
        pg = ctx.new_page()
        pg.goto(f"{gateway.base}/blank.html")
        yield pg
    finally:
        ctx.close()
