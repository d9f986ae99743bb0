"""A loopback test gateway for the browser tests: static files, the OHTTP tunnel and the bootloader pages.

It runs in its own thread with its own event loop, so the tests can drive Chromium with Playwright's
synchronous API. The tunnel uses the real Python side (``sealgate.tunnel.ohttp`` and ``bhttp``) to
decapsulate the browser's requests and encapsulate the answers of a tiny inner app; everything the
server sees is recorded in :class:`GatewayState` for the tests to assert on.
"""

from __future__ import annotations

import asyncio
import json
import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from aiohttp import web

from sealgate.tunnel import bhttp, hpke, ohttp

STATIC = Path(__file__).resolve().parents[2] / "src" / "sealgate" / "tunnel" / "static"
REPLAY_PROBLEM = "https://sealgate.dev/problems/replay"
BLANK = b"<!doctype html><meta charset=utf-8><title>blank</title><body></body>"


def problem(status: int, type_: str, title: str = "tunnel problem") -> web.Response:
    body = json.dumps({"type": type_, "title": title, "status": status}).encode()
    return web.Response(status=status, body=body, content_type="application/problem+json")


@dataclass
class Plain:
    """A response served outside the tunnel."""

    body: bytes
    content_type: str = "text/html"
    headers: dict[str, str] = field(default_factory=dict)
    status: int = 200


@dataclass
class GatewayState:
    """What the gateway serves and what it has seen; reset before every test."""

    accepting: dict[int, ohttp.GatewayKey] = field(default_factory=dict)
    published: list[ohttp.GatewayKey] = field(default_factory=list)
    keys_override: bytes | None = None
    key_fetches: int = 0
    tunnel_posts: list[bytes] = field(default_factory=list)
    inner: list[bhttp.BhttpRequest] = field(default_factory=list)
    plain_paths: list[str] = field(default_factory=list)
    reject_replays: int = 0
    tunnel_answers: list[web.Response] = field(default_factory=list)
    pages: dict[str, Plain] = field(default_factory=dict)
    tunneled_files: dict[str, bytes] = field(default_factory=dict)
    reports: list[dict[str, Any]] = field(default_factory=list)

    def rotate(self, key_id: int) -> ohttp.GatewayKey:
        """Replace the gateway key by a fresh one: only the new key decrypts and is published."""
        key = ohttp.GatewayKey.create(key_id, hpke.KemKeyPair.generate())
        self.accepting = {key_id: key}
        self.published = [key]
        return key

    def key_list(self) -> bytes:
        return self.keys_override if self.keys_override is not None else ohttp.encode_key_configs(
            k.config for k in self.published
        )


def _inner_app(state: GatewayState, req: bhttp.BhttpRequest) -> bhttp.BhttpResponse:
    path = req.path.split("?", 1)[0]
    if path in state.tunneled_files:
        return bhttp.BhttpResponse(200, [(b"content-type", b"text/javascript")], state.tunneled_files[path])
    if path == "/api/empty":
        return bhttp.BhttpResponse(204, [(b"x-empty", b"yes")])
    if path.startswith("/api/"):
        query = dict(p.split("=", 1) for p in req.path.partition("?")[2].split("&") if "=" in p)
        payload = {
            "method": req.method,
            "scheme": req.scheme,
            "authority": req.authority,
            "path": req.path,
            "headers": [[n.decode("latin-1"), v.decode("latin-1")] for n, v in req.headers],
            "body": req.body.decode("latin-1"),
        }
        headers = [(b"content-type", b"application/json"), (b"x-inner", b"tunnel"), (b"set-cookie", b"a=b")]
        return bhttp.BhttpResponse(int(query.get("status", "200")), headers, json.dumps(payload).encode())
    return bhttp.BhttpResponse(404, [(b"content-type", b"text/plain")], b"not found")


def build_app(holder: ThreadedGateway) -> web.Application:
    """The gateway app; handlers read ``holder.state`` per request so that tests can reset it."""

    async def static(request: web.Request) -> web.StreamResponse:
        name = request.match_info["name"]
        if name not in {"sealgate-client.js", "bootloader.js"}:
            raise web.HTTPNotFound()
        return web.Response(body=(STATIC / name).read_bytes(), content_type="text/javascript")

    async def keys(request: web.Request) -> web.StreamResponse:
        holder.state.key_fetches += 1
        return web.Response(body=holder.state.key_list(), content_type=ohttp.KEYS_MEDIA_TYPE)

    async def tunnel(request: web.Request) -> web.StreamResponse:
        state = holder.state
        body = await request.read()
        state.tunnel_posts.append(body)
        if request.content_type != ohttp.REQUEST_MEDIA_TYPE:
            return problem(415, "about:blank", "wrong media type")
        if state.tunnel_answers:
            return state.tunnel_answers.pop(0)
        if state.reject_replays:
            state.reject_replays -= 1
            return problem(400, REPLAY_PROBLEM, "replayed request")
        try:
            inner, ctx = ohttp.decapsulate_request(state.accepting, body)
        except ohttp.UnknownKeyError:
            return problem(400, ohttp.PROBLEM_TYPE_KEY, "unknown key")
        except ohttp.OhttpError:
            return problem(400, "about:blank", "bad message")
        req = bhttp.decode_request(inner)
        state.inner.append(req)
        answer = bhttp.encode_response(_inner_app(state, req))
        return web.Response(body=ohttp.encapsulate_response(ctx, answer), content_type=ohttp.RESPONSE_MEDIA_TYPE)

    async def report(request: web.Request) -> web.StreamResponse:
        holder.state.reports.append(await request.json())
        return web.Response(status=204)

    async def other(request: web.Request) -> web.StreamResponse:
        state = holder.state
        if request.method == "GET" and request.path in state.pages:
            page = state.pages[request.path]
            return web.Response(status=page.status, body=page.body, content_type=page.content_type,
                                headers=page.headers)
        if request.path == "/blank.html":
            return web.Response(body=BLANK, content_type="text/html")
        if request.path == "/favicon.ico":
            raise web.HTTPNotFound()
        state.plain_paths.append(request.path)  # anything else that arrived outside the tunnel
        return web.json_response({"plain": True, "path": request.path})

    app = web.Application()
    app.router.add_get("/static/{name}", static)
    app.router.add_get("/.well-known/ohttp-gateway", keys)
    app.router.add_post("/.sealgate/tunnel", tunnel)
    app.router.add_post("/report", report)
    app.router.add_route("*", "/{tail:.*}", other)
    return app


class ThreadedGateway:
    """Runs :func:`build_app` on 127.0.0.1 in a background thread; ``base`` is its URL."""

    def __init__(self) -> None:
        self.state = GatewayState()
        self.loop = asyncio.new_event_loop()
        self.base = ""
        self._runner: web.AppRunner | None = None
        self._thread = threading.Thread(target=self._run, name="browser-test-gateway", daemon=True)
        self._ready = threading.Event()

    def reset(self) -> GatewayState:
        """A fresh state with one gateway key (id 1); returns it."""
        state = GatewayState()
        state.rotate(1)
        self.state = state
        return state

    def _run(self) -> None:
        asyncio.set_event_loop(self.loop)
        self.loop.run_until_complete(self._start())
        self._ready.set()
        self.loop.run_forever()
        # Closed here, in the loop's own thread: the main thread may have Playwright's loop running.
        self.loop.run_until_complete(self.loop.shutdown_asyncgens())
        self.loop.close()

    async def _start(self) -> None:
        self._runner = web.AppRunner(build_app(self), access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        host, port = self._runner.addresses[0][:2]
        self.base = f"http://{host}:{port}"

    def start(self) -> ThreadedGateway:
        self._thread.start()
        if not self._ready.wait(10):
            raise RuntimeError("test gateway did not start")
        self.reset()
        return self

    def stop(self) -> None:
        if self._runner is not None:
            asyncio.run_coroutine_threadsafe(self._runner.cleanup(), self.loop).result(10)
        self.loop.call_soon_threadsafe(self.loop.stop)
        self._thread.join(10)
