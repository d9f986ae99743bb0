"""The demo stack on loopback for end-to-end tests: the sample API, optionally a static front, and the gateway.

Everything runs on one event loop in a background thread, so tests can drive Chromium with Playwright's
synchronous API. The gateway is the real one (``tests.support.servers.run_gateway``: uvicorn, the full
pipeline, the tunnel and the bootloader) with the config ``sealgate demo`` runs (``demo_config``).

With ``static_copy`` the gateway's upstream is a small front server that serves the web app (``/`` and
``/static/*``) from that directory, so a test can change a script after the gateway pinned it, and passes
everything else to the sample API.
"""

from __future__ import annotations

import asyncio
import contextlib
import shutil
import sqlite3
import threading
from collections.abc import Callable, Coroutine
from pathlib import Path
from typing import Any, TypeVar

import aiohttp
import orjson
from aiohttp import web

from sealgate.cli.commands.demo import demo_config
from sealgate.config.model import SealgateConfig
from sealgate.demo import STATIC_DIR
from sealgate.demo.sample_api import start_sample_api
from sealgate.server.app import Gateway
from tests.support.servers import free_port, run_gateway

T = TypeVar("T")

_HOP = {"connection", "keep-alive", "transfer-encoding", "host", "content-length", "upgrade", "te", "trailer"}


def copy_static(target: Path) -> Path:
    """A private copy of the demo web app's files (``index.html``, ``app.js``, ``app.css``)."""
    shutil.copytree(STATIC_DIR, target)
    return target


async def _front(static: Path, api_url: str) -> tuple[web.AppRunner, int]:
    session = aiohttp.ClientSession(auto_decompress=False)

    async def index(request: web.Request) -> web.StreamResponse:
        return web.Response(body=(static / "index.html").read_bytes(), content_type="text/html")

    async def asset(request: web.Request) -> web.StreamResponse:
        name = request.match_info["name"]
        path = static / name
        if "/" in name or not path.is_file():
            raise web.HTTPNotFound()
        kinds = {".js": "text/javascript", ".css": "text/css", ".html": "text/html"}
        return web.Response(body=path.read_bytes(), content_type=kinds.get(path.suffix, "application/octet-stream"))

    async def proxy(request: web.Request) -> web.StreamResponse:
        headers = {k: v for k, v in request.headers.items() if k.lower() not in _HOP}
        async with session.request(request.method, api_url + request.path_qs, headers=headers,
                                   data=await request.read(), allow_redirects=False) as upstream:
            body = await upstream.read()
            out = {k: v for k, v in upstream.headers.items() if k.lower() not in _HOP}
            return web.Response(status=upstream.status, headers=out, body=body)

    async def close_session(app: web.Application) -> None:
        await session.close()

    app = web.Application()
    app.router.add_get("/", index)
    app.router.add_get("/static/{name}", asset)
    app.router.add_route("*", "/{tail:.*}", proxy)
    app.on_cleanup.append(close_session)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    port = free_port()
    await web.TCPSite(runner, "127.0.0.1", port).start()
    return runner, port


class Stack:
    """The sample API (+ optional static front) and the gateway; ``base`` is the gateway's URL."""

    def __init__(self, workdir: Path, *, static_copy: Path | None = None,
                 tweak: Callable[[SealgateConfig], SealgateConfig] | None = None) -> None:
        self.workdir = workdir
        workdir.mkdir(parents=True, exist_ok=True)
        self.static_copy = static_copy
        self.tweak = tweak
        self.db = workdir / "sample-api.db"
        self.base = ""
        self.api_url = ""
        self.gateway: Gateway | None = None
        self.config: SealgateConfig | None = None
        self._loop = asyncio.new_event_loop()
        self._ready = threading.Event()
        self._stop: asyncio.Event | None = None
        self._error: BaseException | None = None
        self._thread = threading.Thread(target=self._run, name="e2e-stack", daemon=True)

    # -- lifecycle ---------------------------------------------------------------------------------
    def start(self) -> Stack:
        self._thread.start()
        if not self._ready.wait(30):
            raise RuntimeError("the e2e stack did not start")
        if self._error is not None:
            raise self._error
        return self

    def stop(self) -> None:
        """Stop the gateway and the servers (idempotent)."""
        if self._stop is not None and self._thread.is_alive():
            self._loop.call_soon_threadsafe(self._stop.set)
        if self._thread.is_alive():
            self._thread.join(30)

    def _run(self) -> None:
        asyncio.set_event_loop(self._loop)
        try:
            self._loop.run_until_complete(self._main())
        except BaseException as exc:
            self._error = exc
            self._ready.set()
        finally:
            self._loop.run_until_complete(self._loop.shutdown_asyncgens())
            self._loop.close()

    async def _main(self) -> None:
        self._stop = asyncio.Event()
        api = await start_sample_api("127.0.0.1", 0, self.db)
        front: web.AppRunner | None = None
        try:
            self.api_url = api.url
            upstream_port = api.port
            if self.static_copy is not None:
                front, upstream_port = await _front(self.static_copy, api.url)
            config = demo_config(free_port(), upstream_port, free_port(), self.workdir)
            if self.tweak is not None:
                config = self.tweak(config)
            self.config = config
            async with run_gateway(config) as (base, gateway):
                self.base, self.gateway = base, gateway
                self._ready.set()
                await self._stop.wait()
        finally:
            if front is not None:
                await front.cleanup()
            await api.close()

    # -- helpers -----------------------------------------------------------------------------------
    def call(self, factory: Callable[[], Coroutine[Any, Any, T]], timeout: float = 30.0) -> T:
        """Run a coroutine on the stack's loop and return its result."""
        return asyncio.run_coroutine_threadsafe(factory(), self._loop).result(timeout)

    def request(self, method: str, path: str, *, data: bytes | None = None,
                headers: dict[str, str] | None = None, base: str | None = None) -> tuple[int, dict[str, str], bytes]:
        """One HTTP request with aiohttp (no browser headers): status, headers (lower-case), body."""

        async def go() -> tuple[int, dict[str, str], bytes]:
            async with aiohttp.ClientSession(auto_decompress=False) as session:
                async with session.request(method, (base or self.base) + path, data=data, headers=headers,
                                           allow_redirects=False) as resp:
                    return resp.status, {k.lower(): v for k, v in resp.headers.items()}, await resp.read()

        return self.call(go)

    def audit(self) -> list[dict[str, Any]]:
        """Every audit event so far (the sink is flushed first)."""
        gateway = self.gateway
        assert gateway is not None

        async def flush() -> None:
            await gateway.audit_sink.flush()

        self.call(flush)
        path = self.workdir / "audit.jsonl"
        if not path.exists():
            return []
        return [orjson.loads(line) for line in path.read_text().splitlines() if line.strip()]

    def chat_turns(self, message: str) -> int:
        """How many chat turns with exactly this message the sample API stored."""
        with contextlib.closing(sqlite3.connect(self.db)) as conn:
            return int(conn.execute("SELECT COUNT(*) FROM chat_turns WHERE message = ?", (message,)).fetchone()[0])

    def articles_table_exists(self) -> bool:
        with contextlib.closing(sqlite3.connect(self.db)) as conn:
            row = conn.execute("SELECT name FROM sqlite_master WHERE type = 'table' AND name = 'articles'")
            return row.fetchone() is not None
