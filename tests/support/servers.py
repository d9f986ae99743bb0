"""Real HTTP servers on loopback for tests: an echo upstream (aiohttp) and the gateway (uvicorn)."""

from __future__ import annotations

import asyncio
import contextlib
import socket
from collections.abc import AsyncIterator
from typing import Any

import orjson
import uvicorn
from aiohttp import web

from sealgate.config.load import parse_config_text
from sealgate.config.model import SealgateConfig
from sealgate.server.app import Gateway, build_gateway


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


async def _echo(request: web.Request) -> web.StreamResponse:
    body = await request.read()
    payload = {
        "method": request.method,
        "path": request.path,
        "raw_path": request.raw_path,
        "query_string": request.query_string,
        "headers": [[k, v] for k, v in request.headers.items()],
        "body": body.decode("latin-1"),
        "body_len": len(body),
    }
    return web.Response(body=orjson.dumps(payload), content_type="application/json",
                        headers={"X-Upstream": "echo", "Keep-Alive": "timeout=5"})


async def _slow(request: web.Request) -> web.StreamResponse:
    await asyncio.sleep(float(request.query.get("s", "2")))
    return web.json_response({"slow": True})


async def _big(request: web.Request) -> web.StreamResponse:
    size = int(request.query.get("n", "1000"))
    chunked = request.query.get("chunked") == "1"
    response = web.StreamResponse(headers={"Content-Type": "application/octet-stream"})
    if chunked:
        response.enable_chunked_encoding()
    else:
        response.content_length = size
    await response.prepare(request)
    left = size
    while left:
        n = min(left, 65536)
        await response.write(b"x" * n)
        left -= n
    await response.write_eof()
    return response


def echo_app() -> web.Application:
    app = web.Application(client_max_size=64 * 1024 * 1024)
    app.router.add_route("GET", "/slow", _slow)
    app.router.add_route("GET", "/big", _big)
    app.router.add_route("*", "/{tail:.*}", _echo)
    return app


@contextlib.asynccontextmanager
async def run_echo_upstream() -> AsyncIterator[str]:
    """An echo upstream on a free loopback port; yields its base URL."""
    runner = web.AppRunner(echo_app(), access_log=None)
    await runner.setup()
    port = free_port()
    site = web.TCPSite(runner, "127.0.0.1", port)
    await site.start()
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        await runner.cleanup()


def make_config(text: str = "", **fmt: Any) -> SealgateConfig:
    return parse_config_text(text.format(**fmt) if fmt else text, "test config", env={})


@contextlib.asynccontextmanager
async def run_gateway(config: SealgateConfig) -> AsyncIterator[tuple[str, Gateway]]:
    """The real gateway under uvicorn (httptools) in this event loop; yields (base URL, gateway)."""
    port = free_port()
    gateway = build_gateway(config)
    server = uvicorn.Server(
        uvicorn.Config(
            gateway.asgi(), host="127.0.0.1", port=port, http="httptools", lifespan="on",
            access_log=False, log_level="warning", server_header=False, date_header=False, proxy_headers=False,
        )
    )
    server.capture_signals = contextlib.nullcontext  # type: ignore[method-assign,assignment]
    task = asyncio.create_task(server.serve())
    for _ in range(200):
        if server.started:
            break
        if task.done():
            task.result()
        await asyncio.sleep(0.01)
    try:
        yield f"http://127.0.0.1:{port}", gateway
    finally:
        server.should_exit = True
        await task
