"""Debian's Chromium under Playwright, launched the way the project's browser tests need it."""

from __future__ import annotations

import os
from collections.abc import Iterator
from typing import Any

import pytest

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]


def launch_chromium() -> Iterator[Any]:
    """Yield a headless Chromium (a fixture body). Missing Chromium fails: `make test` installs it."""
    from playwright import sync_api

    if not os.access(CHROMIUM, os.X_OK):
        pytest.fail(f"{CHROMIUM} is not installed; `make test` installs it (scripts/install-system-packages.sh)")
    pw = sync_api.sync_playwright().start()
    try:
        chromium = pw.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
        try:
            yield chromium
        finally:
            chromium.close()
    finally:
        pw.stop()


@pytest.fixture(name="context")
def browser_context(browser: Any) -> Iterator[Any]:
    """A fresh browser context per test (cookies, storage), closed afterwards."""
    ctx = browser.new_context()
    try:
        yield ctx
    finally:
        ctx.close()
