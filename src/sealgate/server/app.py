"""``build_app(config)``: the gateway's ASGI app, its pipeline and its lifecycle.

Startup opens the audit sink and the upstream pool; shutdown closes them after in-flight
requests have finished (uvicorn stops accepting first, then waits up to
``server.graceful_timeout``).
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field

from sealgate.config.model import SealgateConfig
from sealgate.observability.logging import AuditObserver
from sealgate.observability.metrics import MetricsObserver
from sealgate.openapi.document import OpenAPIDocument, load_document
from sealgate.pipeline.chain import AppEndpoint, ASGIApp, Endpoint, ExchangeHandler, GatewayApp, Pipeline
from sealgate.protections import build_protections
from sealgate.storage.base import AuditSink
from sealgate.storage.factory import build_audit_sink
from sealgate.upstream.forwarder import Forwarder

__all__ = ["Gateway", "build_app", "build_gateway"]

log = logging.getLogger("sealgate.server")

Step = Callable[[], Awaitable[None]]


@dataclass
class Gateway:
    """Everything one worker runs: the pipeline (possibly wrapped by the tunnel) and its resources."""

    config: SealgateConfig
    pipeline: Pipeline
    handler: ExchangeHandler
    audit_sink: AuditSink
    document: OpenAPIDocument | None
    startup: list[Step] = field(default_factory=list)
    shutdown: list[Step] = field(default_factory=list)

    def asgi(self, inner_app: ASGIApp | None = None) -> GatewayApp:
        """The ASGI app serving this gateway (``inner_app``: forward its lifespan events too)."""
        return GatewayApp(
            self.handler,
            limits=self.config.limits,
            on_startup=self.startup,
            on_shutdown=self.shutdown,
            inner_app=inner_app,
        )


def build_gateway(config: SealgateConfig, app: ASGIApp | None = None) -> Gateway:
    """Build the pipeline for ``config`` in front of the upstream, or in front of ``app`` if given."""
    document = load_document(config.routing.spec) if config.routing.spec is not None else None
    protections = build_protections(config, document)
    sink = build_audit_sink(config.audit)
    endpoint: Endpoint
    startup: list[Step] = [sink.open]
    shutdown: list[Step] = []
    if app is None:
        forwarder = Forwarder(config.upstream, config.limits)
        endpoint = forwarder
        startup.append(forwarder.start)
        shutdown.append(forwarder.stop)
    else:
        endpoint = AppEndpoint(app)
    shutdown.append(sink.close)
    pipeline = Pipeline(
        protections,
        endpoint,
        limits=config.limits,
        observers=(AuditObserver(sink, config.observability), MetricsObserver()),
    )
    handler: ExchangeHandler = pipeline
    if config.tunnel.enabled:
        handler = _tunnel_handler(config, pipeline, startup, shutdown)
    for protection in protections:
        for step_name, steps in (("start", startup), ("stop", shutdown)):
            step = getattr(protection, step_name, None)
            if step is not None:
                steps.insert(0 if step_name == "stop" else len(steps), step)
    # Last: the tunnel's bootloader pins the app's scripts by fetching them through the whole
    # pipeline, so every resource and protection must have started first.
    handler_start = getattr(handler, "start", None)
    if handler_start is not None:
        startup.append(handler_start)
    return Gateway(config, pipeline, handler, sink, document, startup, shutdown)


def build_app(config: SealgateConfig) -> GatewayApp:
    """The reverse-proxy ASGI app for ``config`` (what uvicorn serves)."""
    return build_gateway(config).asgi()


def _tunnel_handler(
    config: SealgateConfig, pipeline: Pipeline, startup: list[Step], shutdown: list[Step]
) -> ExchangeHandler:
    from pathlib import Path

    from sealgate.secrets.resolve import SecretRef
    from sealgate.storage.factory import build_replay_cache
    from sealgate.tunnel.gateway import KeyProvider, TunnelGateway, ensure_key_set

    store = Path(config.secrets.store_path)
    ensure_key_set(config.tunnel, store)  # fail at startup, not at the first tunnel request
    keys = KeyProvider(SecretRef(config.tunnel.keys, store), config.tunnel.key_reload_seconds)
    replay = build_replay_cache(config.tunnel.replay)
    startup.insert(0, replay.open)
    shutdown.append(replay.close)
    bootloader = None
    if config.tunnel.bootloader.enabled:
        from sealgate.tunnel.bootloader import Bootloader

        bootloader = Bootloader.from_config(config.tunnel, store, pipeline, keys)  # creates the signing key
    return TunnelGateway(pipeline, config.tunnel, keys, replay, bootloader)
