"""Middleware mode: the same pipeline wrapped around your own ASGI app, in-process.

Example::

    from starlette.applications import Starlette
    from sealgate.asgi import Sealgate
    from sealgate.config import load_config

    app = Sealgate(Starlette(routes=[...]), load_config("sealgate.yaml"))

Every protection runs exactly as in reverse-proxy mode; the app's lifespan events still reach it.
"""

from __future__ import annotations

from sealgate.config.model import SealgateConfig
from sealgate.pipeline.chain import ASGIApp, GatewayApp, Receive, Scope, Send
from sealgate.server.app import Gateway, build_gateway

__all__ = ["Sealgate"]


class Sealgate:
    """An ASGI app: ``Sealgate(app, config)`` protects ``app`` with sealgate's pipeline."""

    def __init__(self, app: ASGIApp, config: SealgateConfig | None = None) -> None:
        self.gateway: Gateway = build_gateway(config or SealgateConfig(), app=app)
        self._asgi: GatewayApp = self.gateway.asgi(inner_app=app)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        await self._asgi(scope, receive, send)
