"""The admin ASGI app: ``/healthz``, ``/readyz``, ``/metrics``. Bound to 127.0.0.1 by default.

It is not part of the request pipeline (no protections run here), so it answers from a tiny
router of its own rather than through ``pipeline/chain.py``.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any
from urllib.parse import urlsplit

import orjson

from sealgate import __version__
from sealgate.observability.metrics import METRICS_CONTENT_TYPE, render_metrics

__all__ = ["AdminApp", "local_probe_address", "tcp_reachable"]

Scope = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[MutableMapping[str, Any]]]
Send = Callable[[MutableMapping[str, Any]], Awaitable[None]]


async def tcp_reachable(host: str, port: int, timeout: float = 1.0) -> bool:
    """True if a TCP connection to ``host:port`` opens within ``timeout`` seconds."""
    try:
        _, writer = await asyncio.wait_for(asyncio.open_connection(host, port), timeout)
    except (TimeoutError, OSError):
        return False
    writer.close()
    with contextlib.suppress(OSError):
        await writer.wait_closed()
    return True


def local_probe_address(host: str) -> str:
    """The address to probe a server bound to ``host`` (a wildcard bind is probed on loopback)."""
    return "127.0.0.1" if host in ("0.0.0.0", "::", "") else host  # noqa: S104  # a comparison, not a bind


class AdminApp:
    """Health (process up), readiness (gateway port and upstreams reachable) and metrics."""

    def __init__(self, gateway: tuple[str, int], upstreams: tuple[str, ...]) -> None:
        self.gateway = gateway
        self.upstreams = upstreams
        self.started = time.time()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            return
        path = scope["path"]
        if path == "/healthz":
            body = {"status": "ok", "version": __version__, "uptime_s": round(time.time() - self.started, 1)}
            await _send(send, 200, orjson.dumps(body), "application/json")
        elif path == "/readyz":
            status, body = await self.readiness()
            await _send(send, status, orjson.dumps(body), "application/json")
        elif path == "/metrics":
            await _send(send, 200, render_metrics(), METRICS_CONTENT_TYPE)
        else:
            problem = {"type": "about:blank", "title": "Not Found", "status": 404,
                       "detail": "admin endpoints: /healthz, /readyz, /metrics"}
            await _send(send, 404, orjson.dumps(problem), "application/problem+json")

    async def readiness(self) -> tuple[int, dict[str, Any]]:
        """200 when the gateway port and at least one upstream accept connections, else 503."""
        checks: dict[str, bool] = {}
        host, port = self.gateway
        checks["gateway"] = await tcp_reachable(local_probe_address(host), port)
        for url in self.upstreams:
            parts = urlsplit(url)
            default = 443 if parts.scheme == "https" else 80
            checks[f"upstream {parts.hostname}:{parts.port or default}"] = await tcp_reachable(
                parts.hostname or "", parts.port or default
            )
        upstream_ok = not self.upstreams or any(v for k, v in checks.items() if k.startswith("upstream"))
        ready = checks["gateway"] and upstream_ok
        return (200 if ready else 503), {"status": "ready" if ready else "not ready", "checks": checks}


async def _send(send: Send, status: int, body: bytes, content_type: str) -> None:
    headers = [(b"content-type", content_type.encode()), (b"content-length", str(len(body)).encode()),
               (b"cache-control", b"no-store")]
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body})
